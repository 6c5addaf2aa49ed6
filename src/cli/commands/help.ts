// `ltt help [COMMAND]`: the general usage, or a command's help (the same text as `ltt COMMAND --help`).

import type { CommandEntry, CommandSpec } from '../command-spec.js';
import { CliError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { jsonOnly, leaf } from '../output/mi-document.js';

// lttng's grouping of the commands in its usage text (lttng.cpp), restricted to the commands ltt has.
const GROUPS: ReadonlyArray<[string, readonly string[]]> = [
  ['Recording sessions', ['create', 'clear', 'destroy', 'load', 'regenerate', 'save', 'set-session']],
  ['Channels', ['add-context', 'disable-channel', 'enable-channel']],
  ['Recording event rules', ['disable-event', 'enable-event']],
  ['Status', ['list', 'status']],
  ['Control', ['snapshot', 'start', 'stop']],
  ['Recording session rotation', ['disable-rotation', 'enable-rotation', 'rotate']],
  ['Resource tracking', ['track', 'untrack']],
  ['Understanding traces', ['analyze', 'export', 'query', 'web']],
  ['Miscellaneous', ['help', 'version', 'view']],
];

/** What `ltt` alone, `ltt --help` and `ltt help` print: lttng's usage layout with ltt's commands (the table's). */
export function generalUsage(commands: readonly CommandEntry[]): string {
  const byName = new Map(commands.map((c) => [c.name, c]));
  const grouped = new Set(GROUPS.flatMap(([, names]) => names));
  // A command missing from GROUPS still gets listed, so a new command can never be left out of the help.
  const groups = [...GROUPS, ['Other', commands.map((c) => c.name).filter((n) => !grouped.has(n))] as const];
  const sections = groups
    .map(([title, names]) => [title, names.filter((n) => byName.has(n))] as const)
    .filter(([, names]) => names.length > 0)
    .map(([title, names]) => `${title}:\n${names.map((n) => `  ${n.padEnd(16)}  ${byName.get(n)!.summary}`).join('\n')}`);
  return `Usage: ltt [--group=GROUP] [--mi=TYPE] [--no-sessiond | --sessiond-path=PATH]
           [--rundir=DIR] [--quiet | -v | -vv | -vvv] COMMAND [COMMAND OPTIONS]

Available commands:

${sections.join('\n\n')}

Run \`ltt help COMMAND\` or \`ltt COMMAND --help\` to get help with
command COMMAND.

Global options: -V/--version, --list-commands, -m/--mi=xml|json (machine interface: LTTng's XML documents, or
the same as JSON), -g/--group, -n/--no-sessiond, --sessiond-path, --rundir (session daemon runtime directory;
default: env LTT_RUNDIR, /run/ltt for root, ~/.ltt), -q/--quiet, -v/--verbose.
`;
}

/** `help` over the command table (command-table.ts, which lists help too, hands itself in). */
export const helpCommand = (commands: readonly CommandEntry[]): CommandSpec => ({
  name: 'help',
  help: 'Usage: ltt help [COMMAND]\n\nShow the help of COMMAND, or the general help.\n',
  options: {},
  async run(ctx, { positionals }) {
    const name = positionals[0];
    // In --mi json mode the text goes inside the one JSON document, so stdout stays parseable (with --mi xml
    // help prints its text, as lttng's).
    const show = (text: string) => (ctx.mi ? (ctx.miOutput = jsonOnly(leaf('help', text))) : ctx.raw(text));
    if (name === undefined) {
      show(generalUsage(commands));
      return ExitCode.SUCCESS;
    }
    const command = commands.find((c) => c.name === name);
    if (!command) throw new CliError('UND', `Unknown command "${name}"`, ExitCode.ERROR);
    show((await command.load()).help);
    return ExitCode.SUCCESS;
  },
});
