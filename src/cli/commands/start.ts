// `ltt start [SESSION]`: starts recording. Already active: lttng's warning and exit 4.

import { ControlError } from '../../control/error-codes.js';
import type { CommandSpec } from '../command-spec.js';
import { usageError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { sessionState, sessionsNode } from '../output/mi-model.js';

export const startCommand: CommandSpec = {
  name: 'start',
  help: `Usage: ltt start [SESSION]

Start recording in SESSION (default: the current session). Its channels must exist already.
`,
  options: {},
  async run(ctx, { positionals }) {
    if (positionals.length > 1) throw usageError(`Unknown argument: ${positionals[1]}`);
    ctx.miOutput = sessionsNode([]);
    const name = ctx.session(positionals[0]);
    const client = await ctx.control();
    try {
      await client.request('start-session', { session: name });
    } catch (error) {
      if (error instanceof ControlError) {
        if (error.code === 'TRACE_ALREADY_STARTED') {
          ctx.miError = error.toWire();
          ctx.warn(`Tracing already started for session ${name}`);
          return ExitCode.WARNING;
        }
      }
      throw error;
    }
    ctx.miOutput = sessionsNode([sessionState(name, true)]);
    ctx.out(`Tracing started for session ${name}`);
    return ExitCode.SUCCESS;
  },
};
