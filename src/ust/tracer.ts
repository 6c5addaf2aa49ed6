// The per-thread tracer: this thread's declared events, the sessions it records into (if any), their ring buffers.
//
// Contract: every thread that loads ltt/ust has its own instance (one per module instance, i.e. per thread).
// Events are declared once; while a session is active in this thread each event has an emitter compiled for this
// thread's ring, and `enabled` reflects the session's rules. activate()/deactivate()/setRules() are the hooks the
// session control drives: the local session (local-session.ts) and the app agent (app-agent.ts, driven by the
// session daemon over the app socket), both through the ltt-ust BroadcastChannel with the same SessionConfig /
// EventRule data. Every thread follows 'session'/'stop'/'rules' messages when it next reaches its event loop
// (the main thread only those of the agent: it drives local sessions itself) and keeps the current sessions in
// its environment data, so workers it creates later join at once. Rules with --filter expressions are compiled
// with the kernel domain's filter language (src/filter) into a predicate the emitter checks first.
// A thread may record into several (session, channel) pairs at once, one ring each; an event's emitter writes
// into every ring whose rules take it (directly when there is one). Each ring is its own CTF stream class (id =
// thread id + the config's streamIdOffset), so event ids are per thread and need no cross-thread agreement; the
// consumer learns the ring and the event classes from messages on the channel.

import { executionAsyncId } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import { BroadcastChannel, getEnvironmentData, isMainThread, setEnvironmentData, threadId } from 'node:worker_threads';
import { parseFilter } from '../filter/parse-filter.js';
import { compilePredicate, type FilterContext, type Predicate } from '../filter/compile-filter.js';
import { CHANNEL_NAME } from './channel-name.js';
import type { FieldSpec } from './fields.js';
import { checkFieldList, listedFieldType } from './fields.js';
import { compileEmitter, contextTsdl, NOOP_EMITTER, type ContextName, type ContextValues, type Emitter } from './event-codegen.js';
import { eventMatches, type EventRule } from './enablement.js';
import { RingProducer } from './ring-buffer.js';
import { ownThreadId } from '../thread-id.js';
import { eventTsdl, streamTsdl } from './metadata.js';
import type { LossMode, RingDescriptor } from './ring-layout.js';
import type { TracepointField } from '../control/messages.js';

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
  /**
   * Added to the thread id to make this ring's CTF stream class id: channels of one session share a trace
   * (one metadata), so each channel's streams need their own ids (the daemon gives channel k k * 2^20).
   */
  readonly streamIdOffset?: number;
  /**
   * A per-UID trace (one folder for every app of a user): stream files are named CHANNEL_STREAMID, unique
   * across those apps (the daemon gives each app its own stream id range), instead of CHANNEL_THREAD.
   */
  readonly perUid?: boolean;
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
  /**
   * Sub-buffer switch for one session (a rotation): threads hand their open packets over when they next can;
   * `empty` (a live session's new stream): a packet even where none holds events (RingProducer.flushEmpty()).
   */
  | { readonly type: 'flush'; readonly sessionId: string; readonly empty?: boolean; readonly agent?: boolean }
  /** `regenerate statedump` of one session: the main thread dumps (statedump.ts). */
  | { readonly type: 'statedump'; readonly sessionId: string; readonly agent?: boolean }
  | { readonly type: 'declared'; readonly name: string; readonly logLevel: number; readonly fields: readonly TracepointField[] }
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
  readonly streamId: number;
  readonly ring: RingProducer;
  readonly ctxValues: ContextValues;
  readonly filterCtx: FilterContext;
  rules: readonly EventRule[];
  switchTimer: ReturnType<typeof setInterval> | undefined;
}

const events: EventClass[] = [];
const byName = new Map<string, EventClass>();
/** The (session, channel) rings this thread records into; usually one. */
const actives: Active[] = [];
let channel: BroadcastChannel | undefined;
let exitHooked = false;
/** Called after the thread's events were armed again (a session started or stopped, rules changed). */
const enablementListeners: (() => void)[] = [];

/**
 * Runs `fn` whenever this thread's events may have changed `enabled`: instrumentation that costs something
 * even when its events are disabled (ltt/auto's async hooks and channel subscriptions) turns itself on and off.
 */
export function onEnablementChange(fn: () => void): void {
  enablementListeners.push(fn);
}

