// The shape of one CLI command (src/cli/commands/<name>.ts): its option table, help text and run(). The option
// table drives parsing, `--help` and `--list-options`, so they cannot drift apart.

import type { CliContext } from './cli-context.js';
import type { ExitCode } from './exit-codes.js';

export interface OptionSpec {
  type: 'boolean' | 'string';
  short?: string;
  /** Repeatable: values accumulate in an array. */
  multiple?: boolean;
  /** For string options whose value is optional (`--live[=US]`, `--pid[=LIST]`): the value when none is given. */
  defaultValue?: string;
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export interface ParsedCommandLine {
  values: OptionValues;
  positionals: string[];
  /** Options the command does not know, kept only for passThroughUnknown commands. */
  unknown: string[];
  /** Long names of the options given, in command-line order (popt's "last one wins" for --discard/--overwrite). */
  order?: string[];
}

export interface CommandSpec {
  name: string;
  /** Full help (`ltt help CMD`, `ltt CMD --help`). */
  help: string;
  options: Record<string, OptionSpec>;
  /** The actions of a command that has some (snapshot, regenerate): `--list-commands` prints them, as lttng. */
  subcommands?: readonly string[];
  /** view passes unknown options on to the viewer. */
  passThroughUnknown?: boolean;
  /** For passed-through options: does this one take the next argument as its value? */
  unknownTakesValue?: (arg: string) => boolean;
  run(ctx: CliContext, args: ParsedCommandLine): Promise<ExitCode>;
}

/**
 * A command as the table lists it (command-table.ts): its name and help line, which `ltt`, `ltt --help` and
 * `--list-commands` print without loading any command's module; load() brings in the one command that runs.
 */
export interface CommandEntry {
  readonly name: string;
  /** One line for `ltt help`. */
  readonly summary: string;
  load(): Promise<CommandSpec>;
}
