// ltt/ust: Node.js tracepoints recorded as LTTng-compatible CTF (per-thread ring buffers, consumer thread).
//
// Contract (public API):
//   const p = ust.provider('demo');
//   const tick = p.event('tick', [ust.int32('i'), ust.string('msg')], { logLevel: 'TRACE_INFO' });
//   if (tick.enabled) tick.emit(i, 'hello');      // values positional, in declaration order, type-checked
//   ust.tracef('%d items', n); ust.tracelog('TRACE_INFO', 'done');   // lttng-ust's built-in tracepoints
// Fields are an ordered list of named specs (not an object) because TypeScript cannot derive a positional
// argument tuple from an object type's key order. A disabled event costs one property load (`enabled`) and
// allocates nothing; emit() on a disabled event returns at once. Recording starts with startLocalSession()
// or the LTT_UST_OUTPUT=DIR environment variable (read once, when the main thread loads this module); workers
// that load ltt/ust join the main thread's session. Env options for that case: LTT_UST_SUBBUF_SIZE,
// LTT_UST_NUM_SUBBUF, LTT_UST_MODE (discard|overwrite), LTT_UST_CONTEXTS (vpid,vtid,procname,async_id),
// LTT_UST_EVENTS (comma-separated globs), LTT_UST_LOGLEVEL (TRACE_*), LTT_UST_BLOCKING_TIMEOUT (ms or inf).
// Without LTT_UST_OUTPUT the main thread registers with the running session daemons (app-agent.ts), waiting at
// most LTT_UST_REGISTER_TIMEOUT ms (default 500), and records whatever sessions they start (`ltt enable-event -u`).

import { isMainThread } from 'node:worker_threads';
import { LttError } from '../errors.js';
import type { FieldSpec, ValuesOf } from './fields.js';
import { declareEvent, flushThread, initThread, threadStats, type EventClass, type ThreadStats } from './tracer.js';
import { LOG_LEVELS, logLevelValue, type LogLevelName } from './enablement.js';
import { BUILTIN_EVENTS, TRACEF_EVENT, tracelogEventName } from './builtin-tracepoints.js';
import { formatWithOptions } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startLocalSession, type LocalSessionOptions } from './local-session.js';
import { startAgent } from './app-agent.js';
import { isInternalThread } from './internal-thread.js';
// Registers the state dump with the tracer (lttng_ust_statedump:* at a session's start and on request).
import './statedump.js';
import type { ContextName } from './event-codegen.js';

export {
  int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64, bool, string, enumeration, array,
  sequence,
} from './fields.js';
export type { FieldSpec, ValueOf, ValuesOf, IntOptions, EnumMappings } from './fields.js';
export { LOG_LEVELS, type LogLevelName, type EventRule } from './enablement.js';
export { startLocalSession, stopLocalSession, localSessionInfo, setEventRules, type LocalSessionOptions, type LocalSessionInfo } from './local-session.js';
export type { ContextName } from './event-codegen.js';
export type { ThreadStats } from './tracer.js';
export type { LossMode } from './ring-layout.js';

/** A declared tracepoint. `emit` takes the field values positionally. */
export interface TracepointEvent<V extends readonly unknown[]> {
  /** `provider:event`. */
  readonly name: string;
  readonly logLevel: number;
  /** True while a session records this event. Check it before computing expensive arguments. */
  readonly enabled: boolean;
  readonly emit: (...values: V) => void;
}

export interface EventOptions {
  /** Default TRACE_DEBUG_LINE, like lttng-ust. */
  readonly logLevel?: LogLevelName | number;
}

const PROVIDER_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export class Provider {
  constructor(readonly name: string) {
    if (!PROVIDER_RE.test(name)) throw new TypeError(`ltt/ust: invalid provider name ${JSON.stringify(name)}`);
  }

  /** Declares `provider:name` (once per thread; declaring it again with the same fields returns the same event). */
  event<const T extends readonly FieldSpec[]>(name: string, fields: T, opts?: EventOptions): TracepointEvent<ValuesOf<T>> {
    if (!PROVIDER_RE.test(name)) throw new TypeError(`ltt/ust: invalid event name ${JSON.stringify(name)}`);
    const ev: EventClass = declareEvent(`${this.name}:${name}`, fields, logLevelValue(opts?.logLevel));
    return ev as unknown as TracepointEvent<ValuesOf<T>>;
  }
}

export function provider(name: string): Provider {
  return new Provider(name);
}

const builtins = new Map<string, EventClass>();

/** This thread's class of one of lttng-ust's built-in tracepoints, declared at its first use. */
function builtin(name: string): EventClass {
  let ev = builtins.get(name);
  if (ev === undefined) {
    const spec = BUILTIN_EVENTS.find((e) => e.name === name)!;
    ev = declareEvent(spec.name, spec.fields, spec.logLevel);
    builtins.set(name, ev);
  }
  return ev;
}

