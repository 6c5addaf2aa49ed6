// LTTng's MI elements for ltt's model (the daemon's SessionSummary / SessionDetail / TracepointInfo, the CLI's
// results): names, order and nesting of mi-lttng-4.1.xsd as lttng 2.13 writes them (src/common/mi-lttng.c and
// the commands' own elements), so one tree serves both --mi xml and --mi json (output/mi-document.ts).

import { perfCounterCode } from '../../control/context-types.js';
import type {
  ChannelInfo,
  DomainInfo,
  EventRuleInfo,
  EventRuleSpec,
  ProcessAttribute,
  RuleDomain,
  SessionDetail,
  SessionSummary,
  SnapshotOutputInfo,
  TracepointInfo,
  TrackerInfo,
} from '../../control/messages.js';
import { array, group, jsonOnly, leaf, type MiNode } from './mi-document.js';
import { loglevelName } from './loglevels.js';
import { relayUris } from '../../relay/relay-url.js';

export const successNode = (success: boolean): MiNode => leaf('success', success);

export function sessionNode(session: SessionSummary): MiNode {
  return group('session', [
    leaf('name', session.name),
    // lttng shows no path for snapshot sessions: their output is the snapshot output.
    leaf('path', session.snapshot ? '' : session.outputPath),
    leaf('enabled', session.active),
    leaf('snapshot_mode', session.snapshot ? 1 : 0),
    leaf('live_timer_interval', session.liveTimerUs),
  ]);
}

/** start/stop/set-session: the session's name and (start, stop) its new state. */
export const sessionState = (name: string, enabled?: boolean): MiNode =>
  group('session', [leaf('name', name), enabled !== undefined && leaf('enabled', enabled)]);

export const sessionsNode = (sessions: MiNode[]): MiNode => array('sessions', sessions);

const domainType = (domain: string): string => (domain === 'ust' ? 'UST' : domain.toUpperCase());

function eventAttributes(rule: EventRuleSpec, domain: string): Array<MiNode | undefined> {
  if (rule.type === 'tracepoint') {
    // lttng's tracepoint rules without a level have loglevel -1 (nothing written) in user space, 0 in the kernel.
    const level = rule.loglevel ?? (domain === 'kernel' ? { type: 'all', level: 0 } : undefined);
    return [
      level && leaf('loglevel', loglevelName(level.level, domain as RuleDomain)),
      level && leaf('loglevel_type', level.type.toUpperCase()),
      array('exclusions', (rule.exclusions ?? []).map((name) => leaf('exclusion', name))),
    ];
  }
  const location = rule.location ?? '';
  if (rule.type === 'kprobe' || rule.type === 'function') {
    const [, symbol = location, offset = '0'] = /^([^+]*)\+?(.*)$/.exec(location) ?? [];
    const probe = /^0x[0-9a-f]+$/i.test(location)
      ? [leaf('address', BigInt(location))]
      : [leaf('offset', BigInt(offset === '' ? 0 : offset)), leaf('symbol_name', symbol)];
    return [group('attributes', [group('probe_attributes', probe)])];
  }
  if (rule.type === 'uprobe') {
    const sdt = /^sdt:(.*):([^:]*):([^:]*)$/.exec(location);
    const elf = /^(?:elf:)?(.*):([^:]*)$/.exec(location);
    const attributes = sdt
      ? [leaf('lookup_method', 'SDT'), leaf('binary_path', sdt[1]!), leaf('provider_name', sdt[2]!), leaf('probe_name', sdt[3]!)]
      : [leaf('lookup_method', 'ELF'), leaf('binary_path', elf?.[1] ?? location), leaf('function_name', elf?.[2] ?? '')];
    return [group('attributes', [group('userspace_probe_function_attributes', attributes)])];
  }
  return [];
}

const EVENT_TYPES: Record<EventRuleSpec['type'], string> = {
  tracepoint: 'TRACEPOINT',
  syscall: 'SYSCALL',
  kprobe: 'PROBE',
  function: 'FUNCTION',
  uprobe: 'USERSPACE_PROBE',
  all: 'ALL',
};

/** A recording event rule (lttng's mi_lttng_event). */
export function eventNode(rule: EventRuleInfo, domain: string): MiNode {
  return group('event', [
    leaf('name', rule.name),
    leaf('type', EVENT_TYPES[rule.type]),
    leaf('enabled', rule.enabled),
    rule.filter !== undefined && leaf('filter_expression', rule.filter),
    ...eventAttributes(rule, domain),
  ]);
}

