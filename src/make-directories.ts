// `mkdir -p` for paths users give (trace outputs, saved-session folders). Node 20's `mkdir(..., { recursive:
// true })` never returns when mkdir(2) fails with ENOENT under a parent that exists (a path in /proc, /sys, a
// dead NFS mount): it retries the parent forever at 100% CPU. This walks the path one component at a time and
// reports the first failure like mkdir(2) does.

import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Creates `dir` and its missing parents; throws the fs error of the first failure. The new folders get `mode`
 * exactly when it is given (whatever the umask), else 0777 less the umask, as mkdir -p does.
 */
export function makeDirectories(dir: string, mode?: number): void {
  const abs = path.resolve(dir);
  try {
    if (fs.statSync(abs).isDirectory()) return;
  } catch {
    // Missing (or unreadable): made below, or the reason reported.
  }
  let cur = '';
  for (const part of abs.split('/').filter((p) => p !== '')) {
    cur += `/${part}`;
    try {
      fs.mkdirSync(cur, mode ?? 0o777);
      if (mode !== undefined) fs.chmodSync(cur, mode);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (!fs.statSync(cur).isDirectory()) {
        throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${cur}'`), { code: 'ENOTDIR', path: cur });
      }
    }
  }
}
