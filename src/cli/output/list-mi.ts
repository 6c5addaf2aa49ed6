// `--mi json` renderers of the listing model (the daemon's SessionSummary / SessionDetail / TracepointInfo).
// Key names follow LTTng's MI schema (mi-lttng-4.1.xsd element names) so tools written against lttng's XML
// find the same fields.

import type {
  ChannelInfo,
  DomainInfo,
  EventRuleInfo,
  SessionDetail,
  SessionSummary,
  TracepointInfo,
  TrackerInfo,
} from '../../control/messages.js';

export function sessionMi(session: SessionSummary): Record<string, unknown> {
  return {
    name: session.name,
    path: session.outputPath,
    enabled: session.active,
    snapshot_mode: session.snapshot ? 1 : 0,
    live_timer_interval: session.liveTimerUs,
  };
}

export function eventMi(rule: EventRuleInfo): Record<string, unknown> {
  return {
    name: rule.name,
    type: rule.type === 'kprobe' ? 'PROBE' : rule.type === 'uprobe' ? 'USERSPACE_PROBE' : rule.type.toUpperCase(),
    enabled: rule.enabled,
    ...(rule.filter !== undefined ? { filter_expression: rule.filter } : {}),
    ...(rule.location !== undefined ? { location: rule.location } : {}),
    ...(rule.loglevel
      ? { loglevel_type: rule.loglevel.type === 'range' ? 'RANGE' : 'SINGLE', loglevel: rule.loglevel.level }
      : { loglevel_type: 'ALL' }),
    exclusions: rule.exclusions ?? [],
  };
}

export function channelMi(channel: ChannelInfo): Record<string, unknown> {
  const a = channel.attributes;
  return {
    name: channel.name,
    enabled: channel.enabled,
    attributes: {
      overwrite_mode: a.overwrite ? 'OVERWRITE' : 'DISCARD',
      subbuffer_size: a.subbufSize,
      subbuffer_count: a.numSubbuf,
      switch_timer_interval: a.switchTimerUs,
      read_timer_interval: a.readTimerUs,
      monitor_timer_interval: a.monitorTimerUs,
      blocking_timeout: a.blockingTimeoutUs,
      output_type: a.output.toUpperCase(),
      tracefile_size: a.tracefileSize,
      tracefile_count: a.tracefileCount,
      live_timer_interval: a.liveTimerUs,
      discarded_events: channel.stats.discardedEvents,
      lost_packets: channel.stats.lostPackets,
      ...(channel.ring ? {
        kernel_subbuffer_size: channel.ring.subbufSize,
        kernel_subbuffer_size_requested: channel.ring.wantedSubbufSize,
        kernel_buffer_size_per_cpu: channel.ring.bytesPerCpu,
      } : {}),
    },
    contexts: channel.contexts,
    events: channel.events.map(eventMi),
  };
}

function trackerMi(tracker: TrackerInfo): Record<string, unknown> {
  return { process_attr: tracker.attribute, policy: tracker.policy === 'all' ? 'INCLUDE_ALL' : 'INCLUDE_SET', values: tracker.values };
}

export function domainMi(domain: DomainInfo): Record<string, unknown> {
  return {
    type: domain.domain === 'kernel' ? 'KERNEL' : 'UST',
    buffer_type: domain.bufferType === 'global' ? 'GLOBAL' : domain.bufferType === 'per-uid' ? 'PER_UID' : 'PER_PID',
    process_attr_trackers: domain.trackers.map(trackerMi),
    channels: domain.channels.map(channelMi),
  };
}

export function sessionDetailMi(session: SessionDetail, channel?: string): Record<string, unknown> {
  return {
    ...sessionMi(session),
    domains: session.domains.map((d) => {
      const mi = domainMi(d);
      if (channel !== undefined) mi.channels = (mi.channels as Array<{ name: string }>).filter((c) => c.name === channel);
      return mi;
    }),
  };
}

export function tracepointMi(tracepoint: TracepointInfo): Record<string, unknown> {
  return {
    name: tracepoint.name,
    type: tracepoint.type.toUpperCase(),
    ...(tracepoint.loglevel !== undefined ? { loglevel: tracepoint.loglevel } : {}),
    ...(tracepoint.bitness !== undefined ? { bitness: tracepoint.bitness } : {}),
    ...(tracepoint.pid !== undefined ? { pid: tracepoint.pid, procname: tracepoint.procname ?? '' } : {}),
  };
}