function channelAttributes(channel: ChannelInfo): MiNode {
  const a = channel.attributes;
  return group('attributes', [
    leaf('overwrite_mode', a.overwrite ? 'OVERWRITE' : 'DISCARD'),
    leaf('subbuffer_size', a.subbufSize),
    leaf('subbuffer_count', a.numSubbuf),
    leaf('switch_timer_interval', a.switchTimerUs),
    leaf('read_timer_interval', a.readTimerUs),
    leaf('monitor_timer_interval', a.monitorTimerUs),
    leaf('blocking_timeout', a.blockingTimeoutUs),
    leaf('output_type', a.output.toUpperCase()),
    leaf('tracefile_size', a.tracefileSize),
    leaf('tracefile_count', a.tracefileCount),
    leaf('live_timer_interval', a.liveTimerUs),
    leaf('discarded_events', channel.stats.discardedEvents),
    leaf('lost_packets', channel.stats.lostPackets),
    ...(channel.ring
      ? [
          jsonOnly(leaf('kernel_subbuffer_size', channel.ring.subbufSize)),
          jsonOnly(leaf('kernel_subbuffer_size_requested', channel.ring.wantedSubbufSize)),
          jsonOnly(leaf('kernel_buffer_size_per_cpu', channel.ring.bytesPerCpu)),
        ]
      : []),
  ]);
}

/** A channel as `list` shows it (with its rules), or as enable-channel echoes it (`withEvents` false). */
export function channelNode(channel: ChannelInfo, withEvents = true): MiNode {
  return group('channel', [
    leaf('name', channel.name),
    leaf('enabled', channel.enabled),
    channelAttributes(channel),
    withEvents && array('events', channel.events.map((e) => eventNode(e, channel.domain))),
    withEvents && jsonOnly(array('contexts', channel.contexts.map((c) => leaf('context', c)))),
  ]);
}

/** One value of a process attribute tracker: an id, a user/group name, or every process (`all`). */
export function trackerValueNode(attribute: ProcessAttribute, value: number | string | 'all'): MiNode {
  const type = value === 'all' ? leaf('all', true) : typeof value === 'number' ? leaf('id', value) : leaf('name', value);
  return group(attribute, [group('type', [type])]);
}

/** A tracker with its values; lttng lists only trackers that include a set (not every process). */
export function trackerNode(attribute: ProcessAttribute, values: MiNode[]): MiNode {
  return group(`${attribute}_process_attr_tracker`, [array('process_attr_values', values)]);
}

const trackersNode = (trackers: TrackerInfo[]): MiNode =>
  group('process_attr_trackers', trackers
    .filter((t) => t.policy === 'set')
    .map((t) => trackerNode(t.attribute, t.values.map((v) => trackerValueNode(t.attribute, v)))));

const BUFFER_TYPES = { global: 'GLOBAL', 'per-uid': 'PER_UID', 'per-pid': 'PER_PID' } as const;

export function domainNode(domain: DomainInfo, channel?: string): MiNode {
  if (domain.events !== undefined) {
    // An agent domain: its rules, no channels nor trackers (lttng's list_session_agent_events).
    return group('domain', [
      leaf('type', domainType(domain.domain)),
      leaf('buffer_type', BUFFER_TYPES[domain.bufferType]),
      array('events', domain.events.map((e) => eventNode(e, domain.domain))),
    ]);
  }
  return group('domain', [
    leaf('type', domainType(domain.domain)),
    leaf('buffer_type', BUFFER_TYPES[domain.bufferType]),
    trackersNode(domain.trackers),
    array('channels', domain.channels.filter((c) => channel === undefined || c.name === channel).map((c) => channelNode(c))),
  ]);
}

/** `list -d`: the session's domains, type and buffers only. */
export const domainSummaryNode = (domain: DomainInfo): MiNode =>
  group('domain', [leaf('type', domainType(domain.domain)), leaf('buffer_type', BUFFER_TYPES[domain.bufferType])]);

export function rotationScheduleNodes(timerUs: number | undefined, sizeBytes: number | undefined): MiNode[] {
  return [
    timerUs !== undefined && group('periodic', [leaf('time_us', timerUs)]),
    sizeBytes !== undefined && group('size_threshold', [leaf('bytes', sizeBytes)]),
  ].filter((n): n is MiNode => n !== false);
}

