// Entry of ltt-sessiond (bin/ltt-sessiond calls main(argv); running this file directly does the same).
//   ltt-sessiond [-d|--daemonize] [-b|--background] [--rundir DIR] [-g|--group NAME] [--no-kernel] [-v] [-q]
// In the foreground it serves until SIGTERM/SIGINT, then stops and flushes every session (close()). With
// --daemonize it starts a detached copy of itself and returns only once that copy serves (like
// `lttng-sessiond --daemonize`), or prints why it could not start. Exit codes: 0 ok, 1 could not start.

import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { daemonRundir, DEFAULT_TRACING_GROUP, logFilePath } from '../control/runtime-paths.js';
import { reportFailure, reportReady, startDetached } from '../daemon-start.js';
import { isLttError } from '../errors.js';
import { DaemonLog } from '../control/daemon-log.js';
import { LTT_VERSION } from '../control/messages.js';
import { SessionDaemon } from './session-daemon.js';
import { AppRegistry } from './ust/app-registry.js';

interface DaemonArgs {
  daemonize: boolean;
  rundir: string | undefined;
  group: string;
  noKernel: boolean;
  verbose: boolean;
  quiet: boolean;
  readyFd: number | undefined;
  help: boolean;
  version: boolean;
}

const USAGE = `Usage: ltt-sessiond [OPTIONS]
  -d, --daemonize      run in the background, return once serving
  -b, --background     same as --daemonize
      --rundir DIR     runtime directory (default: /run/ltt for root, ~/.ltt otherwise; env LTT_RUNDIR)
  -g, --group NAME     group allowed to use root's daemon (default: tracing)
      --no-kernel      disable the kernel domain
  -v, --verbose        log to stderr too (foreground)
  -q, --quiet          no messages on stderr
  -V, --version        print the version
  -h, --help           this help
`;

class UsageError extends Error {}

function parseArgs(argv: string[]): DaemonArgs {
  const args: DaemonArgs = {
    daemonize: false,
    rundir: undefined,
    group: DEFAULT_TRACING_GROUP,
    noKernel: false,
    verbose: false,
    quiet: false,
    readyFd: undefined,
    help: false,
    version: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new UsageError(`Option ${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '-d':
      case '--daemonize':
      case '-b':
      case '--background':
        args.daemonize = true;
        break;
      case '--rundir':
        args.rundir = resolve(value());
        break;
      case '-g':
      case '--group':
        args.group = value();
        break;
      case '--no-kernel':
        args.noKernel = true;
        break;
      case '-v':
      case '--verbose':
        args.verbose = true;
        break;
      case '-q':
      case '--quiet':
        args.quiet = true;
        break;
      case '--ready-fd':
        args.readyFd = Number(value());
        break;
      case '-h':
      case '--help':
        args.help = true;
        break;
      case '-V':
      case '--version':
        args.version = true;
        break;
      default:
        throw new UsageError(`Unknown option ${arg}`);
    }
  }
  return args;
}

/** Starts a detached copy of this daemon and waits for its "ready" line (or its reason for failing). */
function daemonize(args: DaemonArgs, rundir: string): Promise<number> {
  const childArgs = ['--rundir', rundir, '--group', args.group, ...(args.noKernel ? ['--no-kernel'] : [])];
  return startDetached(fileURLToPath(import.meta.url), childArgs, args.quiet);
}

export async function main(argv: string[]): Promise<void> {
  let args: DaemonArgs;
  try {
    args = parseArgs(argv);
  } catch (error) {
    process.stderr.write(`Error: ${(error as Error).message}\n${USAGE}`);
    process.exitCode = 1;
    return;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (args.version) {
    process.stdout.write(`ltt-sessiond ${LTT_VERSION}\n`);
    return;
  }
  const rundir = resolve(daemonRundir(args.rundir));
  if (args.daemonize) {
    process.exitCode = await daemonize(args, rundir);
    return;
  }
  const readyFd = args.readyFd;
  const log = new DaemonLog(logFilePath(rundir), args.verbose && readyFd === undefined && !args.quiet);
  let daemon: SessionDaemon;
  // Instrumented Node processes register on the app socket; it is bound once the pid file is ours.
  const ust = new AppRegistry(rundir, (line) => log.line(line), (line) => log.clientLine(line));
  try {
    daemon = await SessionDaemon.start({ rundir, group: args.group, noKernel: args.noKernel, log, ust });
  } catch (error) {
    const message = isLttError(error) ? error.message : `Cannot start: ${(error as Error).message}`;
    log.line(message);
    if (readyFd !== undefined) reportFailure(readyFd, message);
    else if (!args.quiet) process.stderr.write(`Error: ${message}\n`);
    process.exitCode = 1;
    return;
  }
  try {
    await ust.listen();
  } catch (error) {
    // The daemon still serves the CLI and the kernel domain; apps run untraced.
    log.line(`Cannot listen for instrumented applications: ${(error as Error).message}`);
  }
  let signals = 0;
  const shutdown = (signal: string) => {
    signals++;
    if (signals > 1) {
      // A second signal means "now": skip the flush.
      log.line(`${signal} again: stopping without flushing`);
      daemon.destroy();
      process.exit(1);
    }
    log.line(`${signal} received`);
    daemon.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.line(`Shutdown failed: ${String(error)}`);
        daemon.destroy();
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // A daemon outlives the terminal that started it.
  process.on('SIGHUP', () => undefined);
  process.on('uncaughtException', (error) => log.line(`Uncaught exception: ${error.stack ?? error.message}`));
  process.on('unhandledRejection', (error) => log.line(`Unhandled rejection: ${String(error)}`));
  if (readyFd !== undefined) reportReady(readyFd);
}

const invokedPath = process.argv[1];
if (invokedPath && import.meta.url === pathToFileURL(realpathSync(invokedPath)).href) {
  void main(process.argv.slice(2));
}
