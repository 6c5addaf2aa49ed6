// `ltt clear [SESSION | -a]`: as lttng clear, what recording sessions recorded so far goes (the current trace
// chunk's files start again empty, archives stay; snapshot sessions drop their buffers); recording goes on.

import { ControlError } from '../../control/error-codes.js';
import type { CommandSpec } from '../command-spec.js';
import { CliError, usageError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { sessionNode, sessionsNode } from '../output/mi-model.js';
import type { MiNode } from '../output/mi-document.js';

export const clearCommand: CommandSpec = {
  name: 'clear',
  help: `Usage: ltt clear [--all | SESSION]

Delete what SESSION (default: the current session), or every session with --all, recorded so far: the trace
files of its current chunk (archives of earlier rotations stay) or, in snapshot mode, its buffers. Recording
goes on.
`,
  options: { all: { type: 'boolean', short: 'a' } },
  async run(ctx, { positionals, values }) {
    if (positionals.length > 1) throw usageError(`Unknown argument: ${positionals[1]}`);
    if (values.all && positionals.length > 0) throw usageError('--all cannot be used with a session name');
    ctx.miOutput = sessionsNode([]);
    const client = await ctx.control();
    // lttng goes through the sessions newest first, as it lists them.
    const names = values.all ? (await client.request('list-sessions', {})).map((s) => s.name).reverse() : [ctx.session(positionals[0])];
    const cleared: MiNode[] = [];
    for (const name of names) {
      try {
        const summary = await client.request('clear-session', { session: name });
        cleared.push(sessionNode(summary));
        if (summary.active) ctx.out(`Waiting for clear of session "${name}"..`);
      } catch (error) {
        if (error instanceof ControlError && error.code === 'SESS_NOT_FOUND') throw new CliError('SESS_NOT_FOUND', `Session name ${name} not found`);
        throw error;
      } finally {
        ctx.miOutput = sessionsNode(cleared);
      }
      ctx.out(`Session "${name}" cleared`);
    }
    return ExitCode.SUCCESS;
  },
};
