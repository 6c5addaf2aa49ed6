// Human renderers of the listing model, reproducing `lttng list` (lttng-tools 2.13 list.cpp) line for line:
// the session list, one session's domains/trackers/channels/statistics/rules, and the tracepoint and syscall
// catalogs. Each returns the full text; the caller prints it.

import type {
  AgentDomain,
  ChannelInfo,
  DomainInfo,
  EventRuleInfo,
  SessionDetail,
  SessionSummary,
  TracepointInfo,
  TrackerInfo,
} from '../../control/messages.js';
import { loglevelName } from './loglevels.js';

const INDENT4 = '    ';
const INDENT6 = '      ';
const INDENT8 = '        ';

function state(session: SessionSummary): string {
  return `${session.active ? 'active' : 'inactive'}${session.snapshot ? ' snapshot' : ''}`;
}

function shownOutput(session: SessionSummary): string {
  // Snapshot sessions keep their output as a snapshot output, which lttng does not print as "Trace output".
  return session.snapshot ? '' : session.outputPath;
}

/** `ltt list`: most recent session first, numbered. */
export function renderSessionList(sessions: SessionSummary[]): string {
  if (sessions.length === 0) return 'Currently no available recording session\n';
  const lines = ['Available recording sessions:'];
  [...sessions].reverse().forEach((session, i) => {
    lines.push(`  ${i + 1}) ${session.name} [${state(session)}]`);
    if (shownOutput(session)) lines.push(`${INDENT4}Trace output: ${shownOutput(session)}`);
    if (session.outputError) lines.push(`${INDENT4}Output error: ${session.outputError}`);
    if (session.liveTimerUs > 0) lines.push(`${INDENT4}Live timer interval: ${session.liveTimerUs} us`);
    lines.push('');
  });
  lines.push('', 'Use ltt list <session_name> for more details');
  return lines.join('\n') + '\n';
}

const TRACKER_NAMES: Record<TrackerInfo['attribute'], string> = {
  pid: 'Process IDs:',
  vpid: 'Virtual process IDs:',
  uid: 'User IDs:',
  vuid: 'Virtual user IDs:',
  gid: 'Group IDs:',
  vgid: 'Virtual group IDs:',
};

function renderTracker(tracker: TrackerInfo): string {
  const label = `  ${TRACKER_NAMES[tracker.attribute].padEnd(22)}`;
  if (tracker.policy === 'all') return `${label}all`;
  if (tracker.values.length === 0) return `${label}none`;
  return label + tracker.values.map((v) => (typeof v === 'string' ? `\`${v}\`` : String(v))).join(', ');
}

function timer(name: string, pad: number, value: number): string {
  return `${INDENT6}${name}:${' '.repeat(pad)}${value ? `${value} us` : 'inactive'}`;
}

function probeLines(rule: EventRuleInfo): string[] {
  const location = rule.location ?? '';
  if (/^0x[0-9a-f]+$/i.test(location)) return [`${INDENT8}addr: ${location.toLowerCase()}`];
  const [symbol, offset] = location.split('+');
  const offsetValue = offset ? Number(offset) : 0;
  return [`${INDENT8}offset: 0x${(Number.isFinite(offsetValue) ? offsetValue : 0).toString(16)}`, `${INDENT8}symbol: ${symbol}`];
}

function uprobeLines(rule: EventRuleInfo): string[] {
  const location = rule.location ?? '';
  if (location.startsWith('sdt:')) {
    const [, path, provider, name] = location.split(':');
    return [
      `${INDENT8}Type: Tracepoint`,
      `${INDENT8}Binary path:   ${path ?? 'NULL'}`,
      `${INDENT8}Tracepoint:    ${provider ?? 'NULL'}:${name ?? 'NULL'}`,
      `${INDENT8}Lookup method: SDT`,
    ];
  }
  const spec = location.startsWith('elf:') ? location.slice(4) : location;
  const colon = spec.lastIndexOf(':');
  return [
    `${INDENT8}Type: Function`,
    `${INDENT8}Binary path:   ${colon > 0 ? spec.slice(0, colon) : 'NULL'}`,
    `${INDENT8}Function:      ${colon > 0 ? spec.slice(colon + 1) : spec}()`,
    `${INDENT8}Lookup method: ${location.startsWith('elf:') ? 'ELF' : 'default'}`,
  ];
}

