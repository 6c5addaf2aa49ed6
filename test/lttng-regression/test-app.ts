// What LTTng's C test apps share (tests/utils/utils.c, signal-helper.h), for their Node versions: getopt_long-like
// parsing of a table of options, the file handshakes (create a file, wait until one exists) and SIGTERM ending
// the event loop. Events are emitted from async loops that yield now and then: signals and ltt/ust's agent
// messages need the event loop.

import { appendFileSync, closeSync, existsSync, openSync } from 'node:fs';

/** Long option name -> short letter; `flags` take no value. */
export interface OptionTable {
  readonly long: Readonly<Record<string, string>>;
  readonly flags: string;
}

/** letter -> value ('' for a flag); undefined after printing getopt's message for a bad option. */
export function parseOptions(app: string, argv: readonly string[], table: OptionTable): Map<string, string> | undefined {
  const letters = new Set(Object.values(table.long));
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let letter: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      letter = table.long[eq > 0 ? arg.slice(2, eq) : arg.slice(2)];
      inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    } else if (arg.length >= 2 && arg[0] === '-' && letters.has(arg[1]!)) {
      letter = arg[1];
      inline = arg.length > 2 ? arg.slice(2) : undefined;
    } else if (!arg.startsWith('-')) {
      // The C apps abort on a positional argument: their callers would otherwise hang.
      process.stderr.write('Error: takes long options only.\n');
      // abort() as C's: SIGABRT's default action, without Node's native stack dump.
      process.kill(process.pid, 'SIGABRT');
    }
    if (letter === undefined) {
      process.stderr.write(`${app}: unrecognized option '${arg}'\n`);
      return undefined;
    }
    if (table.flags.includes(letter)) {
      out.set(letter, '');
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) {
      process.stderr.write(`${app}: option '${arg}' requires an argument\n`);
      return undefined;
    }
    out.set(letter, value);
  }
  return out;
}

/** C's atoi: the leading integer, else 0. */
export function atoi(text: string | undefined): number {
  return Number.parseInt(text ?? '', 10) || 0;
}

export function touch(path: string): void {
  closeSync(openSync(path, 'w', 0o700));
}

export const sleepMs = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitOnFile(path: string): Promise<void> {
  while (!existsSync(path)) await sleepMs(10);
}

let quit = false;
process.on('SIGTERM', () => (quit = true));

/** True once SIGTERM came (the C apps' should_quit). */
export function quitRequested(): boolean {
  return quit;
}

/** Between two iterations: the -w wait, else a yield every 1000 iterations. */
export async function pause(iteration: number, waitUs: number): Promise<void> {
  if (waitUs > 0) await sleepMs(waitUs / 1000);
  else if (iteration % 1000 === 999) await new Promise((resolve) => setImmediate(resolve));
}

// run.mjs --times: the wrapper execs the app (scripts use its pid) with its start time; the app adds the line at
// exit, after ltt/ust's exit flush (registered before, when ltt/ust was loaded).
const timesFile = process.env['LTT_REGRESSION_TIMES'];
if (timesFile) {
  const start = process.env['LTT_REGRESSION_T0'];
  process.on('exit', (code) => {
    try {
      appendFileSync(timesFile, `${start} ${(Date.now() / 1000).toFixed(6)} ${code} ${process.argv0} ${process.argv.slice(2).join(' ')}\n`);
    } catch {
      // Timing is a convenience; the app's exit is not.
    }
  });
}

/** Runs the app's main and exits as the C apps do (0, or 1 after one line on stderr). */
export function runApp(app: string, main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${app}: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
