// The daemon's runtime directory: created with the access rules of the brief (root: 0750 root:tracing so only
// the tracing group reaches the socket; a user's own: 0700), a pid file that also serves as the single-instance
// lock, and reclaim of what a dead daemon left (stale socket and pid file). A live daemon is never disturbed:
// its pid must be gone, or its socket silent, before anything is removed.

import { chmodSync, chownSync, closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { ControlClient } from '../control/client.js';
import { groupId, pidFilePath, socketPath } from '../control/runtime-paths.js';
import { LttError } from '../errors.js';

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Creates the runtime directory and applies its mode and group. Returns the tracing group's gid if used. */
export function prepareRundir(rundir: string, group: string): number | undefined {
  mkdirSync(rundir, { recursive: true, mode: 0o750 });
  if (!isRoot()) {
    chmodSync(rundir, 0o700);
    return undefined;
  }
  const gid = groupId(group);
  chmodSync(rundir, 0o750);
  if (gid !== undefined) chownSync(rundir, 0, gid);
  return gid;
}

/** The command line of a running session daemon with this pid, or undefined (gone, zombie, or another program). */
function sessiondCommandLine(pid: number): string | undefined {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  try {
    // A zombie has an empty command line; a recycled pid belongs to something else: neither is a daemon.
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    return cmdline.includes('sessiond') ? cmdline : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the daemon `pid` owns `rundir`: its socket answers, or (it may still be starting, e.g. two `ltt
 * create` racing) it answers within a few seconds, or its command line names this directory.
 */
async function ownsRundir(pid: number, rundir: string): Promise<boolean> {
  const deadline = Date.now() + 3000;
  do {
    const cmdline = sessiondCommandLine(pid);
    if (cmdline === undefined) return false;
    if (await ControlClient.isAlive(rundir, { connectTimeoutMs: 1000 })) return true;
    if (Date.now() >= deadline) return cmdline.includes(rundir);
    await new Promise((resolve) => setTimeout(resolve, 50));
  } while (true);
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/**
 * Takes the pid file. If another daemon holds it and is alive (process exists and socket answers), throws.
 * Otherwise the leftovers (pid file, socket) are removed and `reclaimed` tells the caller to reclaim more.
 */
export async function acquirePidFile(rundir: string): Promise<{ reclaimed: boolean }> {
  const pidFile = pidFilePath(rundir);
  let reclaimed = false;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(pidFile, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      if (reclaimed) unlinkQuietly(socketPath(rundir));
      return { reclaimed };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let pid = NaN;
    try {
      pid = Number.parseInt(readFileSync(pidFile, 'utf8'), 10);
    } catch {
      // Unreadable or vanished: treat as stale.
    }
    if (Number.isInteger(pid) && pid !== process.pid && (await ownsRundir(pid, rundir))) {
      throw new LttError('SESSIOND_RUNNING', `A session daemon is already running in ${rundir} (pid ${pid})`);
    }
    unlinkQuietly(pidFile);
    reclaimed = true;
  }
  throw new LttError('SESSIOND_RUNNING', `Cannot take the pid file ${pidFile}: another daemon is starting`);
}

/** Removes the socket and pid file at exit (only if the pid file is still ours). */
export function releaseRundir(rundir: string): void {
  try {
    const pid = Number.parseInt(readFileSync(pidFilePath(rundir), 'utf8'), 10);
    if (pid !== process.pid) return;
  } catch {
    return;
  }
  unlinkQuietly(socketPath(rundir));
  unlinkQuietly(pidFilePath(rundir));
}
