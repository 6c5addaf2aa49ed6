// The daemon's runtime directory: created with the access rules of the brief (root: 0750 root:tracing so only
// the tracing group reaches the socket; a user's own: 0700), a pid file that also serves as the single-instance
// lock, and reclaim of what a dead daemon left (stale socket and pid file). A live daemon is never disturbed:
// its pid must be gone, or its socket silent, before anything is removed.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, constants, linkSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ControlClient } from '../control/client.js';
import { authDirPath, groupId, pidFilePath, socketPath } from '../control/runtime-paths.js';
import { LttError } from '../errors.js';
import { makeDirectories } from '../make-directories.js';

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Creates the runtime directory and applies its mode and group. Returns the tracing group's gid if used. */
export function prepareRundir(rundir: string, group: string): number | undefined {
  makeDirectories(rundir, 0o750);
  if (!isRoot()) {
    chmodSync(rundir, 0o700);
    return undefined;
  }
  const gid = groupId(group);
  chmodSync(rundir, 0o750);
  if (gid !== undefined) chownSync(rundir, 0, gid);
  return gid;
}

/**
 * The credential directory of a root daemon, new at each start: writable and searchable by root and the tracing
 * group but not listable by the group (1730: nobody can learn another client's nonce) and sticky (nobody can
 * remove or replace another's file). Called once the pid file is ours (a daemon losing the start race must not
 * touch the live one's challenges). A previous one is moved aside and removed by `rm -rf --one-file-system`
 * in the background: its content is the group's, and a tree others can write is never walked by path in
 * this process (a directory swapped for a symlink mid-walk would make root delete elsewhere; rm works
 * relative to open directories).
 */
export function prepareAuthDir(rundir: string, gid: number | undefined): void {
  const dir = authDirPath(rundir);
  try {
    lstatSync(dir);
    const stale = `${dir}.stale-${process.pid}-${Date.now()}`;
    renameSync(dir, stale);
    removeTreeInBackground(stale);
  } catch {
    // Not there yet.
  }
  mkdirSync(dir, { mode: 0o700 });
  chownSync(dir, 0, gid ?? 0);
  chmodSync(dir, gid !== undefined ? 0o1730 : 0o1700);
}

/** `rm -rf --one-file-system` of a tree others could write, in a child (see prepareAuthDir), not awaited. */
function removeTreeInBackground(path: string): void {
  const rm = spawn('rm', ['-rf', '--one-file-system', '--', path], { stdio: 'ignore', detached: true });
  rm.on('error', () => undefined);
  rm.unref();
}

/** The answer `path` goes, whatever the client made: a file at once, a folder (maybe filled) in the background. */
function removeAnswer(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EISDIR' || code === 'EPERM') removeTreeInBackground(path);
  }
}

/**
 * One credential challenge of root's daemon (control or app socket): a random nonce, and the file of that name
 * in the auth folder that the client creates to answer it (its side: src/control/credential-challenge.ts).
 */
export class CredentialChallenge {
  readonly nonce = randomBytes(16).toString('hex');
  readonly issuedAtMs = Date.now();
  readonly dir: string;

  constructor(rundir: string) {
    this.dir = authDirPath(rundir);
  }

  /**
   * Who answered: the owner of the file. It must be a regular file with one link (a hard link to someone
   * else's file would lend its owner) born after the challenge (a file moved in from elsewhere keeps its older
   * birth time; the second of slack covers the kernel's coarse file clock). It is removed.
   */
  take(): { uid: number; gid: number } | undefined {
    const file = join(this.dir, this.nonce);
    try {
      const st = lstatSync(file);
      removeAnswer(file);
      if (!st.isFile() || st.nlink !== 1) return undefined;
      if (st.birthtimeMs > 0) {
        // Born after the challenge, and its inode not changed since (a later link or rename moves ctime, when
        // the file clock ticked in between; what keeps others from the name is that the folder is not listable).
        if (st.birthtimeMs < this.issuedAtMs - 1000 || st.ctimeMs > st.birthtimeMs) return undefined;
      }
      return { uid: st.uid, gid: st.gid };
    } catch {
      return undefined;
    }
  }

  /** Left unanswered (the client went away): its file or folder, if the client made one, goes too. */
  drop(): void {
    removeAnswer(join(this.dir, this.nonce));
  }
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
    // Written aside, then linked into place: link() fails if the pid file exists, and a racing daemon never
    // reads a pid file that exists but is still empty (it would take it for a stale one and remove it).
    const temp = `${pidFile}.${process.pid}`;
    unlinkQuietly(temp);
    const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(temp, pidFile);
      if (reclaimed) unlinkQuietly(socketPath(rundir));
      return { reclaimed };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      unlinkQuietly(temp);
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