export function renderEventRule(rule: EventRuleInfo, domain: DomainInfo['domain']): string[] {
  const enabled = rule.enabled ? ' [enabled]' : ' [disabled]';
  const filter = rule.filter !== undefined ? ` [filter: '${rule.filter}']` : '';
  const exclusions = rule.exclusions?.length ? ` [exclusions: ${rule.exclusions.join(',')}]` : '';
  switch (rule.type) {
    case 'syscall':
      return [`${INDENT6}${rule.name} (type:syscall)${enabled}${filter}`];
    case 'kprobe':
      return [`${INDENT6}${rule.name} (type: probe)${enabled}${filter}`, ...probeLines(rule)];
    case 'function':
      return [`${INDENT6}${rule.name} (type: function)${enabled}${filter}`, ...probeLines(rule)];
    case 'uprobe':
      return [`${INDENT6}${rule.name} (type: userspace-probe)${enabled}`, ...uprobeLines(rule)];
    default: {
      if (rule.loglevel && domain === 'ust') {
        const op = rule.loglevel.type === 'range' ? ' <=' : ' ==';
        return [
          `${INDENT6}${rule.name} (loglevel${op} ${loglevelName(rule.loglevel.level)} (${rule.loglevel.level})) (type: tracepoint)${enabled}${exclusions}${filter}`,
        ];
      }
      return [`${INDENT6}${rule.name} (type: tracepoint)${enabled}${exclusions}${filter}`];
    }
  }
}

/**
 * Kernel channels: the tracefs ring the kernel applied (ftrace sub-buffers go up to 64 KiB; the kernel may keep
 * fewer). The CTF packets keep the sub-buffer size above.
 */
function ringLines(ring: ChannelInfo['ring']): string[] {
  if (!ring) return [];
  const kept = ring.subbufSize !== ring.wantedSubbufSize ? ` (kernel kept, ${ring.wantedSubbufSize} asked)` : '';
  return [`${INDENT6}Kernel buffer:    ${ring.subbufSize}-byte sub-buffers${kept}, ${ring.bytesPerCpu} bytes per CPU`];
}

function renderChannel(channel: ChannelInfo, snapshot: boolean): string[] {
  const a = channel.attributes;
  const lines = [
    `- ${channel.name}:${channel.enabled ? ' [enabled]' : ' [disabled]'}`,
    '',
    `${INDENT4}Attributes:`,
    `${INDENT6}Event-loss mode:  ${a.overwrite ? 'overwrite' : 'discard'}`,
    `${INDENT6}Sub-buffer size:  ${a.subbufSize} bytes`,
    `${INDENT6}Sub-buffer count: ${a.numSubbuf}`,
    timer('Switch timer', 5, a.switchTimerUs),
    timer('Read timer', 7, a.readTimerUs),
    timer('Monitor timer', 4, a.monitorTimerUs),
  ];
  if (!a.overwrite) {
    lines.push(`${INDENT6}Blocking timeout: ${a.blockingTimeoutUs === -1 ? 'infinite' : `${a.blockingTimeoutUs} us`}`);
  }
  lines.push(
    `${INDENT6}Trace file count: ${a.tracefileCount === 0 ? 1 : a.tracefileCount} per stream`,
    `${INDENT6}Trace file size:  ${a.tracefileSize === 0 ? 'unlimited' : `${a.tracefileSize} bytes`}`,
    `${INDENT6}Output mode:      ${a.output}`,
    ...ringLines(channel.ring),
    '',
    `${INDENT4}Statistics:`,
  );
  if (snapshot) lines.push(`${INDENT6}None`);
  else if (a.overwrite) lines.push(`${INDENT6}Lost packets:     ${channel.stats.lostPackets}`);
  else lines.push(`${INDENT6}Discarded events: ${channel.stats.discardedEvents}`);
  lines.push('', `${INDENT4}Recording event rules:`);
  if (channel.events.length === 0) lines.push(`${INDENT6}None`, '');
  else {
    for (const rule of channel.events) lines.push(...renderEventRule(rule, channel.domain));
    lines.push('');
  }
  return lines;
}

/**
 * `ltt list SESSION` (and `ltt status`). `channel` restricts to one channel (-c). With `oneDomain` (`list SESSION
 * -k`/`-u`) lttng prints no "=== Domain: ... ===" banner and no buffering scheme, only trackers and channels.
 * With `channelHeader` the "Channels:" heading is printed even when no channel matches, as lttng does before
 * its "Channel X not found" error.
 */
