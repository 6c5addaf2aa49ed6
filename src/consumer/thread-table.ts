// What the kernel consumer knows about threads, to fill LTTng contexts (pid, ppid, procname, prio, ...) that
// ftrace records do not carry (an ftrace record only has common_pid, the thread id).
//
// Contract: seeded from /proc at session start, refreshed from /proc/TID/stat on a miss (one read per new
// thread, cached), and updated from the events the consumer decodes anyway (sched_switch gives comm and prio,
// sched_process_exec gives a new comm, sched_process_fork a new thread). An update about a thread the table
// does not hold yet reads nothing from /proc (a busy system switches between hundreds of threads, and two /proc
// reads per switch were most of the consumer's system calls): the entry keeps what the event said and is read
// from /proc when first asked for (a thread gone by then keeps the event's comm). Values are what the thread had when
// last seen, not necessarily at the event's instant: contexts are best-effort where LTTng reads them live.

import * as fs from 'node:fs';
import { listThreads } from './statedump.js';
import * as tracefs from '../ftrace/tracefs.js';

export interface ThreadEntry {
  tid: number;
  pid: number;
  ppid: number;
  comm: string;
  /** LTTng convention: prio - 100 (MAX_RT_PRIO), as /proc/PID/stat "priority" already is. */
  prio: number;
  nice: number;
  uid: number;
  gid: number;
  /** Table epoch when last read from /proc (or updated from an event). */
  epoch: number;
}

/** The epoch of an entry only events filled: older than any, so that get() reads it from /proc. */
const UNREAD = -Infinity;

/** Epochs (consumer drains) after which an entry is re-read: about a second at the default 200 ms read timer. */
const REFRESH_EPOCHS = 5;

export class ThreadTable {
  private readonly map = new Map<number, ThreadEntry>();
  private epoch = 0;

  /** Called once per consumer drain: entries older than a few drains are re-read from /proc on next use
   * (exec without a traced sched_process_exec, tid reuse). No clock read per event. */
  tick(): void {
    this.epoch++;
  }

  /** tracefs saved_tgids (tid -> tgid), read at most once per epoch, on a miss. */
  private saved: Map<number, number> | undefined;
  private savedEpoch = NaN;

  /**
   * The thread group of thread `tid` as the kernel saved it: an instance with options/record-tgid set (any
   * tracker's) makes it keep the tgid of each thread that recorded, after the thread is gone.
   */
  private savedTgid(tid: number): number | undefined {
    if (this.savedEpoch !== this.epoch) {
      this.savedEpoch = this.epoch;
      this.saved = new Map();
      try {
        for (const line of tracefs.readText('saved_tgids').split('\n')) {
          const sp = line.indexOf(' ');
          if (sp > 0) this.saved.set(Number(line.slice(0, sp)), Number(line.slice(sp + 1)));
        }
      } catch {
        // No tracefs here, or no such file (older kernels): tid stays the guess.
      }
    }
    const tgid = this.saved!.get(tid);
    return tgid !== undefined && tgid > 0 ? tgid : undefined;
  }

  seed(): void {
    for (const t of listThreads()) {
      this.map.set(t.tid, { tid: t.tid, pid: t.pid, ppid: t.ppid, comm: t.comm, prio: t.prio, nice: t.nice, uid: -1, gid: -1, epoch: this.epoch });
    }
  }

  get(tid: number): ThreadEntry {
    let e = this.map.get(tid);
    if (e === undefined) {
      e = readThread(tid, this.epoch);
      // Gone from /proc: its thread group as the kernel saved it, if it did.
      if (e.comm === '') e.pid = this.savedTgid(tid) ?? tid;
      if (this.map.size > 200000) this.map.clear();
      this.map.set(tid, e);
    } else if (this.epoch - e.epoch > REFRESH_EPOCHS) {
      const fresh = readThread(tid, this.epoch);
      // A thread that is gone keeps what was last known about it; one only events told of (never read), the
      // thread group the kernel saved for it.
      if (fresh.comm !== '') Object.assign(e, fresh);
      else {
        if (e.epoch === UNREAD) e.pid = this.savedTgid(tid) ?? e.pid;
        e.epoch = this.epoch;
      }
    }
    return e;
  }

