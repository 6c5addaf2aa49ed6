// Creating a channel, shared by enable-channel and by the commands that create the default channel on first
// use (enable-event, add-context without -c). LTTng's rules: no new channel once the session has been started,
// attributes resolved over the domain defaults, the tracer told before the bookkeeping records it.

import { ControlError } from '../control/error-codes.js';
import type { ChannelAttributes, Domain } from '../control/messages.js';
import { checkChannelName, DEFAULT_CHANNEL_NAME, resolveChannelAttributes } from './channel-defaults.js';
import { domainTracer, type DaemonContext } from './daemon-context.js';
import type { ChannelState, LockedSession } from './session.js';

export async function createChannel(
  ctx: DaemonContext,
  session: LockedSession,
  domain: Domain,
  name: string,
  requested: Partial<ChannelAttributes> | undefined,
  buffers?: 'per-uid' | 'per-pid',
): Promise<ChannelState> {
  checkChannelName(name);
  if (session.startedOnce) throw new ControlError('TRACE_ALREADY_STARTED');
  // LTTng: the domain's first channel sets its buffering (per-UID unless asked), later ones must agree.
  const state = session.domainState(domain);
  if (domain !== 'kernel') {
    const type = buffers ?? (state.channels.size > 0 ? state.bufferType : 'per-uid');
    if (state.channels.size > 0 && type !== state.bufferType) throw new ControlError('BUFFER_TYPE_MISMATCH');
    state.bufferType = type;
  }
  const attributes = resolveChannelAttributes(domain, requested, session);
  const tracer = await domainTracer(ctx, session, domain);
  const ring = await tracer.createChannel(name, {
    subbufSize: attributes.subbufSize,
    numSubbuf: attributes.numSubbuf,
    overwrite: attributes.overwrite,
    switchTimerUs: attributes.switchTimerUs,
    readTimerUs: attributes.readTimerUs,
    tracefileSize: attributes.tracefileSize,
    tracefileCount: attributes.tracefileCount,
    blockingTimeoutUs: attributes.blockingTimeoutUs,
    liveTimerUs: attributes.liveTimerUs,
    ...(domain !== 'kernel' ? { buffers: state.bufferType as 'per-uid' | 'per-pid' } : {}),
  });
  const channel: ChannelState = { name, enabled: true, attributes, events: [], contexts: [], ...(ring ? { ring } : {}) };
  session.domainState(domain).channels.set(name, channel);
  ctx.log(`Session ${session.name}: ${domain} channel ${name} created`);
  return channel;
}

/**
 * The channel a command without -c targets: channel0, created with the defaults when the domain has no channel
 * yet; an error when other channels exist but not channel0 (the user must say which).
 */
export async function defaultChannel(
  ctx: DaemonContext,
  session: LockedSession,
  domain: Domain,
): Promise<{ channel: ChannelState; created: boolean }> {
  const channels = session.domainState(domain).channels;
  const existing = channels.get(DEFAULT_CHANNEL_NAME);
  if (existing) return { channel: existing, created: false };
  if (channels.size > 0) throw new ControlError('NEED_CHANNEL_NAME');
  return { channel: await createChannel(ctx, session, domain, DEFAULT_CHANNEL_NAME, undefined), created: true };
}

export function channelNotFound(domain: Domain): ControlError {
  return new ControlError(domain === 'kernel' ? 'KERN_CHAN_NOT_FOUND' : 'UST_CHAN_NOT_FOUND');
}
