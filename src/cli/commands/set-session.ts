// `ltt set-session SESSION`: makes SESSION the current one (written to $LTT_HOME/.lttrc).

import type { CommandSpec } from '../command-spec.js';
import { CliError, usageError } from '../cli-error.js';
import { stageCurrentSession } from '../current-session.js';
import { ExitCode } from '../exit-codes.js';
import { sessionState, sessionsNode } from '../output/mi-model.js';

export const setSessionCommand: CommandSpec = {
  name: 'set-session',
  help: `Usage: ltt set-session SESSION

Make SESSION the current recording session of the commands that default to it.
`,
  options: {},
  async run(ctx, { positionals }) {
    if (positionals.length === 0) throw usageError('Missing session name');
    if (positionals.length > 1) throw usageError(`Unknown argument: ${positionals[1]}`);
    const name = positionals[0]!;
    const rc = stageCurrentSession();
    try {
      const client = await ctx.control();
      const sessions = await client.request('list-sessions', {});
      if (!sessions.some((s) => s.name === name)) throw new CliError('SESS_NOT_FOUND', `Session '${name}' not found`);
    } catch (err) {
      rc.abandon();
      throw err;
    }
    rc.commit(name);
    ctx.miOutput = sessionsNode([sessionState(name)]);
    ctx.out(`Session set to ${name}`);
    return ExitCode.SUCCESS;
  },
};
