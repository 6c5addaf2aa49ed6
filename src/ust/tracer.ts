// The per-thread tracer: this thread's declared events, the session it records into (if any), its ring buffer.
//
// Contract: every thread that loads ltt/ust has its own instance (one per module instance, i.e. per thread).
// Events are declared once; while a session is active in this thread each event has an emitter compiled for this
// thread's ring, and `enabled` reflects the session's rules. activate()/deactivate()/setRules() are the hooks the
// session control drives: the local session (local-session.ts) and the app agent (app-agent.ts, driven by the
// session daemon over the app socket), both through the ltt-ust BroadcastChannel with the same SessionConfig /
// EventRule data. Every thread follows 'session'/'stop'/'rules' messages when it next reaches its event loop
// (the main thread only those of the agent: it drives local sessions itself) and keeps the current session in
// its environment data, so workers it creates later join at once. Rules with --filter expressions are compiled
// with the kernel domain's filter language (src/kernel/filter) into a predicate the emitter checks first.
// Each thread's ring is its own CTF stream class (stream id = threadId), so event ids are per thread and need no
// cross-thread agreement; the consumer learns the ring and the event classes from messages on the channel.

import { executionAsyncId } from 'node:async_hooks';
import { readFileSync, readlinkSync } from 'node:fs';
import { BroadcastChannel, getEnvironmentData, isMainThread, setEnvironmentData, threadId } from 'node:worker_threads';
import { parseFilter } from '../kernel/filter/parse-filter.js';
import { compilePredicate, type FilterContext, type Predicate } from '../kernel/filter/compile-filter.js';
import { CHANNEL_NAME } from './channel-name.js';
import type { FieldSpec } from './fields.js';
import { checkFieldList } from './fields.js';
import { compileEmitter, contextTsdl, NOOP_EMITTER, type ContextName, type ContextValues, type Emitter } from './event-codegen.js';
import { eventMatches, type EventRule } from './enablement.js';
import { RingProducer } from './ring-buffer.js';
import { eventTsdl, streamTsdl } from './metadata.js';
import type { LossMode, RingDescriptor } from './ring-layout.js';

export { CHANNEL_NAME };
export const ENV_DATA_KEY = 'ltt-ust:session';
/** Environment data set (by app-agent.ts) while a session-daemon agent runs in this process. */
export const AGENT_ENV_KEY = 'ltt-ust:agent';

/** What a thread needs to record into a session (plain data: cloned to workers, later sent by the daemon). */
export interface SessionConfig {
  readonly sessionId: string;
  /** Trace uuid (hex, 36 chars). */
  readonly uuid: string;
  readonly channel: string;
  readonly subbufSize: number;
  readonly numSubbuf: number;
  readonly mode: LossMode;
  /** Discard mode: ms an event may wait for a free sub-buffer (0: never, Infinity: always). */
  readonly blockingTimeoutMs: number;
  readonly contexts: readonly ContextName[];
  readonly rules: readonly EventRule[];
  /** Switch timer (ms): each thread hands its open packet over at least this often. 0/absent: none. */
  readonly switchTimerMs?: number;
}

/**
 * An event class as announced to the consumer: the TSDL the local consumer appends to the metadata, and the
 * structured declaration (plain data) a session daemon can build its own metadata from.
 */
export interface EventDescriptor {
  readonly name: string;
  readonly id: number;
  readonly streamId: number;
  readonly logLevel: number;
  readonly fields: readonly FieldSpec[];
  readonly tsdl: string;
}

/** Messages on the ltt-ust BroadcastChannel. */
export type ChannelMessage =
  | { readonly type: 'session'; readonly config: SessionConfig; readonly agent?: boolean }
  | { readonly type: 'stop'; readonly sessionId: string; readonly agent?: boolean }
  | { readonly type: 'rules'; readonly sessionId: string; readonly rules: readonly EventRule[]; readonly agent?: boolean }
  | { readonly type: 'declared'; readonly name: string; readonly logLevel: number }
  /** From the agent once it listens: every thread announces its declared events again (none is missed). */
  | { readonly type: 'announce' }
  | { readonly type: 'ring'; readonly sessionId: string; readonly ring: RingDescriptor; readonly events: readonly EventDescriptor[] }
  | { readonly type: 'event'; readonly sessionId: string; readonly event: EventDescriptor };

export class EventClass {
  /** Read by user code and by the emitter: the only thing a disabled tracepoint costs. */
  enabled = false;
  emit: Emitter = NOOP_EMITTER;
  constructor(
    readonly name: string,
    readonly fields: readonly FieldSpec[],
    readonly logLevel: number,
    readonly id: number,
  ) {}
}

interface Active {
  readonly config: SessionConfig;
  readonly ring: RingProducer;
  readonly ctxValues: ContextValues;
  readonly filterCtx: FilterContext;
  rules: readonly EventRule[];
  switchTimer: ReturnType<typeof setInterval> | undefined;
}

