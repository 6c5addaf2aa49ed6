// `ltt snapshot add-output | del-output | list-output | record`: the outputs and snapshots of a snapshot-mode
// session (`ltt create --snapshot`), with lttng's options and messages. Outputs are local folders (a path or
// file:// URL) or a relay (net://HOST[:CTRL[:DATA]][/PATH], or -C/-D tcp:// URLs), parsed here as create does.

import type { RelayTarget, SnapshotOutputInfo } from '../../control/messages.js';
import { isLttError } from '../../errors.js';
import { parseOutputUrls } from '../../relay/relay-url.js';
import type { CommandSpec } from '../command-spec.js';
import { CliError, usageError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { parseSize } from '../size-option.js';
import { array, group, jsonOnly, leaf } from '../output/mi-document.js';
import { snapshotActionNode, snapshotOutputNode } from '../output/mi-model.js';

const ACTIONS = ['add-output', 'del-output', 'list-output', 'record'] as const;

function describe(o: SnapshotOutputInfo): string {
  return `[${o.id}] ${o.name}: ${o.path}${o.maxSize > 0 ? ` (max size: ${o.maxSize} bytes)` : ''}`;
}

/** A network output's relay target (net://, -C/-D tcp://), parsed as create parses -U/-C/-D; none for a folder. */
async function relayOf(url: string, dataUrl: string | undefined): Promise<{ relay?: RelayTarget }> {
  if (dataUrl === undefined && (!/^[a-z0-9]+:\/\//i.test(url) || url.startsWith('file://'))) return {};
  try {
    const parsed = await parseOutputUrls(url, dataUrl);
    return 'relay' in parsed ? { relay: parsed.relay } : {};
  } catch (error) {
    if (isLttError(error)) throw usageError(error.message);
    throw error;
  }
}

function maxSize(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseSize('max-size', text);
  } catch {
    throw usageError(`Unable to handle max-size value ${text}`);
  }
}

export const snapshotCommand: CommandSpec = {
  name: 'snapshot',
  help: `Usage: ltt snapshot [--session=SESSION] ACTION

Actions (snapshot-mode sessions, made with \`ltt create --snapshot\`):
  record [--name=NAME] [--max-size=SIZE] [URL]
                             write what the channels' buffers hold now to URL, or else to the session's
                             snapshot output, in a folder NAME-YYYYmmdd-HHMMSS-N; tracing goes on
  add-output [--name=NAME] [--max-size=SIZE] URL
                             set the session's snapshot output (one per session)
  del-output ID | NAME       remove it
  list-output                show it

URL: an absolute path or file:///PATH.

Options:
  -s, --session=SESSION      the recording session (default: the current session)
  -n, --name=NAME            snapshot name (default: the output's name, snapshot-ID)
  -m, --max-size=SIZE        at most SIZE bytes per snapshot (k, M, G suffixes), shared by the streams
`,
  subcommands: ACTIONS,
  options: {
    session: { type: 'string', short: 's' },
    'ctrl-url': { type: 'string', short: 'C' },
    'data-url': { type: 'string', short: 'D' },
    name: { type: 'string', short: 'n' },
    'max-size': { type: 'string', short: 'm' },
    'list-options': { type: 'boolean' },
    'list-commands': { type: 'boolean' },
  },
  async run(ctx, { positionals, values }) {
    const action = positionals[0];
    if (action === undefined) throw usageError('No action specified for snapshot command.');
    if (!(ACTIONS as readonly string[]).includes(action)) {
      throw new CliError('USAGE', `Unrecognized argument used with 'snapshot' command`, ExitCode.UNDEFINED);
    }
    const name = values.name as string | undefined;
    const size = maxSize(values['max-size'] as string | undefined);
    const extra = (allowed: number): void => {
      if (positionals.length > allowed + 1) throw usageError(`Unknown argument: ${positionals[allowed + 1]}`);
    };
    ctx.miOutput = snapshotActionNode(action, undefined);
    const session = ctx.session(values.session as string | undefined);
    const client = await ctx.control();
    switch (action) {
      case 'add-output': {
        extra(1);
        const url = positionals[1] ?? (values['ctrl-url'] as string | undefined);
        if (url === undefined) throw usageError('An output URL is needed: ltt snapshot add-output URL');
        const relay = await relayOf(url, values['data-url'] as string | undefined);
        const added = await client.request('snapshot-add-output', { session, url, ...relay, ...(name !== undefined ? { name } : {}), ...(size !== undefined ? { maxSize: size } : {}) });
        ctx.miOutput = snapshotActionNode(action, group('snapshot', [
          leaf('id', added.id),
          leaf('name', added.name),
          leaf('ctrl_url', url),
          leaf('session_name', session),
          // lttng's "no limit" is (uint64_t) -1 here (0 in list-output).
          leaf('max_size', added.maxSize === 0 ? 2n ** 64n - 1n : added.maxSize),
        ]));
        ctx.out(`Snapshot output successfully added for session ${session}`);
        ctx.out(`  ${describe(added)}`);
        return ExitCode.SUCCESS;
      }
      case 'del-output': {
        extra(1);
        const which = positionals[1];
        if (which === undefined) throw usageError('An output id or name is needed: ltt snapshot del-output ID|NAME');
        await client.request('snapshot-del-output', { session, output: which });
        ctx.miOutput = snapshotActionNode(action, group('snapshot', [
          /^\d+$/.test(which) ? leaf('id', Number(which)) : leaf('name', which),
          leaf('session_name', session),
        ]));
        ctx.out(/^\d+$/.test(which)
          ? `Snapshot output id ${which} successfully deleted for session ${session}`
          : `Snapshot output ${which} successfully deleted for session ${session}`);
        return ExitCode.SUCCESS;
      }
      case 'list-output': {
        extra(0);
        const outputs = await client.request('snapshot-list-output', { session });
        ctx.miOutput = snapshotActionNode(action, group('session', [leaf('name', session), array('snapshots', outputs.map(snapshotOutputNode))]));
        ctx.out(`Snapshot output list for session ${session}`);
        if (outputs.length === 0) ctx.out('    None');
        for (const o of outputs) ctx.out(`    ${describe(o)}`);
        return ExitCode.SUCCESS;
      }
      default: {
        extra(1);
        // An empty URL is no URL, as for lttng (LTTng's test scripts pass "" when they mean the session's output).
        const url = positionals[1] || (values['ctrl-url'] as string | undefined) || undefined;
        const relay = url !== undefined ? await relayOf(url, values['data-url'] as string | undefined) : {};
        const result = await client.request('snapshot-record', {
          session,
          ...(url !== undefined ? { url } : {}),
          ...relay,
          ...(name !== undefined ? { name } : {}),
          ...(size !== undefined ? { maxSize: size } : {}),
        });
        ctx.miOutput = snapshotActionNode(action, group('snapshot', [
          url !== undefined && leaf('ctrl_url', url),
          jsonOnly(leaf('path', result.path)),
          jsonOnly(leaf('bytes', result.bytes)),
          jsonOnly(leaf('packets', result.packets)),
        ]));
        ctx.out(`Snapshot recorded successfully for session ${session}`);
        if (url !== undefined) ctx.out(`Snapshot written at: ${url}`);
        return ExitCode.SUCCESS;
      }
    }
  },
};