/** The message's UTF-8 bytes as lttng-ust's char sequence holds them. */
function messageBytes(format: string, args: readonly unknown[]): Int8Array {
  const bytes = Buffer.from(formatWithOptions({}, format, ...args));
  return new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/**
 * lttng-ust's tracef(): records a printf-style message (util.format's %s, %d, %j, ...) as lttng_ust_tracef:event
 * when a session enables it; formats nothing otherwise.
 */
export function tracef(format: string, ...args: unknown[]): void {
  const ev = builtin(TRACEF_EVENT.name) as unknown as TracepointEvent<[Int8Array]>;
  if (ev.enabled) ev.emit(messageBytes(format, args));
}

type TracelogEvent = TracepointEvent<[string, number, string, Int8Array]>;
const tracelogEvents: Partial<Record<LogLevelName, TracelogEvent>> = Object.create(null);

function tracelogEvent(level: LogLevelName): TracelogEvent {
  if (!Object.hasOwn(LOG_LEVELS, level)) throw new TypeError(`ltt/ust: unknown log level ${JSON.stringify(level)}`);
  return (tracelogEvents[level] = builtin(tracelogEventName(level)) as unknown as TracelogEvent);
}

/** lttng-ust's tracelog(): the message at `level` (lttng_ust_tracelog:LEVEL) with the caller's file, line, function. */
export function tracelog(level: LogLevelName, format: string, ...args: unknown[]): void {
  // Each level's event looked up once: a disabled call costs a property load, as any tracepoint's.
  const ev = tracelogEvents[level] ?? tracelogEvent(level);
  if (!ev.enabled) return;
  // The caller's frame: "    at FUNC (FILE:LINE:COL)" or "    at FILE:LINE:COL".
  const frame = new Error().stack?.split('\n')[2] ?? '';
  const m = /^\s*at (?:(.*) \()?(.*):(\d+):\d+\)?$/.exec(frame);
  // ES modules name their file as a URL; lttng-ust records a path (__FILE__).
  const file = m?.[2] ?? '';
  ev.emit(file.startsWith('file://') ? fileURLToPath(file) : file, Number(m?.[3] ?? 0), m?.[1] ?? '', messageBytes(format, args));
}

/** Hands this thread's open packet to the consumer now (a sub-buffer switch). */
export function flush(): void {
  flushThread();
}

/** This thread's recording counters. */
export function stats(): ThreadStats {
  return threadStats();
}

function envInt(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const m = /^(\d+)([kKmM]?)$/.exec(v.trim());
  if (!m) throw new LttError('UST_BAD_OPTION', `ltt/ust: ${name} must be a size like 4096, 64k or 1M (got ${JSON.stringify(v)})`);
  const mult = m[2] === '' ? 1 : m[2]!.toLowerCase() === 'k' ? 1024 : 1024 * 1024;
  return Number(m[1]) * mult;
}

function list(name: string): string[] | undefined {
  const v = process.env[name];
  if (v === undefined || v.trim() === '') return undefined;
  return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** LTT_UST_BLOCKING_TIMEOUT: ms, or "inf". */
function blockingEnv(): number | undefined {
  const v = process.env['LTT_UST_BLOCKING_TIMEOUT'];
  if (v === undefined || v === '') return undefined;
  if (v === 'inf') return Infinity;
  if (!/^\d+$/.test(v)) throw new LttError('UST_BAD_OPTION', `ltt/ust: LTT_UST_BLOCKING_TIMEOUT must be milliseconds or "inf" (got ${JSON.stringify(v)})`);
  return Number(v);
}

/** LTT_UST_OUTPUT=DIR: trace this process from the start. */
function startFromEnv(): void {
  const dir = process.env['LTT_UST_OUTPUT'];
  if (!dir) return;
  const opts: LocalSessionOptions = {
    dir,
    subbufSize: envInt('LTT_UST_SUBBUF_SIZE'),
    numSubbuf: envInt('LTT_UST_NUM_SUBBUF'),
    mode: (process.env['LTT_UST_MODE'] as LocalSessionOptions['mode']) || undefined,
    blockingTimeoutMs: blockingEnv(),
    contexts: list('LTT_UST_CONTEXTS') as ContextName[] | undefined,
    events: list('LTT_UST_EVENTS'),
    logLevel: (process.env['LTT_UST_LOGLEVEL'] as LogLevelName) || undefined,
  };
  startLocalSession(opts);
}

if (isMainThread) {
  if (process.env['LTT_UST_OUTPUT']) {
    try {
      startFromEnv();
    } catch (err) {
      // A misconfigured environment must not take the application down: say it once, trace nothing.
      process.emitWarning(err instanceof Error ? err.message : String(err));
    }
  } else {
    try {
      // Register with the session daemons, if any run (bounded wait, LTT_UST_REGISTER_TIMEOUT).
      startAgent();
    } catch {
      // Tracing unavailable is never the application's problem.
    }
  }
} else if (!isInternalThread()) {
  initThread();
}
