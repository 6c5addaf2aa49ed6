// The wire view of one channel (with live statistics), for the answers of channel commands.

import type { ChannelInfo, Domain } from '../../control/messages.js';
import type { LockedSession } from '../session.js';

export async function channelInfo(session: LockedSession, domain: Domain, name: string): Promise<ChannelInfo> {
  const state = session.domainState(domain);
  const stats = state.tracer ? await state.tracer.stats() : [];
  const info = state.toInfo(stats).channels.find((c) => c.name === name);
  if (!info) throw new Error(`channel ${name} vanished while locked`);
  return info;
}
