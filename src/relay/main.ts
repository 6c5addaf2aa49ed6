// Entry of ltt-relayd (bin/ltt-relayd calls main(argv)). In the foreground it serves until SIGTERM/SIGINT;
// with -d/-b it starts a detached copy and returns once that copy listens (lttng-relayd does the same), or
// prints why it could not. Peer-caused lines go to ltt-relayd.log in the runtime folder (rate-limited) and, with
// -v in the foreground, to stderr. Exit codes: 0 ok, 1 could not start or bad arguments.

import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DaemonLog } from '../control/daemon-log.js';
import { LTT_VERSION } from '../control/messages.js';
import { daemonRundir } from '../control/runtime-paths.js';
import { readCommandLine, reportFailure, reportReady, startDetached } from '../daemon-start.js';
import { isLttError } from '../errors.js';
import { makeDirectories } from '../make-directories.js';
import type { RelayDaemon } from './relay-daemon.js';
import { parseRelayArgs, USAGE, type ListenUrl, type RelayArgs } from './relay-options.js';

const url = (u: ListenUrl): string => `tcp://${u.host.includes(':') ? `[${u.host}]` : u.host}:${u.port}`;

function childArgs(args: RelayArgs): string[] {
  return ['-C', url(args.control), '-D', url(args.data), '-L', url(args.live), '-o', args.output, '-g', args.group, ...(args.allowClear ? [] : ['-x'])];
}

export async function main(argv: string[]): Promise<void> {
  const args = readCommandLine(argv, parseRelayArgs, USAGE, `ltt-relayd ${LTT_VERSION}`);
  if (args === undefined) return;
  if (args.daemonize) {
    process.exitCode = await startDetached(fileURLToPath(import.meta.url), childArgs(args), { quiet: false, argv0: process.argv0 });
    return;
  }
  // The relay itself only now: the caller of -d/-b, which starts a copy and waits for it, loads none of it.
  const { RelayDaemon } = await import('./relay-daemon.js');
  const readyFd = args.readyFd;
  let logFile: string | undefined;
  try {
    const rundir = daemonRundir(undefined);
    makeDirectories(rundir, 0o700);
    logFile = join(rundir, 'ltt-relayd.log');
  } catch {
    // No runtime folder (read-only home): the log goes to stderr only.
  }
  const log = new DaemonLog(logFile, args.verbose && readyFd === undefined);
  let daemon: RelayDaemon;
  try {
    makeDirectories(args.output, 0o770);
    daemon = await RelayDaemon.start(args, { output: args.output, allowClear: args.allowClear, log: (line) => log.clientLine(line) });
  } catch (error) {
    const message = isLttError(error) ? error.message : `Cannot start: ${(error as Error).message}`;
    log.line(message);
    if (readyFd !== undefined) reportFailure(readyFd, message);
    else process.stderr.write(`Error: ${message}\n`);
    process.exitCode = 1;
    return;
  }
  log.line(`listening: control ${url(args.control)}, data ${url(args.data)}, live ${url(args.live)}, output ${args.output}`);
  const shutdown = (signal: string): void => {
    log.line(`${signal} received`);
    void daemon.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGHUP', () => undefined);
  process.on('uncaughtException', (error) => log.line(`Uncaught exception: ${error.stack ?? error.message}`));
  if (readyFd !== undefined) reportReady(readyFd);
}

const invokedPath = process.argv[1];
if (invokedPath && import.meta.url === pathToFileURL(realpathSync(invokedPath)).href) {
  void main(process.argv.slice(2));
}