const events: EventClass[] = [];
const byName = new Map<string, EventClass>();
let active: Active | undefined;
let channel: BroadcastChannel | undefined;
let exitHooked = false;

function uuidBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, '');
  const b = new Uint8Array(16);
  for (let i = 0; i < 16; i++) b[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return b;
}

/** OS thread id of the calling thread (LTTng's vtid): /proc/thread-self is resolved by the calling thread. */
function osTid(): number {
  try {
    const m = /task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'));
    if (m) return Number(m[1]);
  } catch {
    // not Linux procfs: fall through
  }
  return isMainThread ? process.pid : -1;
}

function threadComm(): string {
  try {
    return readFileSync('/proc/thread-self/comm', 'utf8').replace(/\n$/, '');
  } catch {
    return process.title.slice(0, 16);
  }
}

function contextValues(): ContextValues {
  const procname = new Uint8Array(17);
  const enc = Buffer.from(threadComm(), 'utf8').subarray(0, 16);
  procname.set(enc);
  return { vpid: process.pid, vtid: osTid(), procname };
}

export function getChannel(): BroadcastChannel {
  if (channel === undefined) {
    channel = new BroadcastChannel(CHANNEL_NAME);
    // The channel must never keep a thread alive.
    (channel as unknown as { unref(): void }).unref();
    channel.onmessage = (e: unknown) => onChannelMessage((e as { data: ChannelMessage }).data);
  }
  return channel;
}

function onChannelMessage(m: ChannelMessage): void {
  if (m.type === 'announce') {
    for (const ev of events) post({ type: 'declared', name: ev.name, logLevel: ev.logLevel });
    return;
  }
  // The main thread drives local sessions itself; it follows the agent's messages like every worker.
  if (isMainThread && !('agent' in m && m.agent === true)) return;
  const inherited = getEnvironmentData(ENV_DATA_KEY) as SessionConfig | undefined;
  if (m.type === 'session') {
    setEnvironmentData(ENV_DATA_KEY, m.config);
    activate(m.config);
  } else if (m.type === 'stop') {
    if (inherited?.sessionId === m.sessionId) setEnvironmentData(ENV_DATA_KEY, undefined);
    if (active?.config.sessionId === m.sessionId) deactivate();
  } else if (m.type === 'rules') {
    if (inherited?.sessionId === m.sessionId) setEnvironmentData(ENV_DATA_KEY, { ...inherited, rules: m.rules });
    if (active?.config.sessionId === m.sessionId) setRules(m.rules);
  }
}

/** Whether a session-daemon agent runs in this process (then declarations are announced for `list -u`). */
function agentPresent(): boolean {
  return getEnvironmentData(AGENT_ENV_KEY) === true;
}

function post(m: ChannelMessage): void {
  getChannel().postMessage(m);
}

export function declareEvent(name: string, fields: readonly FieldSpec[], logLevel: number): EventClass {
  checkFieldList(name, fields);
  const prev = byName.get(name);
  if (prev !== undefined) {
    if (JSON.stringify(prev.fields) !== JSON.stringify(fields) || prev.logLevel !== logLevel) {
      throw new TypeError(`ltt/ust: event ${name} is already declared with other fields or log level`);
    }
    return prev;
  }
  const ev = new EventClass(name, Object.freeze([...fields]), logLevel, events.length);
  events.push(ev);
  byName.set(name, ev);
  if (agentPresent()) post({ type: 'declared', name, logLevel });
  if (active !== undefined) {
    post({ type: 'event', sessionId: active.config.sessionId, event: describe(ev) });
    arm(ev, active);
  }
  return ev;
}

function describe(ev: EventClass): EventDescriptor {
  return {
    name: ev.name,
    id: ev.id,
    streamId: threadId,
    logLevel: ev.logLevel,
    fields: ev.fields,
    tsdl: eventTsdl(ev.name, ev.id, threadId, ev.logLevel, ev.fields),
  };
}

const predicateCache = new Map<string, Predicate>();

/**
 * The filter of an event under a rule set: undefined when a matching rule has no filter (record always), else
 * the OR of the matching rules' predicates (LTTng: an event is recorded when any enabled rule accepts it).
 */
function eventFilter(rules: readonly EventRule[], ev: EventClass): Predicate | undefined {
  const preds: Predicate[] = [];
  for (const r of rules) {
    if (!eventMatches([r], ev.name, ev.logLevel)) continue;
    if (r.filter === undefined) return undefined;
    const key = `${ev.name}\0${r.filter}`;
    let p = predicateCache.get(key);
    if (p === undefined) {
      p = compilePredicate(parseFilter(r.filter), ev.fields.map((f) => f.name));
      predicateCache.set(key, p);
    }
    preds.push(p);
  }
  if (preds.length === 1) return preds[0];
  return (values, ctx) => preds.some((p) => p(values, ctx));
}

