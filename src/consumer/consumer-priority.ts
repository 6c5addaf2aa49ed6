// The kernel consumer's threads run ahead of ordinary work while they fall behind, and at the priority they were
// given otherwise.
//
// Why: the kernel's ring (4 x 1 MiB per CPU by default) fills in ~40 ms at full speed, and the consumer must
// decode every page it stages (~15 µs a page) while the producer runs. On a machine at load 13-15 (2 CPUs) the
// decoding thread got 13-15% of a CPU for seconds at a time (its /proc schedstat: 0.5 s run against 3 s waiting on
// the run queue), its staging filled and the kernel dropped records. A thread's nice value alone does not help
// there: with autogroups (kernel.sched_autogroup_enabled) the scheduler first shares the CPU between sessions, and a
// thread's nice only counts against the threads of its own session. The daemon runs in its own session (it
// detaches), so that session's nice is raised; without autogroups, the threads' own nice values are.
// But a head start for good costs the traced workload when the consumer keeps up anyway: on a quiet machine (bench/
// kernel.mjs, dd at full speed, 4 runs alternated) dd ran 6-8% slower beside consumer threads at nice -10 than at
// nice 0, with nothing lost either way. So the page reader raises the priority only while the consumer is at risk,
// and gives it back after CALM_MS without: when a pass finds it falling behind (a kernel ring a quarter full, a
// quarter of the staging waiting to be decoded), when the reader itself woke late (its wait ended LATE_MS after
// it asked: the CPUs are taken), or when the CPUs are contended (/proc/pressure/cpu, "some": a share of the time
// tasks waited for a CPU, over the last PRESSURE_WINDOW_MS, of at least PRESSURE_SHARE). Waiting for the ring to
// fill is too late on a loaded machine: at load 5 (bench/kernel.mjs old vs new alternated, 4 runs each) raising at
// a half-full ring lost 11-264k events in every run, nice -10 for good none. The contention signals see the load
// before the ring fills.
//
// Contract: a ConsumerBoost lives on the page reader thread; `update(behind, now)` after each pass; `release()` at
// the end. Raising gives the process's autogroup (only when the process leads its own session: never a user's
// terminal session) or else each of `tids()` CONSUMER_NICE, unless already at that or higher, and remembers what
// it changed; releasing puts back what it changed. Several channels' readers may share the autogroup: one that
// released while another is behind is raised again by the other within RECHECK_MS. LTT_CONSUMER_NICE=0 turns
// raising off (any other integer from -20 to 19 replaces -10; anything else is reported in the daemon's log and
// -10 applies). Without the right (not root, no CAP_SYS_NICE) nothing changes. Never throws.

import * as fs from 'node:fs';
import * as os from 'node:os';

const DEFAULT_NICE = -10;
/** Passes without the consumer behind, for this long, before the priority goes back. */
export const CALM_MS = 2000;
/**
 * LTT_CONSUMER_BOOST=always: raised for as long as the channel records, whatever the signals (the behaviour before
 * them, to compare with them, or for a machine whose load comes in bursts faster than they see); `auto`, the
 * default: by the signals.
 */
export const BOOST_ALWAYS = (() => {
  const text = process.env.LTT_CONSUMER_BOOST;
  if (text === undefined || text === '' || text === 'auto') return false;
  if (text === 'always') return true;
  // The daemon's log, as LTT_CONSUMER_NICE's: a mistyped setting must not pass for the default unnoticed.
  process.stderr.write(`ltt kernel consumer: LTT_CONSUMER_BOOST must be "always" or "auto" (got ${JSON.stringify(text.slice(0, 40))}); using auto\n`);
  return false;
})();

/** A wait that ends this much later than asked means the CPUs are taken. */
export const LATE_MS = 10;
/** CPU pressure is measured over windows of this length... */
export const PRESSURE_WINDOW_MS = 100;
/** ...and counts from this share of the window with tasks waiting for a CPU. */
export const PRESSURE_SHARE = 0.1;
/** While behind, how often the reader makes sure the priority is still raised (another channel may have reset it). */
export const RECHECK_MS = 100;