export function sessionDetailNode(session: SessionDetail, channel?: string): MiNode {
  const schedules = rotationScheduleNodes(session.rotationTimerUs, session.rotationSizeBytes);
  return group('session', [
    ...sessionNode(session).children!,
    schedules.length > 0 && group('rotation_schedules', schedules),
    array('domains', session.domains.map((d) => domainNode(d, channel))),
  ]);
}

/** An instrumentation point of `list -k/-u` (kernel tracepoints carry TRACE_EMERG, as lttng lists them). */
function tracepointNode(tracepoint: TracepointInfo, withFields = false): MiNode {
  const syscall = tracepoint.type === 'syscall';
  const level = tracepoint.loglevel ?? (syscall ? undefined : 0);
  return group('event', [
    leaf('name', tracepoint.name),
    leaf('type', syscall ? 'SYSCALL' : 'TRACEPOINT'),
    leaf('enabled', true),
    level !== undefined && leaf('loglevel', loglevelName(level)),
    level !== undefined && leaf('loglevel_type', 'ALL'),
    !syscall && array('exclusions', []),
    tracepoint.bitness !== undefined && jsonOnly(leaf('bitness', tracepoint.bitness)),
    withFields && array('event_fields', (tracepoint.fields ?? []).map((f) =>
      group('event_field', [leaf('name', f.name), leaf('type', f.type.toUpperCase()), leaf('nowrite', 0)]))),
  ]);
}

/** `list -k --syscall`: the events straight in the output. */
export const syscallsNode = (syscalls: TracepointInfo[]): MiNode => array('events', syscalls.map((s) => tracepointNode(s)));

/** `list -k` / `list -u [-f]`: the domain, and for user space the tracepoints grouped per registered app (with
 * -f their fields, and as lttng only the tracepoints that have some). */
export function catalogNode(domain: string, tracepoints: TracepointInfo[], withFields = false): MiNode {
  if (domain === 'kernel') {
    return array('domains', [group('domain', [leaf('type', 'KERNEL'), leaf('buffer_type', 'GLOBAL'), array('events', tracepoints.map((t) => tracepointNode(t)))])]);
  }
  const apps = new Map<number, { procname: string; events: MiNode[] }>();
  for (const t of tracepoints) {
    if (withFields && !t.fields?.length) continue;
    const app = apps.get(t.pid ?? 0) ?? { procname: t.procname ?? '', events: [] };
    app.events.push(tracepointNode(t, withFields));
    apps.set(t.pid ?? 0, app);
  }
  const pids = [...apps].map(([pid, app]) => group('pid', [leaf('id', pid), leaf('name', app.procname), array('events', app.events)]));
  return array('domains', [group('domain', [leaf('type', domainType(domain)), leaf('buffer_type', 'PER_PID'), array('pids', pids)])]);
}

/** A context type: LTTng's enum name, or a perf counter's type and config; then the name given. lttng 2.13
 * adds <success> to add-context's contexts, which its schema refuses: JSON only here. */
export function contextNode(symbol: string, success?: boolean): MiNode {
  const perf = perfCounterCode(symbol);
  const app = /^\$app\.([^:]+):(.+)$/.exec(symbol);
  const what = perf
    ? group('perf', [leaf('type', perf.type), leaf('config', perf.config), leaf('name', symbol.replace(/[:-]/g, '_'))])
    : app
      ? group('app', [leaf('provider_name', app[1]!), leaf('ctx_name', app[2]!)])
      : leaf('type', symbol.toUpperCase().replace(/-/g, '_'));
  return group('context', [what, leaf('symbol', symbol), success !== undefined && jsonOnly(successNode(success))]);
}

/** A snapshot output as `snapshot list-output` shows it. */
export const snapshotOutputNode = (output: SnapshotOutputInfo): MiNode =>
  group('snapshot', [
    leaf('id', output.id),
    leaf('name', output.name),
    leaf('ctrl_url', output.path),
    leaf('data_url', output.relay ? relayUris(output.relay).data : ''),
    leaf('max_size', output.maxSize),
  ]);

/** lttng 2.13 names its `record` action "record", which its schema refuses: the schema's "record-output" here. */
export const snapshotActionNode = (action: string, output: MiNode | undefined): MiNode =>
  group('snapshot_action', [leaf('name', action === 'record' ? 'record-output' : action), group('output', [output])]);
