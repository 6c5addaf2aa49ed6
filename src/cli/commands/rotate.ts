// `ltt rotate [--no-wait] [SESSION]`: archives the recording session's current trace chunk as lttng rotate does
// (OUTPUT/archives/BEGIN-END-ID, a trace of its own), and prints where it is. The daemon answers once the
// archive is complete, so --no-wait (accepted for lttng's scripts) changes nothing but the waiting line.

import type { CommandSpec } from '../command-spec.js';
import { usageError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { archiveLocationNode, archiveLocationText } from '../output/archive-location.js';
import { group, leaf } from '../output/mi-document.js';

export const rotateCommand: CommandSpec = {
  name: 'rotate',
  help: `Usage: ltt rotate [--no-wait] [SESSION]

Archive what SESSION (default: the current session) recorded since it started or was last rotated into
OUTPUT/archives/BEGIN-END-ID, a self-contained trace; recording goes on in a new trace chunk (network
sessions: the relay daemon archives it in HOSTNAME/SESSION-DATE/archives/). An inactive session can be rotated
once after each stop. Not for snapshot or live sessions.
`,
  options: { 'list-options': { type: 'boolean' }, 'no-wait': { type: 'boolean', short: 'n' } },
  async run(ctx, { positionals, values }) {
    if (positionals.length > 1) throw usageError(`Unknown argument: ${positionals[1]}`);
    const name = ctx.session(positionals[0]);
    const client = await ctx.control();
    const { archive, relay } = await client.request('rotate-session', { session: name });
    if (!values['no-wait']) ctx.out('Waiting for rotation to complete...');
    ctx.miOutput = group('rotation', [
      leaf('session_name', name),
      leaf('state', 'COMPLETED'),
      archiveLocationNode(archive, relay),
    ]);
    ctx.out(archiveLocationText(name, archive, relay));
    return ExitCode.SUCCESS;
  },
};