export function renderSessionDetail(
  session: SessionDetail,
  channel?: string,
  options: { oneDomain?: boolean; channelHeader?: boolean } = {},
): string {
  const lines = [`Recording session ${session.name}: [${state(session)}]`];
  if (shownOutput(session)) lines.push(`${INDENT4}Trace output: ${shownOutput(session)}`, '');
  if (session.outputError) lines.push(`${INDENT4}Output error: ${session.outputError}`, '');
  if (session.liveTimerUs > 0) lines.push(`${INDENT4}Live timer interval: ${session.liveTimerUs} us`, '');
  if (session.rotationTimerUs !== undefined || session.rotationSizeBytes !== undefined) {
    lines.push('Automatic rotation schedules:');
    if (session.rotationTimerUs !== undefined) lines.push(`${INDENT4}timer period: ${session.rotationTimerUs} us`);
    if (session.rotationSizeBytes !== undefined) lines.push(`${INDENT4}size threshold: ${session.rotationSizeBytes} bytes`);
    lines.push('');
  }
  for (const domain of session.domains) {
    if (domain.events !== undefined) {
      if (!options.oneDomain) lines.push(`=== Domain: ${AGENT_DOMAIN_TITLES[domain.domain as AgentDomain]} ===`, '');
      lines.push(...renderAgentRules(domain.events, domain.domain as AgentDomain));
      continue;
    }
    if (options.oneDomain) {
      // lttng's `list SESSION -k|-u` goes straight to the trackers.
    } else if (domain.domain === 'kernel') lines.push('=== Domain: Linux kernel ===', '');
    else lines.push('=== Domain: User space ===', '', `Buffering scheme: ${domain.bufferType === 'per-pid' ? 'per-process' : 'per-user'}`, '');
    lines.push('Tracked process attributes', ...domain.trackers.map(renderTracker), '');
    const channels = channel === undefined ? domain.channels : domain.channels.filter((c) => c.name === channel);
    if (channels.length > 0 || options.channelHeader) lines.push('Channels:', '-------------');
    for (const c of channels) lines.push(...renderChannel(c, session.snapshot));
  }
  return lines.join('\n') + '\n';
}

const AGENT_DOMAIN_TITLES: Record<AgentDomain, string> = { jul: 'java.util.logging (JUL)', log4j: 'log4j', python: 'Python logging' };

/** An agent domain's rules, as lttng's list_session_agent_events() prints them. */
function renderAgentRules(rules: EventRuleInfo[], domain: AgentDomain): string[] {
  if (rules.length === 0) return ['Events (Logger name):', '---------------------', `${INDENT6}None`, ''];
  return [
    'Events (Logger name):',
    '---------------------',
    ...rules.map((rule) => {
      const enabled = rule.enabled ? ' [enabled]' : ' [disabled]';
      const filter = rule.filter !== undefined ? ` [filter: '${rule.filter}']` : '';
      const level = rule.loglevel
        ? ` (loglevel${rule.loglevel.type === 'single' ? ' ==' : ' <='} ${loglevelName(rule.loglevel.level, domain)})`
        : '';
      return `${INDENT4}- ${rule.name}${enabled}${level}${filter}`;
    }),
    '',
  ];
}

/** `ltt list -j|-l|-p`: the loggers of the registered agents, of which ltt has none. */
export function renderAgentLoggers(domain: AgentDomain): string {
  return `${domain} events (Logger name):\n-------------------------\nNone\n\n`;
}

/** `ltt list --kernel` / `ltt list --userspace`. */
export function renderTracepoints(domain: DomainInfo['domain'], tracepoints: TracepointInfo[], withFields = false): string {
  const lines = [domain === 'kernel' ? 'Kernel events:' : 'UST events:', '-------------'];
  if (domain === 'ust' && tracepoints.length === 0) lines.push('None');
  let pid: number | undefined;
  for (const tp of tracepoints) {
    if (domain === 'ust' && tp.pid !== undefined && tp.pid !== pid) {
      pid = tp.pid;
      lines.push('', `PID: ${tp.pid} - Name: ${tp.procname ?? ''}`);
    }
    const level = tp.loglevel ?? (domain === 'kernel' ? 0 : undefined);
    lines.push(
      level !== undefined
        ? `${INDENT6}${tp.name} (loglevel: ${loglevelName(level)} (${level})) (type: tracepoint)`
        : `${INDENT6}${tp.name} (type: tracepoint)`,
    );
    // lttng calls the fields it cannot class "unknown".
    if (withFields) for (const f of tp.fields ?? []) lines.push(`${INDENT8}field: ${f.name} (${f.type === 'other' ? 'unknown' : f.type})`);
  }
  lines.push('');
  return lines.join('\n') + '\n';
}

/** `ltt list --kernel --syscall`. */
export function renderSyscalls(syscalls: TracepointInfo[]): string {
  const lines = ['System calls:', '-------------'];
  for (const sc of syscalls) lines.push(`${INDENT6}${sc.name}${sc.bitness ? ` [${sc.bitness}]` : ''}`);
  lines.push('');
  return lines.join('\n') + '\n';
}
