// Which request the running JavaScript works for, carried from a request's first callback to every callback
// and promise reaction it causes (the way AsyncLocalStorage carries a store: a symbol on each async resource,
// set at its creation), and the `node:ctx` events that tell the analysis when the thread's work changes hands.
//
// Contract: `current` is the running callback's request id (0: none); `enterRequest(id)` makes a new request
// current (the caller emitted its node:request_start, which the analysis counts as a ctx change) and tags the
// running callback's resource (an HTTP server connection's parser) with it, so the parser's later callbacks
// for that request need no event; `leaveRequest` (after node:request_end, which the analysis counts as a
// change to no request) takes that tag back. The async hook runs only while
// `setTracking(true)`: off, ltt/auto costs no hook call per callback. node:ctx is emitted only when the
// request changes: the analysis resumes a thread's last context after each poll of the event loop (it cuts
// the poll out), so callbacks of one request in a row, in one loop turn or across several, cost no event.

import { createHook, executionAsyncId, executionAsyncResource } from 'node:async_hooks';
import { threadId } from 'node:worker_threads';
import { context, poolDone, poolSubmit } from './node-events.js';

const kReq = Symbol('ltt.req');
const kOp = Symbol('ltt.op');
const kAsyncId = Symbol('ltt.asyncId');
interface Tagged {
  [kReq]?: number;
  [kOp]?: number | undefined;
  [kAsyncId]?: number;
}

/** Async resource types whose work runs on the libuv thread pool (one request each). */
const POOL_TYPES = new Set([
  'FSREQCALLBACK', 'FSREQPROMISE', 'GETADDRINFOREQWRAP', 'GETNAMEINFOREQWRAP', 'PBKDF2REQUEST', 'RANDOMBYTESREQUEST',
  'SCRYPTREQUEST', 'HASHREQUEST', 'HKDFREQUEST', 'KEYGENREQUEST', 'SIGNREQUEST', 'VERIFYREQUEST', 'CIPHERREQUEST',
  'DERIVEBITSREQUEST', 'CHECKPRIMEREQUEST',
]);

const ID_BASE = threadId * 2 ** 32;
let counter = 0;

/** A process-unique id (request, client request, connection, lookup). */
export function newId(): number {
  return ID_BASE + ++counter;
}

export let current = 0;
let tracking = false;
/** The request of the last node:ctx (or request_start) this thread emitted (0 after a request_end). */
let emitted = 0;
/**
 * The request that ended last: its late callbacks (the response's closing ticks) are shown as no request's,
 * which they are to the analysis (it clips a request's work to its life), saving a ctx there and one back.
 */
let ended = 0;

/** Makes `req` current; returns the resource of the callback that started it (for leaveRequest), if tagged. */
export function enterRequest(req: number): object | undefined {
  current = req;
  emitted = req;
  if (!tracking) return undefined;
  const id = executionAsyncId();
  if (id === 0) return undefined;
  const r = executionAsyncResource() as Tagged;
  r[kReq] = req;
  r[kAsyncId] = id;
  const s = id & (RING - 1);
  ringId[s] = id;
  ringReq[s] = req;
  return r;
}

/**
 * After `req`'s node:request_end, which the analysis counts as a change to no request: the connection's later
 * callbacks (the next request's headers) are no longer `req`'s, and they need no node:ctx to say so.
 */
export function leaveRequest(resource: object | undefined, req: number): void {
  const r = resource as Tagged | undefined;
  if (r !== undefined && r[kReq] === req) {
    r[kReq] = 0;
    const id = r[kAsyncId]!;
    if (ringId[id & (RING - 1)] === id) ringReq[id & (RING - 1)] = 0;
  }
  ended = req;
  if (emitted === req) emitted = 0;
  else if (emitted !== 0) context.emit(emitted);
}

// Most callbacks (nextTicks, promise reactions, a request's writes) run soon after their resource was made,
// long before 2^16 more are: their request is kept by async id in this ring, which `before` reads instead of
// the resource (executionAsyncResource() and a property load cost several times a typed-array read). A nextTick
// is only in the ring (a symbol on the tick object would cost a store per tick); other resources also carry
// their request as a tag (kReq) for when the ring no longer holds them (a long timer, a connection's parser),
// and the ring is kept equal to the tags where it holds the same id. Pool requests are not in the ring: their
// completion (kOp) is on the resource.
const RING = 1 << 16;
const ringId = new Float64Array(RING);
const ringReq = new Float64Array(RING);

const hook = createHook({
  init(asyncId, type, _trigger, resource) {
    const req = current;
    // Store sites split by kind: a promise's tag is a store on one of a few promise shapes (fast), the other
    // kinds share a site of many shapes (slow), and a nextTick has no tag at all.
    if (type === 'PROMISE') {
      if (req !== 0) (resource as Tagged)[kReq] = req;
    } else if (req !== 0 && type !== 'TickObject') {
      const r = resource as Tagged;
      r[kReq] = req;
      // A timer (one per request: the socket's) is the common case here and never thread-pool work.
      if (type !== 'Timeout' && POOL_TYPES.has(type) && poolSubmit.enabled) {
        r[kOp] = ID_BASE + asyncId;
        poolSubmit.emit(req, ID_BASE + asyncId, type);
        return;
      }
    }
    const s = asyncId & (RING - 1);
    ringId[s] = asyncId;
    ringReq[s] = req;
  },
  before(asyncId) {
    const s = asyncId & (RING - 1);
    let req: number;
    if (ringId[s] === asyncId) req = ringReq[s]!;
    else {
      const r = executionAsyncResource() as Tagged;
      req = r[kReq] ?? 0;
      const op = r[kOp];
      if (op !== undefined) {
        r[kOp] = undefined;
        poolDone.emit(op);
      }
    }
    if (req !== emitted) {
      const shown = req === ended ? 0 : req;
      if (shown !== emitted) {
        emitted = shown;
        context.emit(shown);
      }
    }
    current = req;
  },
});

export function setTracking(on: boolean): void {
  if (on === tracking) return;
  tracking = on;
  if (on) hook.enable();
  else {
    hook.disable();
    current = 0;
    emitted = 0;
    ended = 0;
  }
}
