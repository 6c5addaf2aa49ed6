// `ltt destroy [SESSION | -a]`: stops (flushing) and destroys sessions; the trace files stay. Destroying the
// current session forgets it (the .lttrc goes, as lttng's .lttngrc does).

import { archiveLocationText, type RelayPlace } from '../output/archive-location.js';
import { ControlError } from '../../control/error-codes.js';
import type { SessionSummary } from '../../control/messages.js';
import type { CommandSpec } from '../command-spec.js';
import { CliError, usageError } from '../cli-error.js';
import { clearCurrentSession } from '../current-session.js';
import { ExitCode } from '../exit-codes.js';
import { sessionNode, sessionsNode } from '../output/mi-model.js';

export const destroyCommand: CommandSpec = {
  name: 'destroy',
  help: `Usage: ltt destroy [--no-wait] [--all | SESSION]

Stop and destroy SESSION (default: the current session), or every session with --all. Trace files are kept.
`,
  options: { all: { type: 'boolean', short: 'a' }, 'list-options': { type: 'boolean' }, 'no-wait': { type: 'boolean', short: 'n' } },
  async run(ctx, { positionals, values }) {
    if (positionals.length > 1) throw usageError(`Unknown argument: ${positionals[1]}`);
    if (values.all && positionals.length > 0) throw usageError('--all cannot be used with a session name');
    ctx.miOutput = sessionsNode([]);
    const client = await ctx.control();
    const names = values.all
      ? (await client.request('list-sessions', {})).map((s) => s.name).reverse()
      : [ctx.session(positionals[0])];
    const destroyed: SessionSummary[] = [];
    if (values.all && names.length === 0) {
      ctx.out('No session found, nothing to do.');
      return ExitCode.SUCCESS;
    }
    /** A session destroyed with part of its trace lost (a relay given up): said once the others are destroyed too. */
    let lost: ControlError | undefined;
    for (const name of names) {
      let archive: string | undefined;
      let archiveRelay: RelayPlace | undefined;
      try {
        const result = await client.request('destroy-session', { session: name });
        archive = result.archive;
        archiveRelay = result.archiveRelay;
        destroyed.push(result);
      } catch (error) {
        if (error instanceof ControlError && error.code === 'SESS_NOT_FOUND') {
          throw new CliError('SESS_NOT_FOUND', `Session name ${name} not found`);
        }
        if (!(error instanceof ControlError && error.code === 'TRACE_WRITE_FAILED')) throw error;
        // Destroyed all the same: the name is free; the error's one line says so and what was lost.
        lost ??= error;
        clearCurrentSession(name);
        continue;
      } finally {
        ctx.miOutput = sessionsNode(destroyed.map(sessionNode));
      }
      clearCurrentSession(name);
      if (archive !== undefined) ctx.out(archiveLocationText(name, archive, archiveRelay));
      ctx.out(`Session ${name} destroyed`);
    }
    if (lost !== undefined) throw lost;
    return ExitCode.SUCCESS;
  },
};