function arm(ev: EventClass, a: Active): void {
  if (eventMatches(a.rules, ev.name, ev.logLevel)) {
    const filter = eventFilter(a.rules, ev);
    ev.emit = compileEmitter({
      event: ev, fields: ev.fields, id: ev.id, ring: a.ring, contexts: a.config.contexts, contextValues: a.ctxValues,
      ...(filter !== undefined ? { filter, filterContext: a.filterCtx } : {}),
    });
    ev.enabled = true;
  } else {
    ev.enabled = false;
    ev.emit = NOOP_EMITTER;
  }
}

function filterContext(v: ContextValues): FilterContext {
  const procname = Buffer.from(v.procname).toString('utf8').replace(/\0.*$/s, '');
  const values: Record<string, number | string> = { vpid: v.vpid, pid: v.vpid, vtid: v.vtid, tid: v.vtid, procname };
  // $app.node:async_id changes per event; the others are constants of the thread.
  return { get: (name) => (name === 'app.node:async_id' ? executionAsyncId() : values[name]) };
}

/** Starts recording this thread's events into a session (creates the ring, registers it with the consumer). */
export function activate(config: SessionConfig): void {
  if (active !== undefined) {
    if (active.config.sessionId === config.sessionId) return;
    deactivate();
  }
  const ring = new RingProducer({
    subbufSize: config.subbufSize,
    numSubbuf: config.numSubbuf,
    mode: config.mode,
    blockingTimeoutMs: config.blockingTimeoutMs,
    streamId: threadId,
    streamInstanceId: threadId,
    cpuId: threadId,
    uuid: uuidBytes(config.uuid),
  });
  const ctxValues = contextValues();
  const a: Active = { config, ring, ctxValues, filterCtx: filterContext(ctxValues), rules: config.rules, switchTimer: undefined };
  active = a;
  ring.onConsumerGone = () => {
    if (active === a) deactivate();
  };
  if (config.switchTimerMs !== undefined && config.switchTimerMs > 0) {
    // A packet reaches the trace at least this often even when the thread emits little (LTTng's switch timer);
    // it only fires when the thread is in its event loop, which is when it is not emitting anyway.
    a.switchTimer = setInterval(() => ring.flush(), config.switchTimerMs);
    a.switchTimer.unref();
  }
  const desc: RingDescriptor = {
    threadId,
    streamId: threadId,
    streamName: `${config.channel}_${threadId}`,
    data: ring.data,
    ctl: ring.ctlSab,
    subbufSize: config.subbufSize,
    numSubbuf: config.numSubbuf,
    mode: config.mode,
    streamTsdl: streamTsdl(threadId, contextTsdl(config.contexts)),
  };
  post({ type: 'ring', sessionId: config.sessionId, ring: desc, events: events.map(describe) });
  for (const ev of events) arm(ev, a);
  if (!exitHooked) {
    exitHooked = true;
    // Workers: their own exit flushes their ring. The main thread's hook is in local-session.ts (it must also
    // wait for the consumer), and runs after this one because it is registered later.
    process.on('exit', () => {
      if (!isMainThread) deactivate();
    });
  }
}

/** Stops recording in this thread: disables every event and hands the last packet to the consumer. */
export function deactivate(): void {
  const a = active;
  if (a === undefined) return;
  active = undefined;
  if (a.switchTimer !== undefined) clearInterval(a.switchTimer);
  for (const ev of events) {
    ev.enabled = false;
    ev.emit = NOOP_EMITTER;
  }
  a.ring.exit();
}

export function setRules(rules: readonly EventRule[]): void {
  if (active === undefined) return;
  active.rules = rules;
  for (const ev of events) arm(ev, active);
}

/** Sub-buffer switch on demand: the open packet of this thread goes to the consumer now. */
export function flushThread(): void {
  active?.ring.flush();
}

export interface ThreadStats {
  readonly active: boolean;
  /** Events in packets already handed to the consumer. */
  readonly recorded: number;
  /** Events in the packet still open. */
  readonly pending: number;
  readonly discarded: number;
  readonly lostPackets: number;
  readonly lostEvents: number;
}

export function threadStats(): ThreadStats {
  const r = active?.ring;
  return {
    active: r !== undefined,
    recorded: r?.recorded ?? 0,
    pending: r?.n ?? 0,
    discarded: r?.discarded ?? 0,
    lostPackets: r?.lostPackets ?? 0,
    lostEvents: r?.lostEvents ?? 0,
  };
}

export function activeSessionId(): string | undefined {
  return active?.config.sessionId;
}

/** Workers pick up a session the main thread started before creating them (synchronously, at load time). */
export function initThread(): void {
  if (isMainThread) return;
  getChannel();
  const cfg = getEnvironmentData(ENV_DATA_KEY) as SessionConfig | undefined;
  if (cfg !== undefined) activate(cfg);
}
