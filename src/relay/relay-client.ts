// The consumer side of LTTng 2.13's consumer-to-relay protocol: what a session daemon and its consumer send a
// relay (lttng-relayd or ltt-relayd) on the control and data ports. Packets go on the data port, their index
// entries on the control port, as lttng-consumerd sends them. A relay answers a connection's commands in
// order, so a caller may send the next command before the last reply came (lttng-consumerd waits for each;
// the relay sink does not wait for SEND_INDEX's): replies are matched to commands first in, first out.

import { connect, type Socket } from 'node:net';
import { LttError } from '../errors.js';
import { ByteQueue } from './byte-queue.js';
import { ChunkCloseCommand, CONFIG_FLAG_CLEAR_ALLOWED, CONTROL_HEADER_SIZE, DATA_HEADER_SIZE, LTTNG_OK, RELAY_MAJOR, RELAY_MINOR, RelayCommand } from './relay-protocol.js';

export interface ClientSession {
  name: string;
  hostname: string;
  liveTimerUs: number;
  /** 16 bytes identifying the session daemon. */
  sessiondUuid: Uint8Array;
  sessiondSessionId: bigint;
  creationTime: number;
  currentChunkId?: bigint;
  /** The trace folder under HOSTNAME/ (a URL's path); '' for SESSION-DATE. */
  basePath?: string;
  /** The name already ends with its date (auto-YYYYmmdd-HHMMSS): the relay does not add it again. */
  nameContainsCreationTime?: boolean;
  /** A snapshot's relay session: its chunk, named after the snapshot, is never archived. */
  snapshot?: boolean;
}

/** What CLOSE_TRACE_CHUNK asks the relay to do with the chunk once nothing uses it (lttng_trace_chunk_command_type). */
export type ChunkCloseAction = 'move-to-completed' | 'delete' | 'no-operation';
const CLOSE_ACTION: Record<ChunkCloseAction, ChunkCloseCommand> = {
  'move-to-completed': ChunkCloseCommand.MOVE_TO_COMPLETED,
  'no-operation': ChunkCloseCommand.NO_OPERATION,
  delete: ChunkCloseCommand.DELETE,
};

