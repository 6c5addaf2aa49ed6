// `ltt help [COMMAND]`: the general usage, or a command's help (the same text as `ltt COMMAND --help`).

import type { CommandSpec } from '../command-spec.js';
import { CliError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';

/** Filled by command-table.ts (help lists every command, and is one of them). */
export const helpRegistry: { commands: CommandSpec[] } = { commands: [] };

export function generalUsage(): string {
  const width = Math.max(...helpRegistry.commands.map((c) => c.name.length));
  const list = helpRegistry.commands.map((c) => `    ${c.name.padEnd(width)}  ${c.summary}`).join('\n');
  return `Usage: ltt [OPTIONS] COMMAND [COMMAND OPTIONS]

The Linux Trace Toolkit: LTTng's commands on tracefs and Node.js tracers.

Options:
  -V, --version          show the version
  -h, --help             show this help
      --list-commands    list the commands
  -v, --verbose          more output (repeatable)
  -q, --quiet            no output but machine output
  -m, --mi=json          machine interface output (JSON)
  -g, --group=NAME       group allowed to use root's session daemon (default: tracing)
  -n, --no-sessiond      do not start a session daemon
      --sessiond-path=PATH  session daemon to start
      --rundir=DIR       runtime directory of the session daemon (default: env LTT_RUNDIR, /run/ltt for root, ~/.ltt)

Commands:
${list}

Each command accepts --help and --list-options. \`ltt help COMMAND\` shows a command's help.
`;
}

export const helpCommand: CommandSpec = {
  name: 'help',
  summary: 'Display help information about a command',
  help: 'Usage: ltt help [COMMAND]\n\nShow the help of COMMAND, or the general help.\n',
  options: {},
  async run(ctx, { positionals }) {
    const name = positionals[0];
    if (name === undefined) {
      ctx.raw(generalUsage());
      return ExitCode.SUCCESS;
    }
    const command = helpRegistry.commands.find((c) => c.name === name);
    if (!command) throw new CliError('UND', `Unknown command "${name}"`, ExitCode.UNDEFINED);
    ctx.raw(command.help);
    return ExitCode.SUCCESS;
  },
};
