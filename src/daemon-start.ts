// How an ltt daemon (ltt-sessiond, ltt-relayd) starts: its command line, read by getopt_long's rules as LTTng's
// daemons read theirs, with --help and --version; and going to the background: `-d`/`-b` start a detached copy
// of the daemon's entry file with `--ready-fd 3`, and the caller returns only once that copy wrote "ready" on the
// pipe (LTTng's daemons likewise return once they listen), or prints the reason the copy wrote instead.

import { spawn } from 'node:child_process';
import { closeSync, existsSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One word of a daemon's command line: its flag (`--name`, `-x`, or a positional word) and its value, if asked. */
export interface DaemonOption {
  readonly flag: string;
  readonly word: string;
  /** The option's value (`--name=V`, `-xV` for the short options that take one, or the next word). */
  value(): string;
}

/**
 * A daemon's argv word by word. `attached` lists the short options whose value may follow without a space
 * (`-C5342`); `fail` makes the error for a missing value.
 */
export function* daemonOptions(argv: readonly string[], attached: string, fail: (message: string) => Error): Generator<DaemonOption> {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    const eq = word.startsWith('--') ? word.indexOf('=') : -1;
    const short = eq < 0 && word.length > 2 && /^-[A-Za-z]/.test(word) && attached.includes(word[1]!);
    const flag = eq > 0 ? word.slice(0, eq) : short ? word.slice(0, 2) : word;
    const inline = eq > 0 ? word.slice(eq + 1) : short ? word.slice(2) : undefined;
    yield {
      flag,
      word,
      value: () => {
        const v = inline ?? argv[++i];
        if (v === undefined || v === '') throw fail(`Option ${flag} needs a value`);
        return v;
      },
    };
  }
}

/**
 * The daemon's parsed arguments, or undefined once the command line was answered: --help and --version print
 * and exit 0, a bad argument prints one line and the usage and sets exit code 1.
 */
export function readCommandLine<T extends { help: boolean; version: boolean }>(
  argv: readonly string[],
  parse: (argv: readonly string[]) => T,
  usage: string,
  versionLine: string,
): T | undefined {
  let args: T;
  try {
    args = parse(argv);
  } catch (error) {
    process.stderr.write(`Error: ${(error as Error).message}\n${usage}`);
    process.exitCode = 1;
    return undefined;
  }
  if (args.help) process.stdout.write(usage);
  else if (args.version) process.stdout.write(`${versionLine}\n`);
  else return args;
  return undefined;
}

export interface DetachOptions {
  /** Print nothing when the copy cannot start. */
  readonly quiet: boolean;
  /** The copy keeps the caller's stdout and stderr (`-b`); otherwise they go nowhere (`-d`). */
  readonly keepOutput?: boolean;
  /** The copy's process name: scripts find LTTng's daemons by the name they were started under (pgrep). */
  readonly argv0?: string;
}

/**
 * The file a daemon's detached copy runs, given its main module's URL (`mainUrl`, dist/src/DAEMON/main.js) and
 * its bin script's name: in a build, the package's bin script, which runs the daemon's bundle while it is fresh
 * (src/cli/bundle-loader.cts); else (sources under tsx, a build copied without bin/) the main module itself.
 */
export function daemonEntry(mainUrl: string, bin: string): string {
  const script = fileURLToPath(new URL(`../../../bin/${bin}`, mainUrl));
  return mainUrl.endsWith('.js') && existsSync(script) ? script : fileURLToPath(mainUrl);
}

/** Starts `entryFile` detached with `args` and waits for its readiness; 0 when it serves, 1 (reason printed) if not. */
export async function startDetached(entryFile: string, args: readonly string[], opts: DetachOptions): Promise<number> {
  const reason = await detach(entryFile, args, opts);
  if (reason === undefined) return 0;
  if (!opts.quiet) process.stderr.write(`Error: ${reason}\n`);
  return 1;
}

/**
 * What startDetached() does, for a caller that reports a failure its own way: undefined once the copy serves,
 * else the reason the copy gave (`ltt create` starts the session daemon's serving copy itself this way, one
 * Node process fewer than `ltt-sessiond --daemonize` and its copy).
 */
export async function detach(entryFile: string, args: readonly string[], opts: Omit<DetachOptions, 'quiet'>): Promise<string | undefined> {
  // Keep loader flags (tsx in development) but not the test runner's or an inspector's.
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--test') && !a.startsWith('--inspect'));
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(process.execPath, [...execArgv, entryFile, ...args, '--ready-fd', '3'], {
      detached: true,
      ...(opts.argv0 !== undefined ? { argv0: opts.argv0 } : {}),
      stdio: ['ignore', opts.keepOutput ? 'inherit' : 'ignore', opts.keepOutput ? 'inherit' : 'ignore', 'pipe'],
    });
  } catch (error) {
    // Node throws the errors of spawn(2) other than EAGAIN, EACCES, EMFILE, ENFILE and ENOENT (ENOMEM, E2BIG...).
    return `cannot start ${process.execPath}: ${(error as Error).message}`;
  }
  // A spawn that fails (EAGAIN, EACCES, EMFILE) emits 'error' and no 'exit', and without its pipes when it failed
  // before making them: the reason is said, never a crash or a wait for ever.
  let spawnError: Error | undefined;
  const pipe = (child.stdio as (typeof child.stdio | undefined))?.[3] as NodeJS.ReadableStream | null | undefined;
  let text = '';
  pipe?.setEncoding('utf8');
  pipe?.on('data', (chunk: string) => (text += chunk));
  const exitCode = await new Promise<number | null>((resolveExit) => {
    child.on('error', (error) => {
      spawnError = error;
      resolveExit(1);
    });
    if (pipe === null || pipe === undefined) return;
    pipe.on('end', () => resolveExit(text.startsWith('ready') ? null : 1));
    child.on('exit', (code) => resolveExit(code ?? 1));
  });
  if (spawnError !== undefined) return `cannot start ${process.execPath}: ${spawnError.message}`;
  if (exitCode === null) {
    child.unref();
    return undefined;
  }
  return text.replace(/^error\s*/, '').trim() || `the daemon exited with status ${exitCode}`;
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
