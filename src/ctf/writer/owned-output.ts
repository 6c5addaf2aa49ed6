// Traces that root writes for another user (a tracing-group member's session on root's daemon), safely.
//
// The user chose the output directory, so it must be created with the user's rights (makeDirectoryAs: `mkdir
// -p` run as the user, as lttng-sessiond's run-as does), and root must never be tricked into writing outside
// it: between that mkdir and root's writes the user can swap any component for a symlink, or plant a symlink,
// a hard link or a FIFO where a trace file goes. OwnedDirectory therefore opens the directory once without
// following a final symlink and checks that the user owns it (a swapped path can only lead to another
// directory of theirs), then creates every file through /proc/self/fd/N/NAME (Node has no openat(): the
// magic link pins the checked directory) without following symlinks, without blocking on FIFOs, and accepts
// an existing file only if it is a regular file of the user with a single link. Everything created is handed
// to the user (fchown).

import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { describeIoError, LttError } from '../../errors.js';
import { TRACE_DIR_MODE, TRACE_FILE_MODE } from './trace-modes.js';

export interface FileOwner {
  readonly uid: number;
  readonly gid: number;
}

/** Whether files for `owner` need the care of this module: root writing for somebody else. */
export function needsOwnedOutput(owner: FileOwner | undefined): owner is FileOwner {
  return owner !== undefined && owner.uid !== 0 && typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * `mkdir -p DIR` with the rights of `owner` (its uid and primary gid); a one-line LttError if refused. Not
 * blocking: the folder may be on a file system the user controls (FUSE) that never answers, and the daemon
 * serves everybody else meanwhile.
 */
export function makeDirectoryAs(owner: FileOwner, dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // umask 007: every folder made gets the trace folder mode (trace-modes.ts), as mkdir -p -m gives only the last.
    const script = 'umask 007 && exec mkdir -p -- "$1"';
    execFile('sh', ['-c', script, 'sh', dir], { uid: owner.uid, gid: owner.gid, timeout: 10_000, killSignal: 'SIGKILL' }, (error, _stdout, stderr) => {
      if (!error) return resolve();
      const why = String(stderr).trim().split('\n')[0] || (error.killed ? 'no answer within 10 s' : error.message);
      reject(new LttError('CREATE_DIR_FAIL', `Cannot create ${dir} as uid ${owner.uid}: ${why}`));
    });
  });
}

/**
 * `rm -rf DIR` (links not followed, one file system), with the rights of `owner` when root works for another
 * user; best effort (what cannot be removed stays).
 */
export function removeTree(owner: FileOwner | undefined, dir: string): Promise<void> {
  const as = needsOwnedOutput(owner) ? { uid: owner.uid, gid: owner.gid } : {};
  return new Promise((resolve) => {
    execFile('rm', ['-rf', '--one-file-system', '--', dir], { ...as, timeout: 10_000, killSignal: 'SIGKILL' }, () => resolve());
  });
}

/**
 * Removes the empty folders of the tree `dir` (itself included), deepest first, without following links, with
 * the rights of `owner` when root works for another user (so a swapped path cannot make root remove anything
 * the user could not). What is not empty stays; failures are ignored (best-effort cleanup after a failure).
 */
export function removeEmptyFolders(owner: FileOwner | undefined, dir: string): Promise<void> {
  const as = needsOwnedOutput(owner) ? { uid: owner.uid, gid: owner.gid } : {};
  return new Promise((resolve) => {
    execFile('find', ['-P', dir, '-depth', '-type', 'd', '-empty', '-delete'], { ...as, timeout: 10_000, killSignal: 'SIGKILL' }, () => resolve());
  });
}

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY, O_DIRECT } = fs.constants;

export class OwnedDirectory {
  private constructor(
    readonly path: string,
    private readonly fd: number,
    private readonly owner: FileOwner,
  ) {}

  /** Opens `dir`, which must be a directory (not a symlink to one) owned by `owner`; `path` names it in messages. */
  static open(dir: string, owner: FileOwner, path = dir): OwnedDirectory {
    let fd: number;
    try {
      fd = fs.openSync(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'ENOTDIR' || code === 'ELOOP' ? 'not a directory (symbolic links are not followed)' : describeIoError(path, error).slice(path.length + 2);
      throw new LttError('CTF_WRITER_IO', `Cannot open the trace directory ${path}: ${why}`);
    }
    const st = fs.fstatSync(fd);
    if (st.uid !== owner.uid) {
      fs.closeSync(fd);
      throw new LttError('CTF_WRITER_IO', `Refusing to write into ${path}: it belongs to uid ${st.uid}, not to the session's owner (uid ${owner.uid})`);
    }
    return new OwnedDirectory(path, fd, owner);
  }

  /** The path through which `name` in this very directory is reached, whatever happened to `path` since. */
  private pinned(name: string): string {
    if (!/^[^/\0]+$/.test(name) || name === '.' || name === '..') throw new LttError('CTF_WRITER_IO', `invalid file name ${JSON.stringify(name)}`);
    return `/proc/self/fd/${this.fd}/${name}`;
  }

  /** A subdirectory, created (and given to the owner) if missing; the same checks as open(). */
  subdirectory(name: string): OwnedDirectory {
    try {
      fs.mkdirSync(this.pinned(name), TRACE_DIR_MODE);
      const fd = fs.openSync(this.pinned(name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      try {
        fs.fchownSync(fd, this.owner.uid, this.owner.gid);
        fs.fchmodSync(fd, TRACE_DIR_MODE);
      } finally {
        fs.closeSync(fd);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    return OwnedDirectory.open(this.pinned(name), this.owner, `${this.path}/${name}`);
  }

  /**
   * Opens `name` for writing, emptied, as the owner's: created if missing, else only if it is a regular file
   * of the owner with one link. Throws the fs error (the caller words it).
   */
  openTruncated(name: string, direct = false): number {
    let fd: number;
    try {
      // Created without O_DIRECT: a file system refusing it still creates the file before the EINVAL, and that
      // file must be the owner's already when the caller retries without.
      fd = fs.openSync(this.pinned(name), O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CREAT | O_EXCL, TRACE_FILE_MODE);
      try {
        fs.fchownSync(fd, this.owner.uid, this.owner.gid);
        fs.fchmodSync(fd, TRACE_FILE_MODE);
      } catch (error) {
        fs.closeSync(fd);
        throw error;
      }
      if (!direct) return fd;
      fs.closeSync(fd);
      return this.reopen(name, true);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    fd = this.reopen(name, direct);
    fs.ftruncateSync(fd, 0);
    return fd;
  }

  /** The existing `name`, for writing, if it is a regular file of the owner with one link. */
  reopen(name: string, direct: boolean, append = false): number {
    const fd = fs.openSync(this.pinned(name), O_WRONLY | O_NOFOLLOW | O_NONBLOCK | (direct ? O_DIRECT : 0) | (append ? fs.constants.O_APPEND : 0));
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.nlink !== 1 || st.uid !== this.owner.uid) {
      fs.closeSync(fd);
      throw Object.assign(new Error(`EPERM: not a plain file of uid ${this.owner.uid}, open`), { code: 'EPERM' });
    }
    return fd;
  }

  unlink(name: string): void {
    fs.unlinkSync(this.pinned(name));
  }

  /** Renames `from` to `to`, both entries of this folder (replacing `to`). */
  rename(from: string, to: string): void {
    fs.renameSync(this.pinned(from), this.pinned(to));
  }

  close(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // Already closed.
    }
  }
}
