// `ltt stop [SESSION]`: stops recording; the daemon answers once the buffers are flushed, so the trace is
// complete and readable when this returns. Already stopped: lttng's warning and exit 4.

import { ControlError } from '../../control/error-codes.js';
import type { CommandSpec } from '../command-spec.js';
import { usageError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { sessionState, sessionsNode } from '../output/mi-model.js';

export const stopCommand: CommandSpec = {
  name: 'stop',
  help: `Usage: ltt stop [--no-wait] [SESSION]

Stop recording in SESSION (default: the current session) and wait until the trace data is flushed.
`,
  options: { 'list-options': { type: 'boolean' }, 'no-wait': { type: 'boolean', short: 'n' } },
  async run(ctx, { positionals, values }) {
    if (positionals.length > 1) throw usageError(`Unknown argument: ${positionals[1]}`);
    ctx.miOutput = sessionsNode([]);
    const name = ctx.session(positionals[0]);
    const client = await ctx.control();
    try {
      await client.request('stop-session', { session: name });
    } catch (error) {
      if (error instanceof ControlError) {
        if (error.code === 'TRACE_ALREADY_STOPPED') {
          ctx.miError = error.toWire();
          ctx.warn(`Tracing already stopped for session ${name}`);
          return ExitCode.WARNING;
        }
      }
      throw error;
    }
    ctx.miOutput = sessionsNode([sessionState(name, false)]);
    // The daemon answers once the data is flushed; the wait line is printed as lttng does, after the fact.
    if (!values['no-wait']) ctx.out('Waiting for data availability');
    ctx.out(`Tracing stopped for session ${name}`);
    return ExitCode.SUCCESS;
  },
};
