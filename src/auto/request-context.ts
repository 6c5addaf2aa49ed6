// Which request the running JavaScript works for, carried from a request's first callback to every callback
// and promise reaction it causes (the way AsyncLocalStorage carries a store: a symbol on each async resource,
// set at its creation), and the `node:ctx` events that tell the analysis when the thread's work changes hands.
//
// Contract: `current` is the running callback's request id (0: none); `enterRequest(id)` makes a new request
// current (the caller emitted its node:request_start, which the analysis counts as a ctx change). The async
// hook runs only while `setTracking(true)`: off, ltt/auto costs no hook call per callback. A callback that is a
// macrotask (a socket read, a timer, an fs completion, ...) emits node:ctx whenever it belongs to a request,
// since the event loop may have polled (which ends the previous context) since the last one; a promise reaction
// or a nextTick runs before the loop polls again, so it emits only when the request changes.

import { createHook, executionAsyncResource } from 'node:async_hooks';
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
/** The request of the last node:ctx (or request_start) this thread emitted. */
let emitted = 0;

export function enterRequest(req: number): void {
  current = req;
  emitted = req;
}

/** The request an object (a socket handle, a request) was tagged with, or undefined. */
export function tag(obj: object | null | undefined, req: number): void {
  if (obj) (obj as Tagged)[kReq] = req;
}

const hook = createHook({
  init(asyncId, type, _trigger, resource) {
    if (current === 0) return;
    const r = resource as Tagged;
    // Negative: a microtask or a nextTick, which runs before the event loop polls again.
    r[kReq] = type === 'PROMISE' || type === 'TickObject' ? -current : current;
    if (POOL_TYPES.has(type) && poolSubmit.enabled) {
      r[kOp] = ID_BASE + asyncId;
      poolSubmit.emit(current, ID_BASE + asyncId, type);
    }
  },
  before() {
    const r = executionAsyncResource() as Tagged;
    const tagged = r[kReq] ?? 0;
    const req = tagged < 0 ? -tagged : tagged;
    if (tagged < 0 ? req !== emitted : req !== 0 || emitted !== 0) {
      emitted = req;
      context.emit(req);
    }
    current = req;
    const op = r[kOp];
    if (op !== undefined) {
      r[kOp] = undefined;
      poolDone.emit(op);
    }
  },
});

let tracking = false;

export function setTracking(on: boolean): void {
  if (on === tracking) return;
  tracking = on;
  if (on) hook.enable();
  else {
    hook.disable();
    current = 0;
    emitted = 0;
  }
}
