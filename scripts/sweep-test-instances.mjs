// The tracefs instances that killed test runs left behind: tests name theirs ltt-test-NAME-PID (and the kernel
// sessions they create ltt-test-NAME-PID-CHANNEL) and remove them in `finally`, which a SIGKILL skips; tracefs
// keeps an instance, and its ring buffers' memory, until someone removes it. scripts/run-tests.mjs sweeps them
// before a run.
//
// Contract: only instances whose name begins with ltt-test- are looked at (never another tool's, never the
// top-level buffer), and one is removed only when none of the numbers in its name is a running process: a live
// test's own pid is among them, so its instances stay (a reused or unrelated number keeps one too, which is safe).
// Tracing is turned off in the instance before rmdir.

import { existsSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOTS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];
const PREFIX = 'ltt-test-';

function running(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** Whether `name` is a test's instance whose process is gone. */
export function leftByDeadTest(name) {
  if (!name.startsWith(PREFIX)) return false;
  const pids = name.slice(PREFIX.length).split('-').filter((part) => /^[1-9]\d*$/.test(part)).map(Number);
  return pids.length > 0 && !pids.some(running);
}

/**
 * Removes the instances left by test processes that no longer run; returns their names, and one line per
 * instance it could not remove (busy, or not root).
 */
export function sweepTestInstances() {
  const root = ROOTS.find((r) => existsSync(join(r, 'instances')));
  const removed = [];
  const failed = [];
  if (root === undefined) return { removed, failed };
  let names;
  try {
    names = readdirSync(join(root, 'instances'));
  } catch {
    return { removed, failed };
  }
  for (const name of names.filter(leftByDeadTest)) {
    const dir = join(root, 'instances', name);
    try {
      writeFileSync(join(dir, 'tracing_on'), '0');
      rmdirSync(dir);
      removed.push(name);
    } catch (err) {
      failed.push(`cannot remove the tracefs instance ${name} left by a killed test run: ${err.code ?? err.message}`);
    }
  }
  return { removed, failed };
}
