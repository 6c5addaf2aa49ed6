// Entry of ltt-sessiond (bin/ltt-sessiond calls main(argv); running this file directly does the same).
//   ltt-sessiond [-d|--daemonize] [-b|--background] [--rundir DIR] [-g|--group NAME] [--no-kernel] [-v] [-q]
//                [-l|--load PATH] [-p|--pidfile FILE] [-S|--sig-parent] [LTTng's other options, ignored]
// In the foreground it serves until SIGTERM/SIGINT, then stops and flushes every session (close()). With
// --daemonize it starts a detached copy of itself and returns only once that copy serves (like
// `lttng-sessiond --daemonize`), or prints why it could not start; --background does the same but the copy
// keeps the caller's stdout and stderr. Before serving it loads the sessions of --load PATH (a file or a folder),
// else the autoload folders (session-autoload.ts); a load that fails stops the daemon, as lttng-sessiond's.
// lttng-sessiond's options that mean nothing here (socket paths, consumer daemons, kernel modules, config file)
// are accepted and ignored, and so are positional arguments, as its getopt loop does, so that scripts written
// for lttng-sessiond run ltt-sessiond unchanged. Exit codes: 0 ok, 1 could not start.

import { realpathSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { daemonRundir, DEFAULT_TRACING_GROUP, logFilePath, lttHome } from '../control/runtime-paths.js';
import { daemonEntry, daemonOptions, readCommandLine, reportFailure, reportReady, startDetached } from '../daemon-start.js';
import { isLttError } from '../errors.js';
import { DaemonLog } from '../control/daemon-log.js';
import { LTT_VERSION } from '../control/messages.js';
import type { SessionDaemon } from './session-daemon.js';

interface DaemonArgs {
  daemonize: boolean;
  rundir: string | undefined;
  group: string;
  noKernel: boolean;
  /** --load PATH; undefined: the autoload folders. */
  load: string | undefined;
  pidfile: string | undefined;
  /** --background: the detached copy keeps stdout/stderr (--daemonize closes them). */
  keepOutput: boolean;
  sigParent: boolean;
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
  -l, --load PATH      load the sessions saved in PATH (file or folder) instead of the autoload folders
                       ($LTT_HOME/.ltt/sessions/auto, $LTT_HOME/.lttng/sessions/auto, /etc/ltt/sessions/auto)
  -p, --pidfile FILE   also write the daemon's pid to FILE
  -S, --sig-parent     send SIGUSR1 to the parent process once serving
  -v, --verbose        log to stderr too (foreground)
  -q, --quiet          no messages on stderr
  -V, --version        print the version
  -h, --help           this help
`;

class UsageError extends Error {}

/** lttng-sessiond's options with no meaning for ltt-sessiond (its sockets, consumer daemons, kernel modules). */
const IGNORED_WITH_VALUE = new Set([
  '-c', '--client-sock', '-a', '--apps-sock', '-f', '--config', '--kconsumerd-cmd-sock', '--kconsumerd-err-sock',
  '--ustconsumerd32-cmd-sock', '--ustconsumerd32-err-sock', '--ustconsumerd64-cmd-sock', '--ustconsumerd64-err-sock',
  '--consumerd32-path', '--consumerd32-libdir', '--consumerd64-path', '--consumerd64-libdir', '--agent-tcp-port',
  '--kmod-probes', '--extra-kmod-probes', '--event-notifier-error-buffer-size-kernel',
  '--event-notifier-error-buffer-size-userspace',
]);
const IGNORED_FLAGS = new Set(['--verbose-consumer']);

function parseArgs(argv: readonly string[]): DaemonArgs {
  const args: DaemonArgs = {
    daemonize: false,
    rundir: undefined,
    group: DEFAULT_TRACING_GROUP,
    noKernel: false,
    load: undefined,
    pidfile: undefined,
    keepOutput: false,
    sigParent: false,
    verbose: false,
    quiet: false,
    readyFd: undefined,
    help: false,
    version: false,
  };
  for (const { flag, word, value } of daemonOptions(argv, '', (message) => new UsageError(message))) {
    switch (flag) {
      case '-d':
      case '--daemonize':
        args.daemonize = true;
        break;
      case '-b':
      case '--background':
        args.daemonize = true;
        args.keepOutput = true;
        break;
      case '-l':
      case '--load':
        args.load = resolve(value());
        break;
      case '-p':
      case '--pidfile':
        args.pidfile = resolve(value());
        break;
      case '-S':
      case '--sig-parent':
        args.sigParent = true;
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
        if (/^-v+$/.test(flag)) args.verbose = true;
        else if (IGNORED_WITH_VALUE.has(flag)) value();
        else if (IGNORED_FLAGS.has(flag)) break;
        else if (flag.startsWith('-') && flag !== '-') throw new UsageError(`Unknown option ${word}`);
        // A positional argument: lttng-sessiond ignores them.
    }
  }
  return args;
}

/** Starts a detached copy of this daemon and waits for its "ready" line (or its reason for failing). */
async function daemonize(args: DaemonArgs, rundir: string): Promise<number> {
  const childArgs = ['--rundir', rundir, '--group', args.group, ...(args.noKernel ? ['--no-kernel'] : []),
    ...(args.load ? ['--load', args.load] : []), ...(args.pidfile ? ['--pidfile', args.pidfile] : [])];
  const code = await startDetached(daemonEntry(import.meta.url, 'ltt-sessiond'), childArgs, {
    quiet: args.quiet,
    keepOutput: args.keepOutput,
    argv0: process.argv0,
  });
  if (code === 0 && args.sigParent) process.kill(process.ppid, 'SIGUSR1');
  return code;
}

export async function main(argv: string[]): Promise<void> {
  const args = readCommandLine(argv, parseArgs, USAGE, `ltt-sessiond ${LTT_VERSION}`);
  if (args === undefined) return;
  const rundir = resolve(daemonRundir(args.rundir));
  if (args.daemonize) {
    process.exitCode = await daemonize(args, rundir);
    return;
  }
  // The daemon itself (tracers, consumers, the control server) only now: the caller of -d/-b, which starts a
  // copy and waits for it (the first `ltt create` waits on both), loads none of it.
  const [{ loadSessionsAtStart }, { SessionDaemon }, { AppRegistry }] = await Promise.all([
    import('./session-autoload.js'),
    import('./session-daemon.js'),
    import('./ust/app-registry.js'),
  ]);
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
  try {
    await loadSessionsAtStart({ rundir, home: lttHome(), path: args.load, log: (line) => log.line(line) });
  } catch (error) {
    const message = `Session load failed: ${isLttError(error) ? error.message : String(error)}`;
    log.line(message);
    daemon.destroy();
    if (readyFd !== undefined) reportFailure(readyFd, message);
    else if (!args.quiet) process.stderr.write(`Error: ${message}\n`);
    process.exit(1);
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
  if (args.pidfile) {
    try {
      writeFileSync(args.pidfile, `${process.pid}\n`);
    } catch (error) {
      log.line(`Cannot write the pid file ${args.pidfile}: ${(error as Error).message}`);
    }
  }
  if (readyFd !== undefined) reportReady(readyFd);
  else if (args.sigParent) process.kill(process.ppid, 'SIGUSR1');
}

const invokedPath = process.argv[1];
if (invokedPath && import.meta.url === pathToFileURL(realpathSync(invokedPath)).href) {
  void main(process.argv.slice(2));
}
