// `add-context`: adds a context field to one channel (-c) or to every channel of the domain, creating channel0
// when the domain has none (LTTng does). Refused after the first start, for a context the domain lacks, and
// (KERN_/UST_CONTEXT_EXIST, a warning) for a context a target channel already has.

import { ControlError } from '../../control/error-codes.js';
import { domainHasContext, isKnownContext } from '../../control/context-types.js';
import type { CommandResult, Domain } from '../../control/messages.js';
import { channelNotFound, defaultChannel } from '../channel-creation.js';
import { asArgs, optionalString, requiredString } from '../command-args.js';
import { domainTracer, type DaemonContext } from '../daemon-context.js';
import type { ChannelState, LockedSession } from '../session.js';

export async function addContext(
  ctx: DaemonContext,
  rawArgs: unknown,
  session: LockedSession,
  domain: Domain,
): Promise<CommandResult<'add-context'>> {
  const args = asArgs(rawArgs);
  const context = requiredString(args, 'context');
  if (!isKnownContext(context) || !domainHasContext(domain, context)) {
    throw domain === 'kernel'
      ? new ControlError('KERN_CONTEXT_FAIL', `Add kernel context failed: ${context} is not a kernel context`)
      : new ControlError('UST_CONTEXT_INVAL', `UST invalid context: ${context} is not a user space context`);
  }
  if (session.startedOnce) throw new ControlError('TRACE_ALREADY_STARTED');
  const channelName = optionalString(args, 'channel');
  const channels = session.domainState(domain).channels;
  let targets: ChannelState[];
  if (channelName !== undefined) {
    const channel = channels.get(channelName);
    if (!channel) throw channelNotFound(domain);
    targets = [channel];
  } else if (channels.size === 0) {
    targets = [(await defaultChannel(ctx, session, domain)).channel];
  } else {
    targets = [...channels.values()];
  }
  if (targets.some((c) => c.contexts.includes(context))) {
    throw new ControlError(domain === 'kernel' ? 'KERN_CONTEXT_EXIST' : 'UST_CONTEXT_EXIST');
  }
  const tracer = await domainTracer(ctx, session, domain);
  await tracer.addContext(channelName, context);
  for (const channel of targets) channel.contexts.push(context);
  return { channels: targets.map((c) => c.name) };
}
