// The viewer side of LTTng's live protocol 2.4 (what babeltrace2's lttng-live asks a relay): one request at a
// time on one connection, each reply read whole. `ltt view -i lttng-live net://HOST[:PORT]` lists sessions with
// it; live-source.ts follows one.
//
// Contract: every failure (refused connection, relay gone, a reply that is not the protocol) is an LttError
// with one line naming the relay; a relay that answers garbage is dropped at the first bad reply.

import { connect, type Socket } from 'node:net';
import { LttError } from '../errors.js';
import { ByteQueue } from './byte-queue.js';
import {
  VIEWER_CLIENT_COMMAND,
  VIEWER_HOST_NAME_MAX,
  VIEWER_INDEX_SIZE,
  VIEWER_NAME_MAX,
  VIEWER_PATH_MAX,
  VIEWER_SESSION_SIZE,
  VIEWER_STREAM_SIZE,
  ViewerCommand,
} from './live-protocol.js';
import { DEFAULT_LIVE_PORT } from './relay-options.js';
import { RELAY_MAJOR } from './relay-protocol.js';

export { DEFAULT_LIVE_PORT };

export interface LiveSessionInfo {
  readonly id: bigint;
  readonly liveTimerUs: number;
  readonly clients: number;
  readonly streams: number;
  readonly hostname: string;
  readonly name: string;
}

export interface LiveStreamInfo {
  readonly id: bigint;
  readonly ctfTraceId: bigint;
  readonly metadata: boolean;
  readonly path: string;
  readonly channel: string;
}

export interface LiveIndex {
  readonly offset: bigint;
  /** Bits, as the index entry has them. */
  readonly packetSize: bigint;
  readonly contentSize: bigint;
  readonly tsBegin: bigint;
  readonly tsEnd: bigint;
  readonly eventsDiscarded: bigint;
  readonly streamClassId: bigint;
  readonly status: number;
  readonly flags: number;
}

export interface LiveUrl {
  readonly host: string;
  /** As written in the URL (babeltrace2 repeats it only then). */
  readonly port: number | undefined;
  readonly target?: { readonly hostname: string; readonly session: string };
}

/** net://HOST[:PORT][/host/HOSTNAME/SESSION] (also net4://, and [IPv6] hosts), babeltrace2's lttng-live URL. */
export function parseLiveUrl(url: string): LiveUrl {
  const m = /^net[46]?:\/\/(\[[^\]]+\]|[^/:]+)(?::(\d+))?(?:\/host\/([^/]+)\/([^/]+))?\/?$/.exec(url);
  if (m === null || (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535))) {
    throw new LttError('LIVE_URL', `Invalid LTTng live URL "${url}" (expected net://HOST[:PORT][/host/HOSTNAME/SESSION])`);
  }
  return {
    host: m[1]!.replace(/^\[|\]$/g, ''),
    port: m[2] === undefined ? undefined : Number(m[2]),
    ...(m[3] !== undefined ? { target: { hostname: m[3], session: m[4]! } } : {}),
  };
}

/** Whether a view path is a live URL (babeltrace2 gives net:// paths to src.ctf.lttng-live). */
export function isLiveUrl(path: string): boolean {
  return /^net[46]?:\/\//.test(path);
}

function cString(b: Buffer): string {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString('utf8');
}

/** A reply's size once enough of it is there to tell (undefined: wait for more bytes). */
type ReplySize = (q: ByteQueue) => number | undefined;

const fixed =
  (n: number): ReplySize =>
  (q) =>
    q.length >= n ? n : undefined;
/** A u32 status, a u32 count, then `count` records of `size` bytes (attach, new streams, list sessions). */
const counted =
  (head: number, countAt: number, size: number): ReplySize =>
  (q) =>
    q.length >= head ? head + q.peek(head).readUInt32BE(countAt) * size : undefined;

/** Largest reply accepted (a packet or a metadata chunk): a relay claiming more is not speaking the protocol. */
const MAX_REPLY = 256 << 20;

