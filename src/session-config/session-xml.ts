// Session configurations as LTTng saves them (`lttng save` / `lttng load`: NAME.lttng, the XML of lttng-tools'
// src/common/config/session.xsd, docs/lttng-reference.md 1.10): what `ltt save` writes from a session's detail
// and what `ltt load` reads back, from ltt or from LTTng.
//
// Contract: sessionXml(detail) is one `<sessions>` document holding the session; parseSessions(text) returns
// every session of a document, or throws a one-line Error naming what is malformed. The agent domains (JUL, log4j,
// Python) are read as lttng saves them (their user-space channel holding their rules); unknown domains are left
// out of what it returns, those holding channels named in `skippedDomains`. The XML parser takes what
// these files contain (elements, text, entities, comments, an XML declaration; attributes are read and ignored)
// and refuses anything else.

import { AGENT_CHANNELS, AGENT_DOMAINS } from '../control/messages.js';
import type { AgentDomain, ChannelAttributes, EventRuleInfo, EventType, ProcessAttribute, RelayTarget, RuleDomain, SessionDetail, TrackerInfo } from '../control/messages.js';
import { relayUris } from '../relay/relay-url.js';

// ---- writing --------------------------------------------------------------------------------------------------

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const EVENT_TYPES: Record<EventType, string> = {
  tracepoint: 'TRACEPOINT',
  syscall: 'SYSCALL',
  kprobe: 'PROBE',
  function: 'FUNCTION',
  uprobe: 'USERSPACE_PROBE',
  all: 'ALL',
};

/** Context names as session.xsd spells them: `vpid` -> VPID, `cpu_id` -> CPU_ID; app contexts apart. */
function contextXml(name: string): string {
  const app = /^\$app\.([^:]+):(.+)$/.exec(name);
  if (app) return `<context><app><provider_name>${esc(app[1]!)}</provider_name><ctx_name>${esc(app[2]!)}</ctx_name></app></context>`;
  return `<context><type>${esc(name.toUpperCase().replace(/-/g, '_'))}</type></context>`;
}

function eventXml(e: EventRuleInfo): string {
  let attributes = '';
  if (e.location !== undefined) {
    if (e.type === 'uprobe') {
      const parts = e.location.replace(/^elf:/, '').split(':');
      const fn = parts.pop()!;
      attributes =
        `<attributes><userspace_probe_function_attributes><lookup_method>DEFAULT</lookup_method>` +
        `<binary_path>${esc(parts.join(':'))}</binary_path><function_name>${esc(fn)}</function_name></userspace_probe_function_attributes></attributes>`;
    } else {
      const m = /^(0x[0-9a-fA-F]+)$|^([^+]+)(?:\+(\S+))?$/.exec(e.location);
      const tag = e.type === 'function' ? 'function_attributes' : 'probe_attributes';
      attributes = m?.[1]
        ? `<attributes><${tag}><address>${Number(m[1])}</address></${tag}></attributes>`
        : `<attributes><${tag}><symbol_name>${esc(m?.[2] ?? e.location)}</symbol_name><offset>${Number(m?.[3] ?? 0)}</offset></${tag}></attributes>`;
    }
  }
  const ll = e.loglevel;
  return (
    `<event><name>${esc(e.name)}</name><enabled>${e.enabled}</enabled><type>${EVENT_TYPES[e.type]}</type>` +
    `<loglevel_type>${ll ? ll.type.toUpperCase() : 'ALL'}</loglevel_type>` +
    (ll ? `<loglevel>${ll.level}</loglevel>` : '') +
    (e.filter !== undefined ? `<filter>${esc(e.filter)}</filter>` : '') +
    (e.exclusions && e.exclusions.length > 0 ? `<exclusions>${e.exclusions.map((x) => `<exclusion>${esc(x)}</exclusion>`).join('')}</exclusions>` : '') +
    attributes +
    `</event>`
  );
}

function trackerXml(t: TrackerInfo): string {
  // "all" is the default (LTTng writes nothing for it); a set, even an empty one, lists its values.
  if (t.policy === 'all') return '';
  const kind = t.attribute;
  const values = t.values
    .map((v) => (typeof v === 'number' ? `<${kind}><id>${v}</id></${kind}>` : `<${kind}><name>${esc(v)}</name></${kind}>`))
    .join('');
  return `<${kind}_process_attr_tracker><process_attr_values>${values}</process_attr_values></${kind}_process_attr_tracker>`;
}