function rearmAll(): void {
  for (const ev of events) arm(ev);
  for (const fn of enablementListeners) fn();
}

function uuidBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, '');
  const b = new Uint8Array(16);
  for (let i = 0; i < 16; i++) b[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return b;
}

/** OS thread id of the calling thread (LTTng's vtid): /proc/thread-self is resolved by the calling thread. */
function osTid(): number {
  return ownThreadId() || (isMainThread ? process.pid : -1);
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
    for (const ev of events) post(declared(ev));
    return;
  }
  // The main thread drives local sessions itself; it follows the agent's messages like every worker.
  if (isMainThread && !('agent' in m && m.agent === true)) return;
  if (m.type === 'statedump') {
    if (isMainThread) statedumpRunner?.(m.sessionId);
    return;
  }
  const inherited = inheritedConfigs();
  if (m.type === 'session') {
    if (!inherited.some((c) => c.sessionId === m.config.sessionId)) setEnvironmentData(ENV_DATA_KEY, [...inherited, m.config]);
    activate(m.config);
    // lttng-ust dumps the process's state into each session it starts recording (once per process: here).
    if (isMainThread) statedumpRunner?.(m.config.sessionId);
  } else if (m.type === 'stop') {
    setEnvironmentData(ENV_DATA_KEY, inherited.filter((c) => c.sessionId !== m.sessionId));
    deactivate(m.sessionId);
  } else if (m.type === 'rules') {
    setEnvironmentData(ENV_DATA_KEY, inherited.map((c) => (c.sessionId === m.sessionId ? { ...c, rules: m.rules } : c)));
    setRules(m.rules, m.sessionId);
  } else if (m.type === 'flush') {
    for (const a of actives) if (a.config.sessionId === m.sessionId) m.empty ? a.ring.flushEmpty() : a.ring.flush();
  }
}

/** What a state dump runs (statedump.ts registers it; tracer.ts cannot import it: it imports tracer.ts). */
let statedumpRunner: ((sessionId: string) => void) | undefined;

export function onStatedump(run: (sessionId: string) => void): void {
  statedumpRunner = run;
}

/** Whether the rules of an active session in this thread take the event `name` at `logLevel` (declared or not). */
export function rulesTake(sessionId: string, name: string, logLevel: number): boolean {
  return actives.some((a) => a.config.sessionId === sessionId && eventMatches(a.rules, name, logLevel));
}

/** Sessions a thread created now must record into: one config (local session) or a list (agent sessions). */
export function inheritedConfigs(): SessionConfig[] {
  const v = getEnvironmentData(ENV_DATA_KEY) as SessionConfig | SessionConfig[] | undefined;
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
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
  if (agentPresent()) post(declared(ev));
  if (actives.length > 0) {
    for (const a of actives) post({ type: 'event', sessionId: a.config.sessionId, event: describe(ev, a.streamId) });
    arm(ev);
  }
  return ev;
}

/** What the agent tells the daemon of a declared event (for `list -u`). */
function declared(ev: EventClass): ChannelMessage {
  return { type: 'declared', name: ev.name, logLevel: ev.logLevel, fields: ev.fields.map((f) => ({ name: f.name, type: listedFieldType(f) })) };
}