export const CONSUMER_NICE = (() => {
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

/** The process autogroup's nice value, or undefined. */
export function autogroupNice(): number | undefined {
  try {
    const m = /nice (-?\d+)/.exec(fs.readFileSync('/proc/self/autogroup', 'latin1'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The machine's CPU pressure (PSI, /proc/pressure/cpu "some"): `share(now)` is the share of the time since the
 * previous window in which some task waited for a CPU, once a window of PRESSURE_WINDOW_MS has passed (else the
 * last value). 0 where the kernel has no PSI.
 */
export class CpuPressure {
  private fd = -1;
  private readonly buf = Buffer.alloc(256);
  private lastTotalUs = -1;
  private lastAt = 0;
  private last = 0;

  constructor(path = '/proc/pressure/cpu') {
    try {
      this.fd = fs.openSync(path, 'r');
    } catch {
      // No PSI (CONFIG_PSI off, or psi=0): contention is seen through late wake-ups only.
    }
  }

  share(now: number): number {
    if (this.fd < 0 || now - this.lastAt < PRESSURE_WINDOW_MS) return this.last;
    let total = NaN;
    let avg10 = NaN;
    try {
      const text = this.buf.toString('latin1', 0, fs.readSync(this.fd, this.buf, 0, this.buf.length, 0));
      // The first line is "some avg10=PERCENT avg60=... avg300=... total=MICROSECONDS".
      const m = /avg10=([\d.]+).*?total=(\d+)/.exec(text);
      if (m) {
        avg10 = Number(m[1]) / 100;
        total = Number(m[2]);
      }
    } catch {
      // Unreadable now: the last value stands.
    }
    if (!Number.isFinite(total)) return this.last;
    // The first reading has no window before it: the kernel's own 10 s average stands in, so that a machine loaded
    // when tracing starts counts as such at the first pass.
    this.last = this.lastTotalUs >= 0 ? Math.min(1, (total - this.lastTotalUs) / ((now - this.lastAt) * 1000)) : avg10;
    this.lastTotalUs = total;
    this.lastAt = now;
    return this.last;
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/**
 * The reader's timed waits, for the late wake-up signal: whether the last one ended more than LATE_MS after the
 * time it asked for. The deadline is taken as the wait begins (wait()), not at the start of the pass before it:
 * a long pass (the first touches of staging pages) is the reader's own time, not the CPUs being taken.
 */
export class WakeWatch {
  /** When the last timed wait was asked to end (-1: none, or not timed). */
  private wakeAt = -1;

  constructor(private readonly clock: () => number = () => performance.now()) {}

  /** Just before a wait of `ms` (0 or less: no timed wait, nothing to be late for). */
  wait(ms: number): void {
    this.wakeAt = ms > 0 ? this.clock() + ms : -1;
  }

  /** At `now`, after the wait: whether it ended late. */
  late(now: number): boolean {
    return this.wakeAt >= 0 && now - this.wakeAt > LATE_MS;
  }

  /** No timed wait under way (tracing paused). */
  reset(): void {
    this.wakeAt = -1;
  }
}

/** What raising and releasing do: the real one below; tests of the timing give their own. */
export interface PriorityLever {
  raise(): void;
  release(): void;
}

/** Raises the autogroup (a session leader) or the threads' nice values to `nice`, and puts them back. */
export function niceLever(tids: () => readonly number[], nice = CONSUMER_NICE): PriorityLever {
  const useAutogroup = autogroupsOn();
  const leader = useAutogroup && leadsSession();
  /** The autogroup's nice before raising (undefined: not changed). */
  let groupWas: number | undefined;
  /** Each thread's nice before raising. */
  const threadWas = new Map<number, number>();
  return {
    raise() {
      try {
        if (useAutogroup) {
          if (!leader) return;
          const now = autogroupNice();
          if (now === undefined || now <= nice) return;
          groupWas ??= now;
          fs.writeFileSync('/proc/self/autogroup', String(nice));
          return;
        }
        for (const tid of tids()) {
          if (tid <= 0) continue;
          const now = os.getPriority(tid);
          if (now <= nice) continue;
          if (!threadWas.has(tid)) threadWas.set(tid, now);
          os.setPriority(tid, nice);
        }
      } catch {
        // Not allowed (not root), or the thread is gone: the consumer runs at the priority it has.
      }
    },
    release() {
      try {
        if (groupWas !== undefined) fs.writeFileSync('/proc/self/autogroup', String(groupWas));
      } catch {
        // The group keeps the raised value; nothing else to do.
      }
      groupWas = undefined;
      for (const [tid, was] of threadWas) {
        try {
          os.setPriority(tid, was);
        } catch {
          // The thread is gone.
        }
      }
      threadWas.clear();
    },
  };
}

/** When to raise and release the consumer's priority, from each pass's view (see the file's header). */
export class ConsumerBoost {
  /** Times the priority was raised from the given one (diagnostics, tests). */
  raises = 0;
  private raised = false;
  private checkedAt = -Infinity;
  private calmSince = -1;

  constructor(private readonly lever: PriorityLever, private readonly enabled = CONSUMER_NICE !== 0) {}

  get isRaised(): boolean {
    return this.raised;
  }

  /** After a pass at `now` (ms): `behind` when it found the consumer falling behind. */
  update(behind: boolean, now: number): void {
    if (!this.enabled) return;
    if (behind) {
      this.calmSince = -1;
      if (!this.raised) {
        this.raised = true;
        this.raises++;
        this.checkedAt = now;
        this.lever.raise();
      } else if (now - this.checkedAt >= RECHECK_MS) {
        this.checkedAt = now;
        this.lever.raise();
      }
      return;
    }
    if (!this.raised) return;
    if (this.calmSince < 0) this.calmSince = now;
    else if (now - this.calmSince >= CALM_MS) this.release();
  }

  release(): void {
    if (!this.raised) return;
    this.raised = false;
    this.calmSince = -1;
    this.lever.release();
  }
}