export class LiveViewer {
  private readonly queue = new ByteQueue();
  private waiting: { size: ReplySize; resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private failure: LttError | undefined;

  private constructor(
    private readonly socket: Socket,
    readonly where: string,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.queue.push(chunk);
      this.deliver();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => this.fail(`lost the connection to the relay at ${where}: ${e.code ?? e.message}`));
    socket.on('close', () => this.fail(`the relay at ${where} closed the connection`));
  }

  /** Connects and says hello (CONNECT as a command client); `session` also makes the viewer session. */
  static async open(host: string, port: number, session: boolean): Promise<LiveViewer> {
    const where = `${host}:${port}`;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host, port });
      s.once('connect', () => resolve(s));
      s.once('error', (e: NodeJS.ErrnoException) => reject(new LttError('LIVE_RELAY', `Cannot connect to the relay at ${where}: ${e.code ?? e.message}`)));
    });
    socket.setNoDelay(true);
    const v = new LiveViewer(socket, where);
    const hello = Buffer.alloc(20);
    hello.writeBigInt64BE(-1n, 0);
    hello.writeUInt32BE(RELAY_MAJOR, 8);
    hello.writeUInt32BE(4, 12);
    hello.writeUInt32BE(VIEWER_CLIENT_COMMAND, 16);
    const reply = await v.request(ViewerCommand.CONNECT, hello, fixed(20));
    if (reply.readUInt32BE(8) !== RELAY_MAJOR) v.protocolError(`relay protocol ${reply.readUInt32BE(8)}.x`);
    if (session && (await v.request(ViewerCommand.CREATE_SESSION, Buffer.alloc(0), fixed(4))).readUInt32BE(0) !== 1) {
      v.protocolError('the relay refused to create a viewer session');
    }
    return v;
  }

  close(): void {
    this.failure ??= new LttError('LIVE_RELAY', 'viewer closed');
    this.socket.destroy();
  }

  private fail(why: string): void {
    this.failure ??= new LttError('LIVE_RELAY', why);
    this.socket.destroy();
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(this.failure);
  }

  /** A reply that is not LTTng's protocol: the connection is dropped and the error thrown. */
  protocolError(why: string): never {
    this.fail(`bad reply from the relay at ${this.where}: ${why}`);
    throw this.failure!;
  }

  private deliver(): void {
    const w = this.waiting;
    if (w === undefined) {
      if (this.queue.length > 0) this.fail(`bad reply from the relay at ${this.where}: ${this.queue.length} bytes nobody asked for`);
      return;
    }
    const n = w.size(this.queue);
    if (n === undefined) return;
    if (n > MAX_REPLY) return this.fail(`bad reply from the relay at ${this.where}: a reply of ${n} bytes`);
    if (this.queue.length < n) return;
    this.waiting = undefined;
    w.resolve(this.queue.take(n));
    if (this.queue.length > 0) this.fail(`bad reply from the relay at ${this.where}: ${this.queue.length} bytes nobody asked for`);
  }

  /** One command and its whole reply; commands go out one at a time, in call order. */
  private request(cmd: ViewerCommand, payload: Buffer, size: ReplySize): Promise<Buffer> {
    const run = (): Promise<Buffer> =>
      new Promise<Buffer>((resolve, reject) => {
        if (this.failure !== undefined) return reject(this.failure);
        const h = Buffer.alloc(16);
        h.writeBigUInt64BE(BigInt(payload.length), 0);
        h.writeUInt32BE(cmd, 8);
        this.waiting = { size, resolve, reject };
        this.socket.write(payload.length === 0 ? h : Buffer.concat([h, payload]));
      });
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  async listSessions(): Promise<LiveSessionInfo[]> {
    const r = await this.request(ViewerCommand.LIST_SESSIONS, Buffer.alloc(0), counted(4, 0, VIEWER_SESSION_SIZE));
    const sessions: LiveSessionInfo[] = [];
    for (let at = 4; at < r.length; at += VIEWER_SESSION_SIZE) {
      const s = r.subarray(at, at + VIEWER_SESSION_SIZE);
      sessions.push({
        id: s.readBigUInt64BE(0),
        liveTimerUs: s.readUInt32BE(8),
        clients: s.readUInt32BE(12),
        streams: s.readUInt32BE(16),
        hostname: cString(s.subarray(20, 20 + VIEWER_HOST_NAME_MAX)),
        name: cString(s.subarray(20 + VIEWER_HOST_NAME_MAX, 20 + VIEWER_HOST_NAME_MAX + VIEWER_NAME_MAX)),
      });
    }
    return sessions;
  }

  private static streams(r: Buffer): { status: number; streams: LiveStreamInfo[] } {
    const streams: LiveStreamInfo[] = [];
    for (let at = 8; at < r.length; at += VIEWER_STREAM_SIZE) {
      const s = r.subarray(at, at + VIEWER_STREAM_SIZE);
      streams.push({
        id: s.readBigUInt64BE(0),
        ctfTraceId: s.readBigUInt64BE(8),
        metadata: s.readUInt32BE(16) !== 0,
        path: cString(s.subarray(20, 20 + VIEWER_PATH_MAX)),
        channel: cString(s.subarray(20 + VIEWER_PATH_MAX, 20 + VIEWER_PATH_MAX + VIEWER_NAME_MAX)),
      });
    }
    return { status: r.readUInt32BE(0), streams };
  }

  async attach(session: bigint, seek: number): Promise<{ status: number; streams: LiveStreamInfo[] }> {
    const p = Buffer.alloc(20);
    p.writeBigUInt64BE(session, 0);
    p.writeUInt32BE(seek, 16);
    return LiveViewer.streams(await this.request(ViewerCommand.ATTACH_SESSION, p, counted(8, 4, VIEWER_STREAM_SIZE)));
  }

  async newStreams(session: bigint): Promise<{ status: number; streams: LiveStreamInfo[] }> {
    return LiveViewer.streams(await this.request(ViewerCommand.GET_NEW_STREAMS, u64(session), counted(8, 4, VIEWER_STREAM_SIZE)));
  }

  async nextIndex(stream: bigint): Promise<LiveIndex> {
    const r = await this.request(ViewerCommand.GET_NEXT_INDEX, u64(stream), fixed(VIEWER_INDEX_SIZE));
    return {
      offset: r.readBigUInt64BE(0),
      packetSize: r.readBigUInt64BE(8),
      contentSize: r.readBigUInt64BE(16),
      tsBegin: r.readBigUInt64BE(24),
      tsEnd: r.readBigUInt64BE(32),
      eventsDiscarded: r.readBigUInt64BE(40),
      streamClassId: r.readBigUInt64BE(48),
      status: r.readUInt32BE(56),
      flags: r.readUInt32BE(60),
    };
  }

  /** GET_PACKET: status, flags and the bytes (empty unless the status is OK). */
  async packet(stream: bigint, offset: bigint, length: number): Promise<{ status: number; flags: number; bytes: Buffer }> {
    const p = Buffer.alloc(20);
    p.writeBigUInt64BE(stream, 0);
    p.writeBigUInt64BE(offset, 8);
    p.writeUInt32BE(length, 16);
    const r = await this.request(ViewerCommand.GET_PACKET, p, (q) => (q.length >= 12 ? 12 + q.peek(12).readUInt32BE(4) : undefined));
    return { status: r.readUInt32BE(0), flags: r.readUInt32BE(8), bytes: r.subarray(12) };
  }

  /** GET_METADATA: status and the new metadata bytes. */
  async metadata(stream: bigint): Promise<{ status: number; bytes: Buffer }> {
    const r = await this.request(ViewerCommand.GET_METADATA, u64(stream), (q) => {
      if (q.length < 12) return undefined;
      const len = q.peek(12).readBigUInt64BE(0);
      return len > BigInt(MAX_REPLY) ? MAX_REPLY + 1 : 12 + Number(len);
    });
    return { status: r.readUInt32BE(8), bytes: r.subarray(12) };
  }
}

function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v, 0);
  return b;
}

/** CONNECT then LIST_SESSIONS on the relay's live port. */
export async function listLiveSessions(host: string, port: number): Promise<LiveSessionInfo[]> {
  const v = await LiveViewer.open(host, port, false);
  try {
    return await v.listSessions();
  } finally {
    v.close();
  }
}