/** How long a connection attempt may take before it counts as refused (an address nobody answers for). */
const CONNECT_TIMEOUT_MS = 10_000;
/** How long a handshake (version, session, first chunk or stream) may wait for the relay's answers. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

function open(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, noDelay: true }, () => {
      s.off('error', reject);
      s.setTimeout(0);
      resolve(s);
    });
    s.setTimeout(CONNECT_TIMEOUT_MS, () => s.destroy(new LttError('RELAY_TIMEOUT', `no answer from ${host}:${port} within ${CONNECT_TIMEOUT_MS / 1000} s`)));
    s.once('error', reject);
  });
}

export class RelayClient {
  private readonly replies = new ByteQueue();
  /** The replies awaited, in the order the commands were sent. */
  private readonly wanted: Array<{ size: (q: ByteQueue) => number | undefined; resolve: (b: Buffer) => void; reject: (e: Error) => void }> = [];
  private failure: Error | undefined;
  /** sendPacket() calls waiting for the data socket to drain: failed with the connection. */
  private readonly drainWaiters: Array<(error?: Error) => void> = [];

  private constructor(
    private readonly control: Socket,
    readonly data: Socket,
  ) {
    control.on('data', (chunk: Buffer) => {
      this.replies.push(chunk);
      this.deliver();
    });
    const fail = (error: Error): void => {
      if (this.failure === undefined) {
        this.failure = error;
        for (const l of this.goneListeners.splice(0)) l(error);
      }
      for (const w of this.wanted.splice(0)) w.reject(this.failure);
      for (const w of this.drainWaiters.splice(0)) w(this.failure);
    };
    control.on('error', fail);
    control.on('close', () => fail(new LttError('RELAY_GONE', 'the relay closed the control connection')));
    data.on('error', fail);
    data.on('close', () => fail(new LttError('RELAY_GONE', 'the relay closed the data connection')));
  }

  static async connect(host: string, controlPort: number, dataPort: number): Promise<RelayClient> {
    const control = await open(host, controlPort);
    const data = await open(host, dataPort).catch((error: unknown) => {
      control.destroy();
      throw error;
    });
    return new RelayClient(control, data);
  }

  /** Why the connections ended, once they did (both are then unusable). */
  get error(): Error | undefined {
    return this.failure;
  }

  /** Calls `listener` once, when either connection ends or fails (at once if it already did). */
  onceGone(listener: (error: Error) => void): void {
    if (this.failure !== undefined) listener(this.failure);
    else this.goneListeners.push(listener);
  }
  private readonly goneListeners: Array<(error: Error) => void> = [];

  private deliver(): void {
    for (let w = this.wanted[0]; w !== undefined; w = this.wanted[0]) {
      const n = w.size(this.replies);
      if (n === undefined || this.replies.length < n) return;
      this.wanted.shift();
      w.resolve(this.replies.take(n));
    }
  }

  /** Sends a command; the reply of a size `size` computes from the bytes so far (undefined: not known yet). */
  private command(cmd: RelayCommand, payload: Buffer, size?: number | ((q: ByteQueue) => number | undefined)): Promise<Buffer> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const header = Buffer.alloc(CONTROL_HEADER_SIZE);
    header.writeBigUInt64BE(BigInt(payload.length), 8);
    header.writeUInt32BE(cmd, 16);
    this.control.write(Buffer.concat([header, payload]));
    if (size === undefined) return Promise.resolve(Buffer.alloc(0));
    return new Promise((resolve, reject) => {
      this.wanted.push({ size: typeof size === 'number' ? () => size : size, resolve, reject });
      this.deliver();
    });
  }

  private async expectOk(cmd: RelayCommand, payload: Buffer): Promise<void> {
    const code = (await this.command(cmd, payload, 4)).readUInt32BE(0);
    if (code !== LTTNG_OK) throw new LttError('RELAY_REFUSED', `the relay refused command ${cmd} (code ${code})`);
  }

  async version(): Promise<{ major: number; minor: number }> {
    const p = Buffer.alloc(8);
    p.writeUInt32BE(RELAY_MAJOR, 0);
    p.writeUInt32BE(RELAY_MINOR, 4);
    const r = await this.command(RelayCommand.VERSION, p, 8);
    return { major: r.readUInt32BE(0), minor: r.readUInt32BE(4) };
  }

  /** CREATE_SESSION (2.11); the relay's session id and output path. */
  async createSession(s: ClientSession): Promise<{ id: bigint; outputPath: string }> {
    const name = Buffer.from(`${s.name}\0`);
    const host = Buffer.from(`${s.hostname}\0`);
    const base = s.basePath ? Buffer.from(`${s.basePath}\0`) : Buffer.alloc(0);
    const p = Buffer.alloc(59);
    p.writeUInt32BE(name.length, 0);
    p.writeUInt32BE(host.length, 4);
    p.writeUInt32BE(base.length, 8);
    p.writeUInt32BE(s.liveTimerUs, 12);
    p[16] = s.snapshot ? 1 : 0;
    p[17] = s.nameContainsCreationTime ? 1 : 0;
    p.set(s.sessiondUuid, 18);
    p.writeBigUInt64BE(s.sessiondSessionId, 34);
    p.writeBigUInt64BE(BigInt(s.creationTime), 42);
    if (s.currentChunkId !== undefined) {
      p[50] = 1;
      p.writeBigUInt64BE(s.currentChunkId, 51);
    }
    const r = await this.command(RelayCommand.CREATE_SESSION, Buffer.concat([p, name, host, base]), (q) => (q.length < 16 ? undefined : 16 + peekU32(q, 12)));
    if (r.readUInt32BE(8) !== LTTNG_OK) throw new LttError('RELAY_REFUSED', `the relay refused session "${s.name}"`);
    return { id: r.readBigUInt64BE(0), outputPath: r.subarray(16, r.length - 1).toString('utf8') };
  }

  /** CREATE_TRACE_CHUNK: the session's next chunk (`name`: its folder, else the relay names it BEGIN-ID). */
  async createTraceChunk(id: bigint, creationTime: number, name?: string): Promise<void> {
    const n = name === undefined ? Buffer.alloc(0) : Buffer.from(`${name}\0`);
    const p = Buffer.alloc(20);
    p.writeBigUInt64BE(id, 0);
    p.writeBigUInt64BE(BigInt(creationTime), 8);
    p.writeUInt32BE(n.length, 16);
    await this.expectOk(RelayCommand.CREATE_TRACE_CHUNK, Buffer.concat([p, n]));
  }

  /**
   * ROTATE_STREAMS: each stream goes on in chunk `chunkId` from the packet whose CTF packet_seq_num is
   * `rotateAt` on (ignored for metadata, which rotates at once and is sent again whole).
   */
  async rotateStreams(chunkId: bigint, positions: ReadonlyArray<{ handle: bigint; rotateAt: bigint }>): Promise<void> {
    // u32 count, then the optional chunk id packed (u8 set + u64), as lttng's consumer sends it.
    const p = Buffer.alloc(13 + 16 * positions.length);
    p.writeUInt32BE(positions.length, 0);
    p[4] = 1;
    p.writeBigUInt64BE(chunkId, 5);
    positions.forEach((pos, i) => {
      p.writeBigUInt64BE(pos.handle, 13 + 16 * i);
      p.writeBigUInt64BE(pos.rotateAt, 21 + 16 * i);
    });
    await this.expectOk(RelayCommand.ROTATE_STREAMS, p);
  }

  /** CLOSE_TRACE_CHUNK: the relay's path of the closed chunk (archives/BEGIN-END-ID once moved). */
  async closeTraceChunk(id: bigint, closeTime: number, action: ChunkCloseAction): Promise<string> {
    const p = Buffer.alloc(21);
    p.writeBigUInt64BE(id, 0);
    p.writeBigUInt64BE(BigInt(closeTime), 8);
    p[16] = 1;
    p.writeUInt32BE(CLOSE_ACTION[action], 17);
    const r = await this.command(RelayCommand.CLOSE_TRACE_CHUNK, p, (q) => {
      if (q.length < 8) return undefined;
      return peekU32(q, 0) === LTTNG_OK ? 8 + peekU32(q, 4) : 8;
    });
    const code = r.readUInt32BE(0);
    if (code !== LTTNG_OK) throw new LttError('RELAY_REFUSED', `the relay refused to close trace chunk ${id} (code ${code})`);
    return r.subarray(8, r.length - 1).toString('utf8');
  }

  /** TRACE_CHUNK_EXISTS: does the relay still hold chunk `id` of this session daemon's session open? */
  async traceChunkExists(id: bigint): Promise<boolean> {
    const p = Buffer.alloc(8);
    p.writeBigUInt64BE(id, 0);
    const r = await this.command(RelayCommand.TRACE_CHUNK_EXISTS, p, 5);
    if (r.readUInt32BE(0) !== LTTNG_OK) throw new LttError('RELAY_REFUSED', `the relay refused to say whether trace chunk ${id} exists`);
    return r[4] !== 0;
  }

  /** GET_CONFIGURATION: whether the relay allows `clear` (lttng-relayd --disallow-clear). */
  async clearAllowed(): Promise<boolean> {
    const r = await this.command(RelayCommand.GET_CONFIGURATION, Buffer.alloc(8), 12);
    if (r.readUInt32BE(0) !== LTTNG_OK) throw new LttError('RELAY_REFUSED', 'the relay refused to give its configuration');
    return (r.readBigUInt64BE(4) & CONFIG_FLAG_CLEAR_ALLOWED) !== 0n;
  }

  /**
   * ADD_STREAM (2.11): the relay's handle of the stream. `files`: the channel's `--tracefile-size` and
   * `--tracefile-count`, which the relay applies to the stream's files (0: one file, no limit).
   */
  async addStream(channel: string, path: string, chunkId: bigint, files: { size: number; count: number } = { size: 0, count: 0 }): Promise<bigint> {
    const c = Buffer.from(`${channel}\0`);
    const pa = Buffer.from(`${path}\0`);
    const p = Buffer.alloc(32);
    p.writeUInt32BE(c.length, 0);
    p.writeUInt32BE(pa.length, 4);
    p.writeBigUInt64BE(BigInt(files.size), 8);
    p.writeBigUInt64BE(BigInt(files.count), 16);
    p.writeBigUInt64BE(chunkId, 24);
    const r = await this.command(RelayCommand.ADD_STREAM, Buffer.concat([p, c, pa]), 12);
    if (r.readUInt32BE(8) !== LTTNG_OK) throw new LttError('RELAY_REFUSED', `the relay refused stream ${path}/${channel}`);
    return r.readBigUInt64BE(0);
  }

  /** RESET_METADATA (`regenerate metadata`): the relay empties the metadata stream's file; `version` counts resets. */
  resetMetadata(handle: bigint, version: bigint): Promise<void> {
    const p = Buffer.alloc(16);
    p.writeBigUInt64BE(handle, 0);
    p.writeBigUInt64BE(version, 8);
    return this.expectOk(RelayCommand.RESET_METADATA, p);
  }

  streamsSent(): Promise<void> {
    return this.expectOk(RelayCommand.STREAMS_SENT, Buffer.alloc(0));
  }

  /** SEND_METADATA: no reply. */
  async sendMetadata(handle: bigint, bytes: Uint8Array): Promise<void> {
    const p = Buffer.alloc(12);
    p.writeBigUInt64BE(handle, 0);
    await this.command(RelayCommand.SEND_METADATA, Buffer.concat([p, bytes]));
  }

  /**
   * One packet on the data port (`padding`: zero bytes the relay adds after it, up to the packet size); resolves
   * once the socket took it (backpressure), rejects if the relay goes. `released` is called once the socket no
   * longer reads `packet` (its bytes are in the kernel, or the connection failed): the buffer may then be reused.
   */
  sendPacket(handle: bigint, seq: bigint, packet: Uint8Array, padding = 0, released?: () => void): Promise<void> {
    if (this.failure !== undefined) {
      released?.();
      return Promise.reject(this.failure);
    }
    const h = Buffer.alloc(DATA_HEADER_SIZE);
    h.writeBigUInt64BE(handle, 8);
    h.writeBigUInt64BE(seq, 16);
    h.writeUInt32BE(packet.length, 24);
    h.writeUInt32BE(padding, 28);
    // Header and packet in one writev(2) (the socket has no Nagle delay: two writes would be two segments).
    this.data.cork();
    this.data.write(h);
    const took = this.data.write(packet, released);
    this.data.uncork();
    if (took) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (error?: Error): void => {
        this.data.off('drain', onDrain);
        const i = this.drainWaiters.indexOf(done);
        if (i >= 0) this.drainWaiters.splice(i, 1);
        if (error) reject(error);
        else resolve();
      };
      const onDrain = (): void => done();
      this.drainWaiters.push(done);
      this.data.once('drain', onDrain);
    });
  }

  /** SEND_INDEX: `entry` is the 72-byte index entry of the packet (its offset is the relay's to fill). */
  sendIndex(handle: bigint, seq: bigint, entry: Uint8Array): Promise<void> {
    const p = Buffer.alloc(80);
    p.writeBigUInt64BE(handle, 0);
    p.writeBigUInt64BE(seq, 8);
    Buffer.from(entry.buffer, entry.byteOffset + 8, 64).copy(p, 16);
    return this.expectOk(RelayCommand.SEND_INDEX, p);
  }

  closeStream(handle: bigint, lastSeq: bigint): Promise<void> {
    const p = Buffer.alloc(16);
    p.writeBigUInt64BE(handle, 0);
    p.writeBigUInt64BE(lastSeq, 8);
    return this.expectOk(RelayCommand.CLOSE_STREAM, p);
  }

  /** DATA_PENDING: is anything up to `lastSeq` not yet written by the relay? */
  async dataPending(handle: bigint, lastSeq: bigint): Promise<boolean> {
    const p = Buffer.alloc(16);
    p.writeBigUInt64BE(handle, 0);
    p.writeBigUInt64BE(lastSeq, 8);
    return (await this.command(RelayCommand.DATA_PENDING, p, 4)).readUInt32BE(0) !== 0;
  }

  /**
   * Ends both connections (the relay then closes the session's streams once their data is in). The sockets'
   * closing after this is our doing, not the relay going away: gone listeners are not told (a destroyed
   * session's consumer reported "the relay closed the data connection" as lost trace data when the relay's
   * end of the connection came back before the session daemon read the consumer's errors).
   */
  close(): void {
    this.goneListeners.length = 0;
    this.failure ??= new LttError('RELAY_CLOSED', 'the connection to the relay was closed');
    this.data.end();
    this.control.end();
  }

  /**
   * `op` (commands on this client) given up after `ms` without its answers: the connections are cut with
   * RELAY_TIMEOUT. A relay that accepts and never answers (stopped, or not a relay) must not hold a start, a
   * snapshot or a destroy for good; the handshakes run under it.
   */
  async within<T>(ms: number, op: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        op(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const e = new LttError('RELAY_TIMEOUT', `no answer within ${ms / 1000} s`);
            this.control.destroy(e);
            this.data.destroy(e);
            reject(e);
          }, ms);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Both connections cut at once, as when the peer dies. */
  destroy(): void {
    this.data.destroy();
    this.control.destroy();
  }
}

/** Why a relay connection failed, in a few words: a system error's code (ECONNREFUSED), else the message. */
export function relayFailure(error: unknown): string {
  if (error instanceof LttError) return error.message;
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message ?? String(error);
}

function peekU32(q: ByteQueue, at: number): number {
  return q.peek(at + 4).readUInt32BE(at);
}