  /** A thread's comm, as an event saw it (a held thread's is now current: not re-read for a while). */
  setComm(tid: number, comm: string): void {
    const e = this.map.get(tid);
    if (e === undefined) {
      this.unread(tid).comm = comm;
      return;
    }
    if (e.comm !== comm) e.comm = comm;
    if (e.epoch !== UNREAD) e.epoch = this.epoch;
  }

  /** A thread's prio, as an event saw it. */
  setPrio(tid: number, prio: number): void {
    (this.map.get(tid) ?? this.unread(tid)).prio = prio;
  }

  /** A new entry for what events say, read from /proc at its first get() (its epoch is the oldest there is). */
  private unread(tid: number): ThreadEntry {
    const e: ThreadEntry = { tid, pid: tid, ppid: 0, comm: '', prio: 20, nice: 0, uid: -1, gid: -1, epoch: UNREAD };
    if (this.map.size > 200000) this.map.clear();
    this.map.set(tid, e);
    return e;
  }

  fork(parentTid: number, childTid: number, childComm: string): void {
    this.map.delete(childTid);
    const e = this.get(childTid);
    if (e.comm === '') {
      // Gone already: get() took its thread group from the kernel's saved tgids, else its own tid.
      const parent = this.get(parentTid);
      e.comm = childComm;
      // A thread of the parent's process has that process's parent; a new process, the parent's process.
      e.ppid = e.pid === parent.pid && e.pid !== childTid ? parent.ppid : parent.pid;
      e.prio = parent.prio;
    }
  }

  /**
   * A thread's real uid and gid (what LTTng's uid/gid trackers and contexts match), from /proc/TID/status. A thread
   * gone before its records were decoded has its thread group's while the process lives: threads have their
   * process's credentials unless one changed its own with the raw system call (glibc's setuid applies to every
   * thread), and the group is known from /proc or from the kernel's saved tgids (every tracker sets
   * options/record-tgid). Not the forking parent's: a child often changes its own before it runs (login, sudo, a
   * spawn as another user). A process wholly gone before its records were decoded (a short command: records are
   * decoded a page at a time, its last ones at stop) is unknown (-1), which matches no tracker value: LTTng
   * checks the ids in the kernel, ftrace has no such filter.
   */
  ids(tid: number): { uid: number; gid: number } {
    const e = this.get(tid);
    if (e.uid < 0 && !idsFromProc(tid, e) && e.pid !== tid) {
      // The group's entry, from /proc if the process lives (no further fallback: a group is its own leader).
      const group = this.get(e.pid);
      if (group.uid < 0) idsFromProc(e.pid, group);
      e.uid = group.uid;
      e.gid = group.gid;
    }
    return e;
  }
}

/** The real uid and gid of a /proc/TID/status text into `e` (-1 where it has none). */
function readIds(status: string, e: { uid: number; gid: number }): void {
  e.uid = Number(/\nUid:\s*(\d+)/.exec(status)?.[1] ?? -1);
  e.gid = Number(/\nGid:\s*(\d+)/.exec(status)?.[1] ?? -1);
}

/** readIds() of thread `tid` from /proc; false when it is gone. */
function idsFromProc(tid: number, e: { uid: number; gid: number }): boolean {
  try {
    readIds(fs.readFileSync(`/proc/${tid}/status`, 'latin1'), e);
    return true;
  } catch {
    return false;
  }
}

function readThread(tid: number, epoch: number): ThreadEntry {
  try {
    const s = fs.readFileSync(`/proc/${tid}/stat`, 'latin1');
    const open = s.indexOf('(');
    const close = s.lastIndexOf(')');
    const r = s.slice(close + 2).split(' ');
    const e: ThreadEntry = { tid, pid: tid, ppid: Number(r[1]), comm: s.slice(open + 1, close), prio: Number(r[15]), nice: Number(r[16]), uid: -1, gid: -1, epoch };
    try {
      // The same read gives the ids: a thread that is gone when a tracker asks still has them.
      const status = fs.readFileSync(`/proc/${tid}/status`, 'latin1');
      e.pid = Number(/\nTgid:\s*(\d+)/.exec(status)?.[1] ?? tid);
      readIds(status, e);
    } catch {
      // Raced with exit: keep tid as the best guess of the thread group.
    }
    return e;
  } catch {
    return { tid, pid: tid, ppid: 0, comm: '', prio: 20, nice: 0, uid: -1, gid: -1, epoch };
  }
}
