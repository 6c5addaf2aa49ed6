// ltt/auto's instrumentation of an unmodified app: Node's diagnostics channels (HTTP server and client,
// undici/fetch, net sockets, child processes, worker threads), dns.lookup and tls.connect (wrapped: Node 20 has
// no channel for them), the event loop's utilization, and the request context (request-context.ts).
//
// Contract: install() runs once per JS thread. Nothing is subscribed, wrapped code only checks a flag, and no
// async hook runs until a session records one of the `node` events (ust's onEnablementChange tells): the cost
// with no session recording is the channels' `hasSubscribers` checks Node makes anyway.

import dc from 'node:diagnostics_channel';
import dns from 'node:dns';
import tls from 'node:tls';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { isMainThread, threadId } from 'node:worker_threads';
import { onEnablementChange } from '../ust/tracer.js';
import type { EventClass } from '../ust/tracer.js';
import * as ev from './node-events.js';
import { current, enterRequest, leaveRequest, newId, setTracking } from './request-context.js';

const kId = Symbol('ltt.id');
const kBytes = Symbol('ltt.bytes');
const kStatus = Symbol('ltt.status');
const kConn = Symbol('ltt.conn');
type Obj = Record<symbol, unknown> & Record<string, unknown>;

function pathOf(url: unknown): string {
  if (typeof url !== 'string') return '';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** Express (and routers shaped like it) leave the matched route on the request. */
function routeOf(request: Obj): string {
  const route = request['route'] as { path?: unknown } | undefined;
  if (route === undefined || typeof route.path !== 'string') return '';
  return (typeof request['baseUrl'] === 'string' ? request['baseUrl'] : '') + route.path;
}

/**
 * Bytes the connection has handed to the kernel (or queued for it). A response's bytes are the count at its
 * finish less the count at the previous one's on that connection (kept on the socket): Node sends a pipelined
 * response only after the one before it finished, and publishes the finish before it starts the next.
 */
function bytesOut(socket: Message['socket'] | undefined | null): number {
  if (socket === undefined || socket === null) return 0;
  const n = socket['_bytesDispatched'];
  return typeof n === 'number' ? n : (socket.bytesWritten ?? 0);
}

interface Message {
  request: Obj;
  response: Obj;
  socket: Obj & { bytesWritten?: number };
  process: Obj & { pid?: number; spawnfile?: string };
  worker: { threadId: number };
}

/** One channel subscription, on while any of its events is enabled. */
interface Subscription {
  readonly channel: string;
  readonly events: readonly EventClass[];
  readonly fn: (m: Message) => void;
  on?: boolean;
}

const SERVER_EVENTS = [ev.requestStart, ev.requestEnd, ev.context, ev.poolSubmit];
const subscriptions: Subscription[] = [
  {
    channel: 'http.server.request.start',
    events: SERVER_EVENTS,
    fn: ({ request, response, socket }) => {
      const req = newId();
      response[kId] = req;
      // A connection seen first: its bytes so far (an earlier response's, queued ones included) are not this one's.
      if (socket && socket[kBytes] === undefined) socket[kBytes] = socket['_httpMessage'] ? (socket.bytesWritten ?? 0) : bytesOut(socket);
      // The connection's later callbacks (reading the body, writing) belong to this request.
      response[kConn] = enterRequest(req);
      ev.requestStart.emit(req, String(request['method'] ?? ''), pathOf(request['url']));
    },
  },
  {
    channel: 'http.server.response.finish',
    events: SERVER_EVENTS,
    fn: ({ request, response, socket }) => {
      const req = response[kId] as number | undefined;
      if (req === undefined) return;
      const sent = bytesOut(socket);
      const before = socket?.[kBytes] as number | undefined;
      if (socket) socket[kBytes] = sent;
      ev.requestEnd.emit(req, Number(response['statusCode'] ?? 0), sent - (before ?? 0), routeOf(request));
      leaveRequest(response[kConn] as object | undefined, req);
    },
  },
  {
    channel: 'http.client.request.start',
    events: [ev.clientStart, ev.clientEnd],
    fn: ({ request }) => {
      const id = newId();
      request[kId] = id;
      const host = String(request['host'] ?? '');
      ev.clientStart.emit(current, id, String(request['method'] ?? ''), `${String(request['protocol'] ?? 'http:')}//${host}${String(request['path'] ?? '')}`);
    },
  },
  {
    channel: 'http.client.response.finish',
    events: [ev.clientStart, ev.clientEnd],
    fn: ({ request, response }) => {
      if (request[kId] !== undefined) ev.clientEnd.emit(request[kId] as number, Number(response['statusCode'] ?? 0));
    },
  },
  {
    channel: 'http.client.request.error',
    events: [ev.clientStart, ev.clientEnd],
    fn: ({ request }) => {
      if (request[kId] !== undefined) ev.clientEnd.emit(request[kId] as number, 0);
    },
  },
  {
    channel: 'undici:request:create',
    events: [ev.clientStart, ev.clientEnd],
    fn: ({ request }) => {
      const id = newId();
      request[kId] = id;
      ev.clientStart.emit(current, id, String(request['method'] ?? ''), `${String(request['origin'] ?? '')}${String(request['path'] ?? '')}`);
    },
  },
  {
    channel: 'undici:request:headers',
    events: [ev.clientStart, ev.clientEnd],
    fn: ({ request, response }) => {
      request[kStatus] = Number(response['statusCode'] ?? 0);
    },
  },
  {
    channel: 'undici:request:trailers',
    events: [ev.clientStart, ev.clientEnd],
    fn: ({ request }) => {
      if (request[kId] !== undefined) ev.clientEnd.emit(request[kId] as number, (request[kStatus] as number | undefined) ?? 0);
    },
  },
  {
    channel: 'undici:request:error',
    events: [ev.clientStart, ev.clientEnd],
    fn: ({ request }) => {
      if (request[kId] !== undefined) ev.clientEnd.emit(request[kId] as number, 0);
    },
  },
  {
    channel: 'net.client.socket',
    events: [ev.connectStart, ev.connectEnd],
    fn: ({ socket }) => {
      const id = newId();
      ev.connectStart.emit(current, id, '', 0);
      (socket as unknown as NodeJS.EventEmitter).once('connect', () => ev.connectEnd.emit(id, 0));
    },
  },
  {
    channel: 'child_process',
    events: [ev.childSpawn],
    // Published before the spawn: the pid is known at its 'spawn' event.
    fn: ({ process: child }) => {
      const req = current;
      (child as unknown as NodeJS.EventEmitter).once('spawn', () => ev.childSpawn.emit(req, child.pid ?? -1, String(child.spawnfile ?? '')));
    },
  },
  {
    channel: 'worker_threads',
    events: [ev.workerStart],
    fn: ({ worker }) => ev.workerStart.emit(current, worker.threadId),
  },
];

const anyEnabled = (events: readonly EventClass[]): boolean => events.some((e) => e.enabled);

/** Events whose request id needs the async hook (node:request_* alone do not). */
const CONTEXT_EVENTS = [ev.context, ev.poolSubmit, ev.clientStart, ev.connectStart, ev.dnsStart, ev.childSpawn, ev.workerStart];

type LookupCallback = (err: NodeJS.ErrnoException | null, ...rest: unknown[]) => void;

/** dns.lookup and tls.connect are looked up on their modules at each call (net, https, undici): wrapped there. */
function wrapModules(): void {
  const lookup = dns.lookup as unknown as (...args: unknown[]) => unknown;
  (dns as { lookup: unknown }).lookup = function (this: unknown, host: unknown, options: unknown, callback?: unknown): unknown {
    const cb = (typeof options === 'function' ? options : callback) as LookupCallback | undefined;
    if (!ev.dnsStart.enabled || typeof cb !== 'function') return Reflect.apply(lookup, this, arguments);
    const op = newId();
    ev.dnsStart.emit(current, op, String(host));
    const done: LookupCallback = function (this: unknown, err, ...rest) {
      ev.dnsEnd.emit(op, err ? String(err.code ?? 'error') : '');
      return cb.call(this, err, ...rest);
    };
    return typeof options === 'function' ? lookup.call(this, host, done) : lookup.call(this, host, options, done);
  };
  const connect = tls.connect as unknown as (...args: unknown[]) => tls.TLSSocket;
  (tls as { connect: unknown }).connect = function (this: unknown, ...args: unknown[]): tls.TLSSocket {
    const socket = Reflect.apply(connect, this, args);
    if (ev.connectStart.enabled) {
      const id = newId();
      ev.connectStart.emit(current, id, socket.remoteAddress ?? '', socket.remotePort ?? 0);
      socket.once('secureConnect', () => ev.connectEnd.emit(id, 1));
    }
    return socket;
  };
}

const LOOP_SAMPLE_MS = Number(process.env['LTT_AUTO_LOOP_MS'] ?? 100) || 100;
let loopTimer: ReturnType<typeof setInterval> | undefined;
let threadAnnounced = false;

/** Follows the session's rules: subscribes, hooks and samples only what recorded events need. */
function refresh(): void {
  for (const s of subscriptions) {
    const on = anyEnabled(s.events);
    if (on === (s.on === true)) continue;
    s.on = on;
    if (on) dc.subscribe(s.channel, s.fn as (m: unknown) => void);
    else dc.unsubscribe(s.channel, s.fn as (m: unknown) => void);
  }
  setTracking(anyEnabled(CONTEXT_EVENTS));
  if (ev.loopUtilization.enabled && loopTimer === undefined) {
    let last: EventLoopUtilization = performance.eventLoopUtilization();
    loopTimer = setInterval(() => {
      const now = performance.eventLoopUtilization();
      const d = performance.eventLoopUtilization(now, last);
      last = now;
      ev.loopUtilization.emit(Math.round(d.active * 1e6), Math.round(d.idle * 1e6));
    }, LOOP_SAMPLE_MS);
    loopTimer.unref();
  } else if (!ev.loopUtilization.enabled && loopTimer !== undefined) {
    clearInterval(loopTimer);
    loopTimer = undefined;
  }
  if (!isMainThread && !threadAnnounced && ev.threadStart.enabled) {
    threadAnnounced = true;
    ev.threadStart.emit(threadId);
  }
}

let installed = false;

export function install(): void {
  if (installed) return;
  installed = true;
  wrapModules();
  onEnablementChange(refresh);
  refresh();
}
