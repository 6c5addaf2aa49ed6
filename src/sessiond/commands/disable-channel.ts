// `disable-channel`: the channel stops recording (its rules stay). Unknown channel: KERN_CHAN_NOT_FOUND or
// UST_CHAN_NOT_FOUND.

import type { CommandResult, Domain } from '../../control/messages.js';
import { channelNotFound } from '../channel-creation.js';
import { checkChannelName } from '../channel-defaults.js';
import { asArgs } from '../command-args.js';
import { domainTracer, type DaemonContext } from '../daemon-context.js';
import type { LockedSession } from '../session.js';
import { channelInfo } from './channel-info.js';

export async function disableChannel(
  ctx: DaemonContext,
  rawArgs: unknown,
  session: LockedSession,
  domain: Domain,
): Promise<CommandResult<'disable-channel'>> {
  const name = checkChannelName(asArgs(rawArgs).channel);
  const channel = session.domainState(domain).channels.get(name);
  if (!channel) throw channelNotFound(domain);
  if (channel.enabled) {
    const tracer = await domainTracer(ctx, session, domain);
    await tracer.disableChannel(name);
    channel.enabled = false;
  }
  return await channelInfo(session, domain, name);
}
