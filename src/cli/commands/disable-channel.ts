// `ltt disable-channel (-k|-u) [-s SESSION] CHANNEL[,CHANNEL...]`: disables channels (their rules stay).

import { ControlError, oneLine } from '../../control/error-codes.js';
import type { CommandSpec } from '../command-spec.js';
import { usageError } from '../cli-error.js';
import { domainFrom, domainOptions, domainLabel, splitNameList } from '../domain-option.js';
import { ExitCode } from '../exit-codes.js';

export const disableChannelCommand: CommandSpec = {
  name: 'disable-channel',
  summary: 'Disable channels',
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
    const channels: unknown[] = [];
    let code = ExitCode.SUCCESS as ExitCode;
    for (const name of splitNameList(positionals[0]!)) {
      try {
        await client.request('disable-channel', { session, domain, channel: name });
        channels.push({ name, enabled: false, success: true });
        ctx.out(`${domainLabel(domain)} channel ${name} disabled for session ${session}`);
      } catch (error) {
        if (!(error instanceof ControlError)) throw error;
        channels.push({ name, success: false });
        ctx.error(`Channel ${oneLine(name)}: ${error.message} (session ${session})`, error.code);
        code = ExitCode.ERROR;
      }
    }
    ctx.miOutput = { channels };
    return code;
  },
};
