// `ltt disable-event (-k|-u) [--tracepoint|--syscall|--probe|--function] (-a | NAME[,NAME...]) [-c CHANNEL]
// [-s SESSION]`: disables rules by exact name and type (LTTng ignores filters here); rules are never deleted.

import { ControlError } from '../../control/error-codes.js';
import type { EventType } from '../../control/messages.js';
import type { CommandSpec } from '../command-spec.js';
import { usageError } from '../cli-error.js';
import { domainOptions, domainLabel, ruleDomainFrom, splitNameList } from '../domain-option.js';
import { ExitCode } from '../exit-codes.js';
import { successNode } from '../output/mi-model.js';
import { array, group, leaf, type MiNode } from '../output/mi-document.js';

export const disableEventCommand: CommandSpec = {
  name: 'disable-event',
  help: `Usage: ltt disable-event (-k [--tracepoint | --syscall | --probe | --function] | -u [--tracepoint])
                         (-a | NAME[,NAME...]) [-c CHANNEL] [-s SESSION]

Disable the rules named NAME (exact match; of the given type, else any type) in CHANNEL (default: channel0).
`,
  options: {
    session: { type: 'string', short: 's' },
    'all-events': { type: 'boolean', short: 'a' },
    channel: { type: 'string', short: 'c' },
    ...domainOptions('jul', 'log4j', 'python', 'kernel', 'userspace'),
    syscall: { type: 'boolean' },
    probe: { type: 'boolean' },
    tracepoint: { type: 'boolean' },
    function: { type: 'boolean' },
    // lttng's event type "all" (any instrumentation), the default.
    all: { type: 'boolean' },
  },
  async run(ctx, { values, positionals }) {
    const domain = ruleDomainFrom(values);
    const flags = (['tracepoint', 'syscall', 'probe', 'function', 'all'] as const).filter((f) => values[f]);
    if (flags.length > 1) throw usageError('Only one event type can be specified');
    const type = (
      flags[0] === 'probe' ? 'kprobe' : flags[0] === 'function' ? 'function' : (flags[0] ?? 'all')
    ) as EventType;
    if (domain !== 'kernel' && type !== 'all' && type !== 'tracepoint') {
      throw usageError(domain === 'ust' ? 'Event type not available for user-space tracing' : 'Event type not supported for domain.');
    }
    const all = Boolean(values['all-events']);
    if (!all && positionals.length === 0) throw usageError('Missing event name(s).');
    if (positionals.length > (all ? 0 : 1)) throw usageError(`Unknown argument: ${positionals[all ? 0 : 1]}`);
    const session = ctx.session(values.session as string | undefined);
    const client = await ctx.control();
    const label = domainLabel(domain);
    const channelArg = values.channel as string | undefined;
    const shownChannel = channelArg ?? 'channel0';
    const typeText = type === 'all' ? 'any' : type;
    const events: MiNode[] = [];
    // lttng echoes each name asked for: disabled (enabled false) when that worked, in the channel named.
    const state = (name: string, disabled: boolean): MiNode =>
      group('event', [leaf('name', name), leaf('enabled', !disabled), successNode(disabled)]);
    let channelName = shownChannel;
    let code = ExitCode.SUCCESS as ExitCode;
    for (const name of all ? ['*'] : splitNameList(positionals[0]!)) {
      try {
        const result = await client.request('disable-event', {
          session,
          domain,
          ...(channelArg !== undefined ? { channel: channelArg } : {}),
          name,
          type,
          ...(all ? { all: true } : {}),
        });
        events.push(state(name, true));
        channelName = result.channel;
        ctx.out(
          all
            ? `All ${label} ${type === 'syscall' ? 'system calls' : type === 'tracepoint' ? 'tracepoints' : 'events'} are disabled in channel ${result.channel}`
            : `${label} ${name} of type ${typeText} disabled in channel ${result.channel} for session ${session}`,
        );
      } catch (error) {
        if (!(error instanceof ControlError)) throw error;
        events.push(state(name, false));
        ctx.error(`${name} of type ${typeText} : ${error.message} (channel ${shownChannel}, session ${session})`, error.code);
        code = ExitCode.ERROR;
      }
    }
    ctx.miOutput = group('channel', [leaf('name', channelName), array('events', events)]);
    return code;
  },
};
