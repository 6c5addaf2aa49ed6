// The `node` provider: the ltt/ust events ltt/auto emits (`ltt enable-event -u 'node:*'`). `ltt analyze requests`
// (src/engine/request-tables.ts) reads them; their names and fields are that contract.
//
// A request id (`req`) is unique in the process: the JS thread's threadId in the high 32 bits, a counter in the
// low ones. 0 means "no request". `op`, `client`, `conn` ids are unique in the process the same way.

import { declareEvent, type EventClass } from '../ust/tracer.js';
import { int32, int64, string, uint16, uint64, type FieldSpec } from '../ust/fields.js';
import { LOG_LEVELS } from '../ust/enablement.js';

function event(name: string, fields: readonly FieldSpec[], level: number = LOG_LEVELS.TRACE_INFO): EventClass {
  return declareEvent(`node:${name}`, fields, level);
}

/** An HTTP server request was parsed: from here on the thread works for `req`. */
export const requestStart = event('request_start', [int64('req'), string('method'), string('path')]);
/** Its response finished (`route`: the framework's route pattern when it set one, else empty); the thread now
 * works for no request (a node:ctx follows when it still works for another). */
export const requestEnd = event('request_end', [int64('req'), uint16('status'), uint64('bytes'), string('route')]);
/** The thread now runs callbacks of request `req` (0: of none), until the next one; its polls are not work. */
export const context = event('ctx', [int64('req')], LOG_LEVELS.TRACE_DEBUG);
/** Work handed to the libuv thread pool (fs, dns, crypto) for `req`, and its completion callback. */
export const poolSubmit = event('pool_submit', [int64('req'), int64('op'), string('kind')], LOG_LEVELS.TRACE_DEBUG);
export const poolDone = event('pool_done', [int64('op')], LOG_LEVELS.TRACE_DEBUG);
/** An outgoing HTTP request (http.request or fetch/undici) and its end (status 0: it failed). */
export const clientStart = event('client_start', [int64('req'), int64('client'), string('method'), string('url')]);
export const clientEnd = event('client_end', [int64('client'), uint16('status')]);
/** A TCP or TLS connection being opened, and when it is ready (connected, or the TLS handshake done). */
export const connectStart = event('connect_start', [int64('req'), int64('conn'), string('host'), int32('port')]);
export const connectEnd = event('connect_end', [int64('conn'), int32('tls')]);
/** dns.lookup() (getaddrinfo in the thread pool) and its answer (error: the code, empty when it resolved). */
export const dnsStart = event('dns_start', [int64('req'), int64('op'), string('host')]);
export const dnsEnd = event('dns_end', [int64('op'), string('error')]);
/** A child process started for `req` (its kernel pid: the analysis adds its CPU time to the request's). */
export const childSpawn = event('child_spawn', [int64('req'), int32('child_pid'), string('file')]);
/** A worker thread created for `req`; the worker names its OS thread with thread_start. */
export const workerStart = event('worker_start', [int64('req'), int32('thread_id')]);
export const threadStart = event('thread_start', [int32('thread_id')]);
/** Event loop busy and idle time since the previous sample (ns). */
export const loopUtilization = event('loop', [uint64('busy_ns'), uint64('idle_ns')], LOG_LEVELS.TRACE_DEBUG);

export const ALL_EVENTS: readonly EventClass[] = [
  requestStart, requestEnd, context, poolSubmit, poolDone, clientStart, clientEnd, connectStart, connectEnd,
  dnsStart, dnsEnd, childSpawn, workerStart, threadStart, loopUtilization,
];