function describe(ev: EventClass, streamId: number): EventDescriptor {
  return {
    name: ev.name,
    id: ev.id,
    streamId,
    logLevel: ev.logLevel,
    fields: ev.fields,
    tsdl: eventTsdl(ev.name, ev.id, streamId, ev.logLevel, ev.fields),
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

/**
 * Compiles the event's emitter for the rings whose rules record it: the ring's own generated writer when there
 * is one (the usual case: no indirection), a loop over them when several sessions or channels record it (LTTng
 * records an event once per matching channel).
 */
function arm(ev: EventClass): void {
  const emitters: Emitter[] = [];
  for (const a of actives) {
    if (!eventMatches(a.rules, ev.name, ev.logLevel)) continue;
    const filter = eventFilter(a.rules, ev);
    emitters.push(
      compileEmitter({
        event: ev, fields: ev.fields, id: ev.id, ring: a.ring, contexts: a.config.contexts, contextValues: a.ctxValues,
        ...(filter !== undefined ? { filter, filterContext: a.filterCtx } : {}),
      }),
    );
  }
  if (emitters.length === 0) {
    ev.enabled = false;
    ev.emit = NOOP_EMITTER;
    return;
  }
  ev.emit =
    emitters.length === 1
      ? emitters[0]!
      : (...args: unknown[]) => {
          for (let k = 0; k < emitters.length; k++) emitters[k]!(...args);
        };
  ev.enabled = true;
}

function filterContext(v: ContextValues): FilterContext {
  const procname = Buffer.from(v.procname).toString('utf8').replace(/\0.*$/s, '');
  const values: Record<string, number | string> = { vpid: v.vpid, pid: v.vpid, vtid: v.vtid, tid: v.vtid, procname };
  // $app.node:async_id changes per event; the others are constants of the thread.
  return { get: (name) => (name === 'app.node:async_id' ? executionAsyncId() : values[name]) };
}

/** Starts recording this thread's events into a session (creates the ring, registers it with the consumer). */
export function activate(config: SessionConfig): void {
  if (actives.some((a) => a.config.sessionId === config.sessionId)) return;
  const streamId = (config.streamIdOffset ?? 0) + threadId;
  const ring = new RingProducer({
    subbufSize: config.subbufSize,
    numSubbuf: config.numSubbuf,
    mode: config.mode,
    blockingTimeoutMs: config.blockingTimeoutMs,
    streamId,
    streamInstanceId: threadId,
    cpuId: threadId,
    uuid: uuidBytes(config.uuid),
  });
  const ctxValues = contextValues();
  const a: Active = { config, streamId, ring, ctxValues, filterCtx: filterContext(ctxValues), rules: config.rules, switchTimer: undefined };
  actives.push(a);
  ring.onConsumerGone = () => deactivate(config.sessionId);
  if (config.switchTimerMs !== undefined && config.switchTimerMs > 0) {
    // A packet reaches the trace at least this often even when the thread emits little (LTTng's switch timer);
    // it only fires when the thread is in its event loop, which is when it is not emitting anyway.
    a.switchTimer = setInterval(() => ring.tick(), config.switchTimerMs);
    a.switchTimer.unref();
  }
  const desc: RingDescriptor = {
    threadId,
    streamId,
    streamName: `${config.channel}_${config.perUid ? streamId : threadId}`,
    data: ring.data,
    aligned: ring.aligned,
    ctl: ring.ctlSab,
    subbufSize: config.subbufSize,
    numSubbuf: config.numSubbuf,
    mode: config.mode,
    blockingTimeoutMs: ring.blockingTimeoutMs,
    streamTsdl: streamTsdl(streamId, contextTsdl(config.contexts)),
  };
  post({ type: 'ring', sessionId: config.sessionId, ring: desc, events: events.map((ev) => describe(ev, streamId)) });
  rearmAll();
  if (!exitHooked) {
    exitHooked = true;
    // Workers: their own exit flushes their ring. The main thread's hook is in local-session.ts (it must also
    // wait for the consumer), and runs after this one because it is registered later.
    process.on('exit', () => {
      if (!isMainThread) deactivate();
    });
  }
}

/**
 * Stops recording in this thread into one session (or into every session without an id): its events stop
 * writing there and its rings hand their last packet to the consumer.
 */
export function deactivate(sessionId?: string): void {
  const gone = actives.filter((a) => sessionId === undefined || a.config.sessionId === sessionId);
  if (gone.length === 0) return;
  for (const a of gone) actives.splice(actives.indexOf(a), 1);
  rearmAll();
  for (const a of gone) {
    if (a.switchTimer !== undefined) clearInterval(a.switchTimer);
    a.ring.exit();
  }
}

/** Replaces the rules of one session (without an id: of the first, i.e. the local session). */
export function setRules(rules: readonly EventRule[], sessionId?: string): void {
  const a = sessionId === undefined ? actives[0] : actives.find((x) => x.config.sessionId === sessionId);
  if (a === undefined) return;
  a.rules = rules;
  rearmAll();
}

/** Sub-buffer switch on demand: the open packets of this thread go to the consumer now. */
export function flushThread(): void {
  for (const a of actives) a.ring.flush();
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
  const r = actives[0]?.ring;
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
  return actives[0]?.config.sessionId;
}

/** Workers pick up a session the main thread started before creating them (synchronously, at load time). */
export function initThread(): void {
  if (isMainThread) return;
  getChannel();
  for (const cfg of inheritedConfigs()) activate(cfg);
}
