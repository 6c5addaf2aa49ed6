// A private ltt-sessiond, as `npm start` and bench/kernel.mjs run it: the CLI with LTT_RUNDIR set to a temp
// folder spawns its own daemon there, so nothing touches the machine's daemon; these helpers find and stop it.

import * as fs from 'node:fs';
import * as path from 'node:path';

/** The pid the daemon of `rundir` recorded, or undefined when it has none (not started, or gone). */
export function readDaemonPid(rundir) {
  try {
    return Number(fs.readFileSync(path.join(rundir, 'ltt-sessiond.pid'), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

/** SIGTERM (the daemon flushes and exits), then SIGKILL if it is still there after 5 s. */
export async function stopProcess(pid) {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 50));
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Gone in between.
  }
}
