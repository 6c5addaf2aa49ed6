// Which request the running JavaScript works for, carried from a request's first callback to every callback
// and promise reaction it causes (the way AsyncLocalStorage carries a store: a symbol on each async resource,
// set at its creation; a nextTick's by its async id), and the `node:ctx` events that tell the analysis when the thread's work changes hands.
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
interface Tagged {
  [kReq]?: number;
  [kOp]?: number | undefined;
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
  if (!tracking || executionAsyncId() === 0) return undefined;
  const r = executionAsyncResource() as Tagged;
  r[kReq] = req;
  return r;
}

/**
 * After `req`'s node:request_end, which the analysis counts as a change to no request: the connection's later
 * callbacks (the next request's headers) are no longer `req`'s, and they need no node:ctx to say so.
 */
export function leaveRequest(resource: object | undefined, req: number): void {
  const r = resource as Tagged | undefined;
  if (r !== undefined && r[kReq] === req) r[kReq] = 0;
  ended = req;
  if (emitted === req) emitted = 0;
  else if (emitted !== 0) context.emit(emitted);
}

// nextTick callbacks (most of a request's async resources) run in the loop turn that queued them, long before
// 2^16 more ticks are queued: their request is kept by async id in this ring. A symbol on the tick object
// would cost a property store per tick and an executionAsyncResource() per callback, several times the ring's.
const TICKS = 1 << 16;
const tickId = new Float64Array(TICKS);
const tickReq = new Float64Array(TICKS);

const hook = createHook({
  init(asyncId, type, _trigger, resource) {
    if (type === 'TickObject') {
      const s = asyncId & (TICKS - 1);
      tickId[s] = asyncId;
      tickReq[s] = current;
      return;
    }
    if (current === 0) return;
    const r = resource as Tagged;
    r[kReq] = current;
    if (POOL_TYPES.has(type) && poolSubmit.enabled) {
      r[kOp] = ID_BASE + asyncId;
      poolSubmit.emit(current, ID_BASE + asyncId, type);
    }
  },
  before(asyncId) {
    const s = asyncId & (TICKS - 1);
    let req: number;
    let r: Tagged | undefined;
    if (tickId[s] === asyncId) req = tickReq[s]!;
    else {
      r = executionAsyncResource() as Tagged;
      req = r[kReq] ?? 0;
    }
    if (req !== emitted) {
      const shown = req === ended ? 0 : req;
      if (shown !== emitted) {
        emitted = shown;
        context.emit(shown);
      }
    }
    current = req;
    const op = r?.[kOp];
    if (op !== undefined) {
      r![kOp] = undefined;
      poolDone.emit(op);
    }
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