/** The `lttng save` document of one session. */
export function sessionXml(s: SessionDetail): string {
  // As lttng's save.c: an agent domain holds its user-space channel (lttng_jul_channel, ...) with the agent's
  // rules as its events; the user-space domain leaves that channel out.
  const agentChannels = new Map(s.domains.filter((d) => d.events !== undefined).map((d) => [AGENT_CHANNELS[d.domain as AgentDomain].channel, d]));
  const ustChannel = (name: string) => s.domains.find((d) => d.domain === 'ust')?.channels.find((c) => c.name === name);
  const domains = s.domains
    .map((d) => {
      const shown = d.events !== undefined
        ? [ustChannel(AGENT_CHANNELS[d.domain as AgentDomain].channel)].flatMap((c) => (c ? [{ ...c, events: d.events!, contexts: [] }] : []))
        : d.channels.filter((c) => d.domain !== 'ust' || !agentChannels.has(c.name));
      const channels = shown
        .map((c) => {
          const a = c.attributes;
          return (
            `<channel><name>${esc(c.name)}</name><enabled>${c.enabled}</enabled>` +
            `<overwrite_mode>${a.overwrite ? 'OVERWRITE' : 'DISCARD'}</overwrite_mode>` +
            `<subbuffer_size>${a.subbufSize}</subbuffer_size><subbuffer_count>${a.numSubbuf}</subbuffer_count>` +
            `<switch_timer_interval>${a.switchTimerUs}</switch_timer_interval><read_timer_interval>${a.readTimerUs}</read_timer_interval>` +
            `<output_type>${a.output.toUpperCase()}</output_type><blocking_timeout>${a.blockingTimeoutUs}</blocking_timeout>` +
            `<monitor_timer_interval>${a.monitorTimerUs}</monitor_timer_interval>` +
            `<tracefile_size>${a.tracefileSize}</tracefile_size><tracefile_count>${a.tracefileCount}</tracefile_count>` +
            `<live_timer_interval>${a.liveTimerUs}</live_timer_interval>` +
            `<events>${c.events.map(eventXml).join('')}</events>` +
            `<contexts>${c.contexts.map(contextXml).join('')}</contexts></channel>`
          );
        })
        .join('');
      const bufferType = d.bufferType === 'global' ? 'GLOBAL' : d.bufferType === 'per-uid' ? 'PER_UID' : 'PER_PID';
      return (
        `<domain><type>${d.domain.toUpperCase()}</type><buffer_type>${bufferType}</buffer_type>` +
        `<channels>${channels}</channels><process_attr_trackers>${d.trackers.map(trackerXml).join('')}</process_attr_trackers></domain>`
      );
    })
    .join('');
  const consumer = (path: string) =>
    `<consumer_output><enabled>${path !== ''}</enabled><destination><path>${esc(path)}</path></destination></consumer_output>`;
  const net = (relay: RelayTarget): string => {
    const uris = relayUris(relay);
    return `<consumer_output><enabled>true</enabled><destination><net_output><control_uri>${esc(uris.control)}</control_uri><data_uri>${esc(uris.data)}</data_uri></net_output></destination></consumer_output>`;
  };
  const netConsumer = s.relay && net(s.relay);
  // A snapshot session's output is its snapshot outputs (session.xsd: one or the other).
  const output = s.snapshot
    ? `<snapshot_outputs>${(s.snapshotOutputs ?? []).map((o) => `<output><name>${esc(o.name)}</name><max_size>${o.maxSize}</max_size>${o.relay ? net(o.relay) : consumer(o.path)}</output>`).join('')}</snapshot_outputs>`
    : (netConsumer ?? consumer(s.outputPath && s.liveTimerUs === 0 ? s.outputPath : ''));
  const schedules =
    (s.rotationTimerUs ? `<periodic><time_us>${s.rotationTimerUs}</time_us></periodic>` : '') +
    (s.rotationSizeBytes ? `<size_threshold><bytes>${s.rotationSizeBytes}</bytes></size_threshold>` : '');
  const attributes =
    (s.snapshot ? '<snapshot_mode>true</snapshot_mode>' : '') +
    (s.liveTimerUs > 0 ? `<live_timer_interval>${s.liveTimerUs}</live_timer_interval>` : '') +
    (schedules ? `<rotation_schedules>${schedules}</rotation_schedules>` : '');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<sessions>\n<session><name>${esc(s.name)}</name><domains>${domains}</domains>` +
    `<started>${s.active}</started><attributes>${attributes}</attributes><output>${output}</output></session>\n</sessions>\n`
  );
}

// ---- reading --------------------------------------------------------------------------------------------------

export interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescape(text: string, at: () => string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (_, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(Number.parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(Number.parseInt(e.slice(1), 10));
    const v = ENTITIES[e];
    if (v === undefined) throw new Error(`unknown entity &${e}; ${at()}`);
    return v;
  });
}

/** The document's root element. */
export function parseXml(text: string): XmlElement {
  let i = 0;
  const line = (): string => `at line ${text.slice(0, i).split('\n').length}`;
  /** What lies between `open` (at i) and `close`, i moved past `close`. */
  const through = (open: string, close: string, what: string): string => {
    const end = text.indexOf(close, i + open.length);
    if (end < 0) throw new Error(`unterminated ${what} ${line()}`);
    const inner = text.slice(i + open.length, end);
    i = end + close.length;
    return inner;
  };
  const skipMisc = (): void => {
    for (;;) {
      while (i < text.length && /\s/.test(text[i]!)) i++;
      if (text.startsWith('<?', i)) through('<?', '?>', 'declaration');
      else if (text.startsWith('<!--', i)) through('<!--', '-->', 'comment');
      else if (text.startsWith('<!DOCTYPE', i)) {
        throw new Error(`DOCTYPE is not accepted ${line()}`);
      } else return;
    }
  };
  const element = (depth: number): XmlElement => {
    if (depth > 64) throw new Error(`elements nested too deep ${line()}`);
    const open = /^<([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(text.slice(i, i + 4096));
    if (!open) throw new Error(`expected an element ${line()}`);
    i += open[0].length;
    const el: XmlElement = { name: open[1]!, children: [], text: '' };
    if (open[3] === '/') return el;
    for (;;) {
      const lt = text.indexOf('<', i);
      if (lt < 0) throw new Error(`unclosed <${el.name}> ${line()}`);
      el.text += unescape(text.slice(i, lt), line);
      i = lt;
      if (text.startsWith('<!--', i)) through('<!--', '-->', 'comment');
      else if (text.startsWith('<![CDATA[', i)) el.text += through('<![CDATA[', ']]>', 'CDATA');
      else if (text.startsWith('</', i)) {
        const close = /^<\/([A-Za-z_][\w.-]*)\s*>/.exec(text.slice(i, i + 256));
        if (!close || close[1] !== el.name) throw new Error(`expected </${el.name}> ${line()}`);
        i += close[0].length;
        return el;
      } else el.children.push(element(depth + 1));
    }
  };
  skipMisc();
  const root = element(0);
  skipMisc();
  if (i < text.length) throw new Error(`content after the root element ${line()}`);
  return root;
}

function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name);
}
function children(el: XmlElement | undefined, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.name === name) : [];
}
function textOf(el: XmlElement, name: string): string | undefined {
  const c = child(el, name);
  return c === undefined ? undefined : c.text.trim();
}
function intOf(el: XmlElement, name: string): number | undefined {
  const t = textOf(el, name);
  if (t === undefined || t === '') return undefined;
  if (!/^-?\d+$/.test(t)) throw new Error(`<${name}> is not an integer: ${t}`);
  return Number(t);
}
function boolOf(el: XmlElement, name: string): boolean | undefined {
  const t = textOf(el, name);
  if (t === undefined) return undefined;
  if (t === 'true' || t === '1') return true;
  if (t === 'false' || t === '0') return false;
  throw new Error(`<${name}> is not a boolean: ${t}`);
}

export interface SavedChannel {
  name: string;
  enabled: boolean;
  attributes: Partial<ChannelAttributes>;
  events: EventRuleInfo[];
  contexts: string[];
}

export interface SavedDomain {
  /** An agent domain's one channel is its user-space channel, its events the agent's rules. */
  domain: RuleDomain;
  channels: SavedChannel[];
  trackers: Array<{ attribute: ProcessAttribute; values: Array<number | string> }>;
  /** User space: the saved buffer_type (absent: LTTng's default, per-UID). */
  buffers?: 'per-uid' | 'per-pid';
}

export interface SavedSession {
  name: string;
  /** Absolute path, or null for no local output. */
  output: string | null;
  snapshot: boolean;
  /**
   * Snapshot sessions saved with their outputs (absent: the session's output, if any, is its snapshot output);
   * path '' for a network output, whose saved control and data URIs are `netOutput`.
   */
  snapshotOutputs?: Array<{ name: string; maxSize: number; path: string; netOutput?: { control: string; data: string } }>;
  /** Automatic rotation schedules (µs, bytes), when saved. */
  rotationTimerUs?: number;
  rotationSizeBytes?: number;
  liveTimerUs: number;
  /** A network output: lttng's saved control and data URIs (tcp4://HOST:PORT/PATH). */
  netOutput?: { control: string; data: string };
  started: boolean;
  domains: SavedDomain[];
  /** Domains of the file ltt does not trace and that were not empty (LTTng saves its agent domains empty). */
  skippedDomains: string[];
}

const TYPES_BY_XML = Object.fromEntries(Object.entries(EVENT_TYPES).map(([k, v]) => [v, k as EventType]));

function savedEvent(e: XmlElement, domain: RuleDomain): EventRuleInfo {
  const name = textOf(e, 'name') ?? '';
  const typeText = textOf(e, 'type') ?? 'TRACEPOINT';
  const type = TYPES_BY_XML[typeText] ?? (typeText === 'KPROBE' ? 'kprobe' : undefined);
  if (type === undefined) throw new Error(`event ${name}: unknown type ${typeText}`);
  const rule: EventRuleInfo = { name, type, enabled: boolOf(e, 'enabled') ?? true };
  const filter = textOf(e, 'filter');
  if (filter !== undefined && filter !== '') rule.filter = filter;
  const llType = textOf(e, 'loglevel_type');
  const ll = intOf(e, 'loglevel');
  if (domain !== 'kernel' && (llType === 'RANGE' || llType === 'SINGLE') && ll !== undefined && (ll >= 0 || domain !== 'ust')) {
    rule.loglevel = { type: llType === 'RANGE' ? 'range' : 'single', level: ll };
  }
  const exclusions = children(child(e, 'exclusions'), 'exclusion').map((x) => x.text.trim());
  if (exclusions.length > 0) rule.exclusions = exclusions;
  const attrs = child(e, 'attributes');
  if (attrs) {
    const probe = child(attrs, 'probe_attributes') ?? child(attrs, 'function_attributes');
    const uprobe = child(attrs, 'userspace_probe_function_attributes');
    if (uprobe) rule.location = `elf:${textOf(uprobe, 'binary_path') ?? ''}:${textOf(uprobe, 'function_name') ?? ''}`;
    else if (probe) {
      const symbol = textOf(probe, 'symbol_name') ?? textOf(probe, 'name');
      const offset = intOf(probe, 'offset') ?? 0;
      const address = intOf(probe, 'address') ?? 0;
      rule.location = symbol ? (offset ? `${symbol}+0x${offset.toString(16)}` : symbol) : `0x${address.toString(16)}`;
    }
  }
  return rule;
}

function savedContext(c: XmlElement): string {
  const app = child(c, 'app');
  if (app) return `$app.${textOf(app, 'provider_name') ?? ''}:${textOf(app, 'ctx_name') ?? ''}`;
  const perf = child(c, 'perf');
  if (perf) return textOf(perf, 'name') ?? '';
  return (textOf(c, 'type') ?? '').toLowerCase();
}

/** Every session of a saved document. */
export function parseSessions(text: string): SavedSession[] {
  const root = parseXml(text);
  const sessions = root.name === 'sessions' ? children(root, 'session') : root.name === 'session' ? [root] : [];
  if (sessions.length === 0) throw new Error(`no <session> in <${root.name}>`);
  return sessions.map((s) => {
    const name = textOf(s, 'name');
    if (!name) throw new Error('a <session> without a name');
    const attributes = child(s, 'attributes');
    const consumer = child(child(s, 'output'), 'consumer_output');
    const destination = child(consumer, 'destination');
    const path = destination ? textOf(destination, 'path') : undefined;
    const net = child(destination, 'net_output');
    const netOutput = net && { control: textOf(net, 'control_uri') ?? '', data: textOf(net, 'data_uri') ?? '' };
    const enabled = consumer ? (boolOf(consumer, 'enabled') ?? true) : false;
    const domains: SavedDomain[] = [];
    const skippedDomains: string[] = [];
    for (const d of children(child(s, 'domains'), 'domain')) {
      const type = textOf(d, 'type');
      const domain = (['kernel', 'ust', ...AGENT_DOMAINS] as const).find((name) => name.toUpperCase() === type);
      if (domain === undefined) {
        if (children(child(d, 'channels'), 'channel').length > 0) skippedDomains.push(type ?? '?');
        continue;
      }
      const channels = children(child(d, 'channels'), 'channel').map((c): SavedChannel => {
        const attrs: Partial<ChannelAttributes> = {};
        const num = (tag: string, key: keyof ChannelAttributes) => {
          const v = intOf(c, tag);
          if (v !== undefined) (attrs as Record<string, unknown>)[key] = v;
        };
        const mode = textOf(c, 'overwrite_mode');
        if (mode !== undefined) attrs.overwrite = mode === 'OVERWRITE';
        num('subbuffer_size', 'subbufSize');
        num('subbuffer_count', 'numSubbuf');
        num('switch_timer_interval', 'switchTimerUs');
        num('read_timer_interval', 'readTimerUs');
        num('monitor_timer_interval', 'monitorTimerUs');
        num('blocking_timeout', 'blockingTimeoutUs');
        num('tracefile_size', 'tracefileSize');
        num('tracefile_count', 'tracefileCount');
        num('live_timer_interval', 'liveTimerUs');
        const output = textOf(c, 'output_type');
        if (output === 'MMAP' || output === 'SPLICE') attrs.output = output === 'MMAP' ? 'mmap' : 'splice';
        return {
          name: textOf(c, 'name') ?? '',
          enabled: boolOf(c, 'enabled') ?? true,
          attributes: attrs,
          events: children(child(c, 'events'), 'event').map((e) => savedEvent(e, domain)),
          contexts: children(child(c, 'contexts'), 'context').map(savedContext).filter((x) => x !== ''),
        };
      });
      const trackers = (child(d, 'process_attr_trackers')?.children ?? []).flatMap((t) => {
        const m = /^(pid|vpid|uid|vuid|gid|vgid)_process_attr_tracker$/.exec(t.name);
        if (!m) return [];
        const attribute = m[1] as ProcessAttribute;
        const values = children(child(t, 'process_attr_values'), attribute).map((v) => {
          const id = intOf(v, 'id');
          return id !== undefined ? id : (textOf(v, 'name') ?? '');
        });
        return [{ attribute, values }];
      });
      const bufferType = textOf(d, 'buffer_type');
      const buffers = bufferType === 'PER_PID' ? 'per-pid' : bufferType === 'PER_UID' ? 'per-uid' : undefined;
      domains.push({ domain, channels, trackers, ...(domain === 'ust' && buffers ? { buffers } : {}) });
    }
    const snapshotOutputs = child(child(s, 'output'), 'snapshot_outputs');
    const schedules = child(attributes, 'rotation_schedules');
    const periodic = child(schedules, 'periodic');
    const threshold = child(schedules, 'size_threshold');
    const timerUs = periodic ? intOf(periodic, 'time_us') : undefined;
    const sizeBytes = threshold ? intOf(threshold, 'bytes') : undefined;
    return {
      name,
      ...(timerUs ? { rotationTimerUs: timerUs } : {}),
      ...(sizeBytes ? { rotationSizeBytes: sizeBytes } : {}),
      output: enabled && path ? path : null,
      ...(enabled && netOutput ? { netOutput } : {}),
      ...(snapshotOutputs
        ? {
            snapshotOutputs: children(snapshotOutputs, 'output').map((o) => {
              const dest = child(child(o, 'consumer_output'), 'destination');
              const where = dest ? textOf(dest, 'path') : undefined;
              const net = dest ? child(dest, 'net_output') : undefined;
              return {
                name: textOf(o, 'name') ?? '',
                maxSize: intOf(o, 'max_size') ?? 0,
                path: where ?? '',
                ...(net ? { netOutput: { control: textOf(net, 'control_uri') ?? '', data: textOf(net, 'data_uri') ?? '' } } : {}),
              };
            }),
          }
        : {}),
      snapshot: attributes ? (boolOf(attributes, 'snapshot_mode') ?? false) : false,
      liveTimerUs: attributes ? (intOf(attributes, 'live_timer_interval') ?? 0) : 0,
      started: boolOf(s, 'started') ?? false,
      domains,
      skippedDomains,
    };
  });
}
