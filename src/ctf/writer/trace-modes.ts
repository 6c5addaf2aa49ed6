// Who may read a trace: LTTng's modes, the owner and the owner's group only (lttng-tools creates stream files
// S_IRUSR|S_IWUSR|S_IRGRP|S_IWGRP and trace folders S_IRWXU|S_IRWXG). A kernel trace shows every process's
// scheduling and syscalls, so no other local user may read it. The modes are applied exactly (fchmod), whatever
// the umask of the daemon or of the traced app.

import * as fs from 'node:fs';
import { makeDirectories } from '../../make-directories.js';

export const TRACE_FILE_MODE = 0o660;
export const TRACE_DIR_MODE = 0o770;

/** open(2) of a trace file (`flags` creating it if needed) with the trace file mode, an existing file included. */
export function openTraceFile(file: string, flags: number | string): number {
  const fd = fs.openSync(file, flags, TRACE_FILE_MODE);
  try {
    fs.fchmodSync(fd, TRACE_FILE_MODE);
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
  return fd;
}

/** A whole file of a trace (metadata preamble), created or replaced with the trace file mode. */
export function writeTraceFile(file: string, data: string | Uint8Array): void {
  const fd = openTraceFile(file, 'w');
  try {
    fs.writeFileSync(fd, data);
  } finally {
    fs.closeSync(fd);
  }
}

/** `mkdir -p` of a trace folder: the folders it creates get the trace folder mode. */
export function makeTraceDirectories(dir: string): void {
  makeDirectories(dir, TRACE_DIR_MODE);
}

/**
 * The regular files of a trace folder and of its index/ removed (a per-PID clear: the folder is written again
 * from the start; those of threads gone since go too). A missing index/ is no error. Only for folders no other
 * user controls: it works by path.
 */
export function emptyTraceFolder(dir: string): void {
  for (const sub of [`${dir}/index`, dir]) {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(sub, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && sub !== dir) continue;
      throw err;
    }
    for (const e of entries) if (e.isFile()) fs.rmSync(`${sub}/${e.name}`, { force: true });
  }
}
