// `chroot / true` runs as a known kernel workload: each is one sched_process_exec event with filename .../chroot.
// Only this test's own runs are counted (by their pids): the kernel records every process's execs, and another
// test or tool on the machine may run chroot meanwhile (seen: a phase with 3 execs where the test made 2).

import { spawnSync } from 'node:child_process';

const EXEC = / sched_process_exec: .*filename = "\/usr\/s?bin\/chroot", tid = (\d+)/;

export class ChrootRuns {
  private readonly pids = new Set<number>();

  run(n: number): void {
    for (let i = 0; i < n; i++) {
      const r = spawnSync('chroot', ['/', 'true']);
      if (r.pid) this.pids.add(r.pid);
    }
  }

  /** Exec events of these runs in babeltrace2's text. */
  count(text: string): number {
    let n = 0;
    for (const line of text.split('\n')) {
      const m = EXEC.exec(line);
      if (m !== null && this.pids.has(Number(m[1]))) n++;
    }
    return n;
  }
}
