// How an ltt daemon (ltt-sessiond, ltt-relayd) goes to the background: `-d`/`-b` start a detached copy of the
// daemon's entry file with `--ready-fd 3`, and the caller returns only once that copy wrote "ready" on the pipe
// (LTTng's daemons likewise return once they listen), or prints the reason the copy wrote instead.

import { spawn } from 'node:child_process';
import { closeSync, writeSync } from 'node:fs';

export interface DetachOptions {
  /** Print nothing when the copy cannot start. */
  readonly quiet: boolean;
  /** The copy keeps the caller's stdout and stderr (`-b`); otherwise they go nowhere (`-d`). */
  readonly keepOutput?: boolean;
  /** The copy's process name: scripts find LTTng's daemons by the name they were started under (pgrep). */
  readonly argv0?: string;
}

/** Starts `entryFile` detached with `args` and waits for its readiness; 0 when it serves, 1 (reason printed) if not. */
export async function startDetached(entryFile: string, args: readonly string[], opts: DetachOptions): Promise<number> {
  // Keep loader flags (tsx in development) but not the test runner's or an inspector's.
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--test') && !a.startsWith('--inspect'));
  const child = spawn(process.execPath, [...execArgv, entryFile, ...args, '--ready-fd', '3'], {
    detached: true,
    ...(opts.argv0 !== undefined ? { argv0: opts.argv0 } : {}),
    stdio: ['ignore', opts.keepOutput ? 'inherit' : 'ignore', opts.keepOutput ? 'inherit' : 'ignore', 'pipe'],
  });
  const pipe = child.stdio[3] as NodeJS.ReadableStream;
  let text = '';
  pipe.setEncoding('utf8');
  pipe.on('data', (chunk: string) => (text += chunk));
  const exitCode = await new Promise<number | null>((resolveExit) => {
    pipe.on('end', () => resolveExit(text.startsWith('ready') ? null : 1));
    child.on('exit', (code) => resolveExit(code ?? 1));
  });
  if (exitCode === null) {
    child.unref();
    return 0;
  }
  const reason = text.replace(/^error\s*/, '').trim() || `the daemon exited with status ${exitCode}`;
  if (!opts.quiet) process.stderr.write(`Error: ${reason}\n`);
  return 1;
}

/** In the detached copy: leave the caller's directory and tell the waiting parent that the daemon serves. */
export function reportReady(readyFd: number): void {
  process.chdir('/');
  writeSync(readyFd, 'ready\n');
  closeSync(readyFd);
}

/** In the detached copy: hand the parent the one-line reason the daemon could not start. */
export function reportFailure(readyFd: number, message: string): void {
  writeSync(readyFd, `error ${message}\n`);
  closeSync(readyFd);
}
