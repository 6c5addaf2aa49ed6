// `enable-channel`: creates a channel with the given attributes over the domain defaults, or re-enables a
// disabled one. An enabled channel of that name is KERN_CHAN_EXIST / UST_CHAN_EXIST (a warning in the CLI);
// after the first start no channel can be created or re-enabled (LTTng 2.13).

import { ControlError } from '../../control/error-codes.js';
import type { ChannelAttributes, CommandResult, Domain } from '../../control/messages.js';
import { createChannel } from '../channel-creation.js';
import { checkChannelName } from '../channel-defaults.js';
import { asArgs } from '../command-args.js';
import { domainTracer, type DaemonContext } from '../daemon-context.js';
import type { LockedSession } from '../session.js';
import { channelInfo } from './channel-info.js';

export async function enableChannel(
  ctx: DaemonContext,
  rawArgs: unknown,
  session: LockedSession,
  domain: Domain,
): Promise<CommandResult<'enable-channel'>> {
  const args = asArgs(rawArgs);
  const name = checkChannelName(args.channel);
  const attributes = args.attributes === undefined ? undefined : asArgs(args.attributes);
  const state = session.domainState(domain);
  const existing = state.channels.get(name);
  if (existing) {
    if (existing.enabled || (attributes && Object.keys(attributes).length > 0)) {
      throw new ControlError(domain === 'kernel' ? 'KERN_CHAN_EXIST' : 'UST_CHAN_EXIST');
    }
    if (session.startedOnce) throw new ControlError('TRACE_ALREADY_STARTED');
    const tracer = await domainTracer(ctx, session, domain);
    await tracer.enableChannel(name);
    existing.enabled = true;
    return { channel: await channelInfo(session, domain, name), created: false };
  }
  const buffers = args.buffers === 'per-uid' || args.buffers === 'per-pid' ? args.buffers : undefined;
  await createChannel(ctx, session, domain, name, attributes as Partial<ChannelAttributes> | undefined, buffers);
  return { channel: await channelInfo(session, domain, name), created: true };
}
