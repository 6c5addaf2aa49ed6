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
    /** Sessions destroyed with part of their trace lost (a full disk, a relay given up) or that failed to close: each said in its line. */
    let failed = 0;
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
          // With --all, a session listed but destroyed since (another client's destroy) is as asked: gone.
          if (values.all) {
            clearCurrentSession(name);
            continue;
          }
          throw new CliError('SESS_NOT_FOUND', `Session name ${name} not found`);
        }
        if (error instanceof ControlError && error.code === 'TRACE_WRITE_FAILED') {
          // Destroyed all the same: the name is free. Its own line says so and what was lost (with --all, each
          // session's: the first one's alone left the others' losses to the daemon's log), and the rest go on.
          ctx.error(error.message, error.code);
          failed++;
          clearCurrentSession(name);
          continue;
        }
        // With --all, one session that fails to close does not keep the others alive: its line, then the rest.
        // The session may still be there (a tracer that failed to stop keeps it), so it stays the current one.
        if (!values.all || !(error instanceof ControlError)) throw error;
        ctx.error(`Session ${name}: ${error.message}`, error.code);
        failed++;
        continue;
      } finally {
        ctx.miOutput = sessionsNode(destroyed.map(sessionNode));
      }
      clearCurrentSession(name);
      if (archive !== undefined) ctx.out(archiveLocationText(name, archive, archiveRelay));
      ctx.out(`Session ${name} destroyed`);
    }
    return failed > 0 ? ExitCode.ERROR : ExitCode.SUCCESS;
  },
};
