// `disable-event`: disables the rules named exactly `name` (of `type` when given; LTTng ignores filters and log
// levels here), or every rule of the channel with `all`. Rules are never deleted, as in LTTng. Agent domains'
// rules (enable-event.ts) are disabled in the session; their user-space channel and rule stay.

import { ControlError } from '../../control/error-codes.js';
import { AGENT_CHANNELS, isAgentDomain, type CommandResult, type EventRuleInfo, type EventType, type RuleDomain } from '../../control/messages.js';
import { channelNotFound } from '../channel-creation.js';
import { DEFAULT_CHANNEL_NAME } from '../channel-defaults.js';
import { asArgs, oneOf, optionalBoolean, optionalString } from '../command-args.js';
import { domainTracer, type DaemonContext } from '../daemon-context.js';
import type { LockedSession } from '../session.js';

const EVENT_TYPES: readonly EventType[] = ['tracepoint', 'syscall', 'kprobe', 'function', 'uprobe', 'all'];

export async function disableEvent(
  ctx: DaemonContext,
  rawArgs: unknown,
  session: LockedSession,
  domain: RuleDomain,
): Promise<CommandResult<'disable-event'>> {
  const args = asArgs(rawArgs);
  const all = optionalBoolean(args, 'all');
  const name = all ? '*' : optionalString(args, 'name');
  if (!name) throw new ControlError('INVALID_EVENT_NAME');
  const type = oneOf(args, 'type', EVENT_TYPES, 'all');
  if (isAgentDomain(domain)) {
    const targets = (session.agentRules.get(domain) ?? []).filter((rule) => all || name === '*' || rule.name === name);
    if (targets.length === 0) throw new ControlError('UST_EVENT_NOT_FOUND');
    for (const rule of targets) rule.enabled = false;
    return { channel: AGENT_CHANNELS[domain].channel, disabled: targets.map((rule) => ({ ...rule })) };
  }
  const channelName = optionalString(args, 'channel') ?? DEFAULT_CHANNEL_NAME;
  const channel = session.domainState(domain).channels.get(channelName);
  if (!channel) throw channelNotFound(domain);

  const targets = channel.events.filter(
    (rule) => (all || rule.name === name) && (type === 'all' || rule.type === type),
  );
  if (targets.length === 0) throw new ControlError(domain === 'kernel' ? 'NO_EVENT' : 'UST_EVENT_NOT_FOUND');
  const tracer = await domainTracer(ctx, session, domain);
  const disabled: EventRuleInfo[] = [];
  for (const rule of targets) {
    if (rule.enabled) {
      await tracer.disableEvent(channel.name, rule.name, rule.type as Exclude<EventType, 'all'>);
      rule.enabled = false;
    }
    disabled.push({ ...rule });
  }
  return { channel: channel.name, disabled };
}
