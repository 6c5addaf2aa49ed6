// `ltt disable-channel (-k|-u) [-s SESSION] CHANNEL[,CHANNEL...]`: disables channels (their rules stay).

import { ControlError, oneLine } from '../../control/error-codes.js';
import type { CommandSpec } from '../command-spec.js';
import { usageError } from '../cli-error.js';
import { domainFrom, domainOptions, domainLabel, splitNameList } from '../domain-option.js';
import { ExitCode } from '../exit-codes.js';
import { array, group, leaf, type MiNode } from '../output/mi-document.js';
import { successNode } from '../output/mi-model.js';

/** lttng echoes each channel named: disabled (enabled false) when that worked. */
const channelState = (name: string, disabled: boolean): MiNode =>
  group('channel', [leaf('name', name), leaf('enabled', !disabled), successNode(disabled)]);

export const disableChannelCommand: CommandSpec = {
  name: 'disable-channel',
  help: `Usage: ltt disable-channel (-k | -u) [-s SESSION] CHANNEL[,CHANNEL...]

Disable channels of SESSION (default: the current session).
`,
  options: { session: { type: 'string', short: 's' }, ...domainOptions('kernel', 'userspace') },
  async run(ctx, { values, positionals }) {
    const domain = domainFrom(values);
    if (positionals.length === 0) throw usageError('Missing channel name(s).');
    if (positionals.length > 1) throw usageError(`Unknown argument: ${positionals[1]}`);
    const session = ctx.session(values.session as string | undefined);
    const client = await ctx.control();
    const channels: MiNode[] = [];
    let code = ExitCode.SUCCESS as ExitCode;
    for (const name of splitNameList(positionals[0]!)) {
      try {
        await client.request('disable-channel', { session, domain, channel: name });
        channels.push(channelState(name, true));
        ctx.out(`${domainLabel(domain)} channel ${name} disabled for session ${session}`);
      } catch (error) {
        if (!(error instanceof ControlError)) throw error;
        channels.push(channelState(name, false));
        ctx.error(`Channel ${oneLine(name)}: ${error.message} (session ${session})`, error.code);
        // lttng prints an error line but ends with a warning (exit 4).
        code = ExitCode.WARNING;
      }
    }
    ctx.miOutput = array('channels', channels);
    return code;
  },
};
