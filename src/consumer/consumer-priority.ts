// The kernel consumer's threads run ahead of ordinary work on a busy machine.
//
// Why: the kernel's ring (4 x 1 MiB per CPU by default) fills in ~40 ms at full speed, and the consumer must
// decode every page it stages (~15 µs a page) while the producer runs. On a machine at load 13-15 (2 CPUs) the
// decoding thread got 13-15% of a CPU for seconds at a time (its /proc schedstat: 0.5 s run against 3 s waiting on
// the run queue), its staging filled and the kernel dropped records. A thread's nice value alone does not help
// there: with autogroups (kernel.sched_autogroup_enabled) the scheduler first shares the CPU between sessions, and a
// thread's nice only counts against the threads of its own session. The daemon runs in its own session (it
// detaches), so that session's nice is raised; without autogroups, the threads' own nice values are.
//
// Contract: `raiseConsumerPriority()`, called on a consumer thread, gives the process's autogroup (only when the
// process leads its own session: never a user's terminal session) or else the calling thread CONSUMER_NICE,
// unless it already is at that or higher. LTT_CONSUMER_NICE=0 turns this off (any other integer from -20 to 19
// replaces -10; anything else is reported in the daemon's log and -10 applies).
// Without the right (not root, no CAP_SYS_NICE) nothing changes. Never throws.

import * as fs from 'node:fs';
import * as os from 'node:os';

const DEFAULT_NICE = -10;

const CONSUMER_NICE = (() => {
  const text = process.env.LTT_CONSUMER_NICE;
  if (text === undefined || text === '') return DEFAULT_NICE;
  const v = Number(text);
  if (Number.isInteger(v) && v >= -20 && v <= 19) return v;
  // The daemon's log: a mistyped setting must not pass for the default unnoticed.
  process.stderr.write(`ltt kernel consumer: LTT_CONSUMER_NICE must be an integer from -20 to 19 (got ${JSON.stringify(text.slice(0, 40))}); using ${DEFAULT_NICE}\n`);
  return DEFAULT_NICE;
})();

function autogroupsOn(): boolean {
  try {
    return fs.readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'latin1').trim() === '1';
  } catch {
    return false;
  }
}

/** Whether this process leads its session (the session id, field 6 of /proc/self/stat, is its pid). */
function leadsSession(): boolean {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]) === process.pid;
  } catch {
    return false;
  }
}

/** The calling thread's id (/proc/thread-self links to PID/task/TID). */
function threadId(): number | undefined {
  try {
    return Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return undefined;
  }
}

export function raiseConsumerPriority(): void {
  if (CONSUMER_NICE === 0) return;
  try {
    if (autogroupsOn()) {
      if (!leadsSession()) return;
      const m = /nice (-?\d+)/.exec(fs.readFileSync('/proc/self/autogroup', 'latin1'));
      if (m && Number(m[1]) > CONSUMER_NICE) fs.writeFileSync('/proc/self/autogroup', String(CONSUMER_NICE));
      return;
    }
    const tid = threadId();
    if (tid !== undefined && os.getPriority(tid) > CONSUMER_NICE) os.setPriority(tid, CONSUMER_NICE);
  } catch {
    // Not allowed (not root): the consumer runs at the priority it has.
  }
}
