// One connection on the control port: a session daemon's or a consumer's commands (relay-protocol.ts), answered
// as lttng-relayd 2.13 answers them (src/bin/lttng-relayd/main.c). A malformed frame, a command out of order
// or an unknown command ends the connection (after the error reply lttng-relayd sends, if any); the relay
// itself never stops for a peer. Ending the connection closes its session (streams close once their data is in).

import type { Socket } from 'node:net';
import { isLttError } from '../errors.js';
import { ByteQueue } from './byte-queue.js';
import {
  ADD_STREAM_2_11_SIZE,
  ChunkCloseCommand,
  CLOSE_TRACE_CHUNK_SIZE,
  CONFIG_FLAG_CLEAR_ALLOWED,
  CONTROL_HEADER_SIZE,
  CREATE_SESSION_2_11_SIZE,
  CREATE_TRACE_CHUNK_SIZE,
  HOST_NAME_MAX,
  LTTNG_ERR_FATAL,
  LTTNG_ERR_FILE_CREATION_ERROR,
  LTTNG_ERR_INVALID,
  LTTNG_ERR_INVALID_PROTOCOL,
  LTTNG_ERR_NOMEM,
  LTTNG_ERR_UNK,
  LTTNG_OK,
  MAX_CONTROL_PAYLOAD,
  MIN_PEER_MINOR,
  NAME_MAX,
  PATH_MAX,
  RELAY_INDEX_SIZE,
  RELAY_MAJOR,
  RELAY_MINOR,
  RelayCommand,
  STREAM_NAME_MAX,
  readSeq,
  u32Reply,
} from './relay-protocol.js';
import { peerString, type RelaySession, type RelayState } from './relay-sessions.js';
import type { RelayStream } from './relay-stream.js';
import { ARCHIVES, TMP_NEW_CHUNK, TMP_OLD_CHUNK, TraceChunk } from './trace-chunk.js';

/** Zero padding a peer may ask for after one metadata or data payload. */
export const MAX_PADDING = 64 << 20;

/** Ends the connection; `reply` is sent first when lttng-relayd sends one. */
class Drop extends Error {
  constructor(
    message: string,
    readonly reply?: Buffer,
  ) {
    super(message);
  }
}

export class ControlConnection {
  private readonly queue = new ByteQueue();
  private header: { cmd: number; size: number } | undefined;
  private minor = 0;
  private versionDone = false;
  private session: RelaySession | undefined;
  private dropped = false;

  constructor(
    private readonly socket: Socket,
    private readonly state: RelayState,
    private readonly peer: string,
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => this.session?.close());
    socket.on('error', () => undefined);
  }

  private receive(chunk: Buffer): void {
    if (this.dropped) return;
    this.queue.push(chunk);
    try {
      for (;;) {
        if (this.header === undefined) {
          if (this.queue.length < CONTROL_HEADER_SIZE) return;
          const h = this.queue.take(CONTROL_HEADER_SIZE);
          const size = h.readBigUInt64BE(8);
          if (size > BigInt(MAX_CONTROL_PAYLOAD)) throw new Drop(`command payload of ${size} bytes (at most ${MAX_CONTROL_PAYLOAD})`);
          this.header = { cmd: h.readUInt32BE(16), size: Number(size) };
        }
        if (this.queue.length < this.header.size) return;
        const { cmd, size } = this.header;
        this.header = undefined;
        const reply = this.command(cmd, this.queue.take(size));
        if (reply !== undefined) this.socket.write(reply);
      }
    } catch (error) {
      const reason = error instanceof Drop || isLttError(error) ? error.message : `internal error: ${(error as Error).message}`;
      this.state.options.log(`control connection from ${this.peer} closed: ${reason}`);
      this.dropped = true;
      this.socket.end(error instanceof Drop && error.reply !== undefined ? error.reply : Buffer.alloc(0), () => this.socket.destroy());
    }
  }

  private command(cmd: number, p: Buffer): Buffer | undefined {
    if (cmd === RelayCommand.VERSION) return this.version(p);
    if (cmd === RelayCommand.GET_CONFIGURATION) return this.configuration(p);
    if (!this.versionDone) throw new Drop(`command ${cmd} before the version check`);
    if (cmd === RelayCommand.CREATE_SESSION) return this.createSession(p);
    const session = this.session;
    if (session === undefined) {
      if (isKnown(cmd)) throw new Drop(`command ${cmd} before CREATE_SESSION`);
      throw new Drop(`unknown command ${cmd}`, u32Reply(LTTNG_ERR_UNK));
    }
    switch (cmd) {
      case RelayCommand.ADD_STREAM:
        return this.addStream(session, p);
      case RelayCommand.START_DATA:
        return u32Reply(LTTNG_OK);
      case RelayCommand.SEND_METADATA: {
        need(p, 12, 'SEND_METADATA');
        const padding = p.readUInt32BE(8);
        if (padding > MAX_PADDING) throw new Drop(`metadata padding of ${padding} bytes`);
        this.ownStream(session, p.readBigUInt64BE(0), 'SEND_METADATA').appendMetadata(p.subarray(12), padding);
        return undefined;
      }
      case RelayCommand.CLOSE_STREAM: {
        need(p, 16, 'CLOSE_STREAM');
        const stream = this.ownStream(session, p.readBigUInt64BE(0), 'CLOSE_STREAM', u32Reply(LTTNG_ERR_UNK));
        stream.requestClose(readSeq(p, 8));
        return u32Reply(LTTNG_OK);
      }
      case RelayCommand.DATA_PENDING: {
        need(p, 16, 'DATA_PENDING');
        const stream = this.ownStream(session, p.readBigUInt64BE(0), 'DATA_PENDING', u32Reply(-1));
        stream.dataPendingChecked = true;
        return u32Reply(stream.isPending(readSeq(p, 8)) ? 1 : 0);
      }
      case RelayCommand.QUIESCENT_CONTROL: {
        need(p, 8, 'QUIESCENT_CONTROL');
        const stream = this.state.streams.get(Number(p.readBigUInt64BE(0)));
        if (stream !== undefined && stream.owner === session) stream.dataPendingChecked = true;
        return u32Reply(LTTNG_OK);
      }
      case RelayCommand.BEGIN_DATA_PENDING:
      case RelayCommand.END_DATA_PENDING: {
        need(p, 8, 'DATA_PENDING');
        const target = this.state.sessions.get(Number(p.readBigUInt64BE(0)));
        const streams = target !== undefined && target.params.sessiondUuid === session.params.sessiondUuid ? target.streams : [];
        if (cmd === RelayCommand.BEGIN_DATA_PENDING) {
          for (const s of streams) s.dataPendingChecked = false;
          return u32Reply(LTTNG_OK);
        }
        return u32Reply(streams.some((s) => !s.dataPendingChecked && !s.closed) ? 1 : 0);
      }
      case RelayCommand.SEND_INDEX: {
        need(p, RELAY_INDEX_SIZE, 'SEND_INDEX');
        this.ownStream(session, p.readBigUInt64BE(0), 'SEND_INDEX', u32Reply(LTTNG_ERR_UNK)).addIndex(p);
        return u32Reply(LTTNG_OK);
      }
      case RelayCommand.STREAMS_SENT:
        session.publishStreams();
        return u32Reply(LTTNG_OK);
      case RelayCommand.RESET_METADATA: {
        need(p, 16, 'RESET_METADATA');
        const stream = this.ownStream(session, p.readBigUInt64BE(0), 'RESET_METADATA', u32Reply(LTTNG_ERR_UNK));
        if (session.liveTimer !== 0 || !stream.isMetadata) return u32Reply(LTTNG_ERR_UNK);
        stream.resetMetadata();
        return u32Reply(LTTNG_OK);
      }
      case RelayCommand.ROTATE_STREAMS:
        return this.rotateStreams(session, p);
      case RelayCommand.CREATE_TRACE_CHUNK:
        return this.createChunk(session, p);
      case RelayCommand.CLOSE_TRACE_CHUNK:
        return this.closeChunk(session, p);
      case RelayCommand.TRACE_CHUNK_EXISTS: {
        need(p, 8, 'TRACE_CHUNK_EXISTS');
        const exists = this.state.chunksOf(session).get(p.readBigUInt64BE(0))?.exists ?? false;
        return Buffer.concat([u32Reply(LTTNG_OK), Buffer.from([exists ? 1 : 0])]);
      }
      default:
        throw new Drop(`unknown command ${cmd}`, u32Reply(LTTNG_ERR_UNK));
    }
  }

  private version(p: Buffer): Buffer {
    need(p, 8, 'VERSION');
    this.versionDone = true;
    const major = p.readUInt32BE(0);
    this.minor = Math.min(RELAY_MINOR, p.readUInt32BE(4));
    const reply = u32Reply(RELAY_MAJOR, this.minor);
    if (major !== RELAY_MAJOR) throw new Drop(`peer protocol ${major}.x, not ${RELAY_MAJOR}.x`, reply);
    if (this.minor < MIN_PEER_MINOR) throw new Drop(`peer protocol 2.${this.minor}: only LTTng 2.11 and later peers are served`, reply);
    return reply;
  }

  private configuration(p: Buffer): Buffer {
    need(p, 8, 'GET_CONFIGURATION');
    const query = p.readBigUInt64BE(0);
    const reply = Buffer.alloc(12);
    reply.writeUInt32BE(query === 0n ? LTTNG_OK : LTTNG_ERR_INVALID_PROTOCOL, 0);
    reply.writeBigUInt64BE(this.state.options.allowClear ? CONFIG_FLAG_CLEAR_ALLOWED : 0n, 4);
    return reply;
  }

  private createSession(p: Buffer): Buffer {
    const failed = Buffer.alloc(16);
    failed.writeUInt32BE(LTTNG_ERR_FATAL, 8);
    if (this.session !== undefined) throw new Drop('second CREATE_SESSION on one connection', failed);
    if (p.length < CREATE_SESSION_2_11_SIZE) throw new Drop(`CREATE_SESSION of ${p.length} bytes`, failed);
    const nameLen = p.readUInt32BE(0);
    const hostLen = p.readUInt32BE(4);
    const baseLen = p.readUInt32BE(8);
    if (nameLen > NAME_MAX || hostLen > HOST_NAME_MAX || baseLen > PATH_MAX || p.length < CREATE_SESSION_2_11_SIZE + nameLen + hostLen + baseLen) {
      throw new Drop(`CREATE_SESSION names of ${nameLen}, ${hostLen} and ${baseLen} bytes in ${p.length}`, failed);
    }
    const uuid = p.subarray(18, 34);
    if (uuid.every((b) => b === 0)) throw new Drop('CREATE_SESSION with the nil session daemon uuid', failed);
    let at = CREATE_SESSION_2_11_SIZE;
    const field = (len: number): Buffer => p.subarray(at, (at += len));
    let session: RelaySession;
    try {
      const name = peerString('session name', field(nameLen), NAME_MAX);
      const hostname = peerString('hostname', field(hostLen), HOST_NAME_MAX);
      const basePath = baseLen === 0 ? '' : peerString('base path', field(baseLen), PATH_MAX);
      session = this.state.createSession({
        name,
        hostname,
        basePath,
        liveTimer: p.readUInt32BE(12),
        snapshot: p[16] !== 0,
        nameContainsCreationTime: p[17] !== 0,
        sessiondUuid: uuid.toString('hex'),
        sessiondSessionId: p.readBigUInt64BE(34),
        creationTime: Number(p.readBigUInt64BE(42)),
        currentChunkId: p[50] !== 0 ? p.readBigUInt64BE(51) : undefined,
        minor: this.minor,
      });
    } catch (error) {
      if (!isLttError(error)) throw error;
      throw new Drop(`CREATE_SESSION refused: ${error.message}`, failed);
    }
    this.session = session;
    this.state.options.log(`${this.peer}: session ${session.id} "${session.params.name}" of ${session.params.hostname} in ${session.outputPath}`);
    const path = Buffer.from(`${session.outputPath}\0`, 'utf8');
    const reply = Buffer.alloc(16);
    reply.writeBigUInt64BE(BigInt(session.id), 0);
    reply.writeUInt32BE(LTTNG_OK, 8);
    reply.writeUInt32BE(path.length, 12);
    return Buffer.concat([reply, path]);
  }

  private addStream(session: RelaySession, p: Buffer): Buffer {
    const reply = (handle: bigint, code: number): Buffer => {
      const b = Buffer.alloc(12);
      b.writeBigUInt64BE(handle, 0);
      b.writeUInt32BE(code, 8);
      return b;
    };
    const failed = reply(0xffffffffffffffffn, LTTNG_ERR_UNK);
    if (p.length < ADD_STREAM_2_11_SIZE) throw new Drop(`ADD_STREAM of ${p.length} bytes`, failed);
    const chanLen = p.readUInt32BE(0);
    const pathLen = p.readUInt32BE(4);
    if (chanLen > STREAM_NAME_MAX || pathLen > NAME_MAX || p.length < ADD_STREAM_2_11_SIZE + chanLen + pathLen) {
      throw new Drop(`ADD_STREAM names of ${chanLen} and ${pathLen} bytes in ${p.length}`, failed);
    }
    try {
      const channel = peerString('channel name', p.subarray(ADD_STREAM_2_11_SIZE, ADD_STREAM_2_11_SIZE + chanLen), STREAM_NAME_MAX);
      const path = peerString('stream path', p.subarray(ADD_STREAM_2_11_SIZE + chanLen, ADD_STREAM_2_11_SIZE + chanLen + pathLen), NAME_MAX);
      const stream = session.addStream(path, channel, Number(p.readBigUInt64BE(8)), Number(p.readBigUInt64BE(16)));
      return reply(BigInt(stream.handle), LTTNG_OK);
    } catch (error) {
      this.state.options.log(`${this.peer}: ADD_STREAM refused: ${(error as Error).message}`);
      return failed;
    }
  }

  /**
   * ROTATE_STREAMS: u32 count, an optional u64 next chunk id (u8 set flag, then 0, 3 or 7 bytes of padding
   * depending on the peer's build), then `count` (stream, packet seq num) positions. A session daemon rotates
   * every stream to no chunk when it destroys a session: the files are then complete once the stream closes.
   */
  private rotateStreams(session: RelaySession, p: Buffer): Buffer {
    need(p, 13, 'ROTATE_STREAMS');
    const count = p.readUInt32BE(0);
    const header = [13, 16, 20].find((h) => p.length === h + 16 * count);
    if (header === undefined) throw new Drop(`ROTATE_STREAMS of ${p.length} bytes for ${count} streams`);
    let next: TraceChunk | undefined;
    if (p[4] !== 0) {
      const id = p.readBigUInt64BE(header - 8);
      next = this.state.chunksOf(session).get(id);
      if (next === undefined) throw new Drop(`ROTATE_STREAMS to unknown trace chunk ${id}`, u32Reply(LTTNG_ERR_INVALID_PROTOCOL));
    }
    for (let i = 0; i < count; i++) {
      const stream = this.ownStream(session, p.readBigUInt64BE(header + 16 * i), 'ROTATE_STREAMS', u32Reply(LTTNG_ERR_INVALID));
      if (!stream.rotate(next, readSeq(p, header + 16 * i + 8))) {
        throw new Drop(`ROTATE_STREAMS of stream ${stream.handle}, already rotating or closed`, u32Reply(LTTNG_ERR_FILE_CREATION_ERROR));
      }
    }
    return u32Reply(LTTNG_OK);
  }

  /**
   * CREATE_TRACE_CHUNK: u64 id, u64 creation time, u32 override name length, then the name. The current chunk
   * moves to .tmp_old_chunk, the new one starts in .tmp_new_chunk (in the session folder for the first), and
   * takes its place when the old one closes.
   */
  private createChunk(session: RelaySession, p: Buffer): Buffer {
    if (p.length < CREATE_TRACE_CHUNK_SIZE) throw new Drop(`CREATE_TRACE_CHUNK of ${p.length} bytes`);
    const id = p.readBigUInt64BE(0);
    const creationTime = Number(p.readBigUInt64BE(8));
    const nameLen = p.readUInt32BE(16);
    let name: string | undefined;
    if (nameLen > 0) {
      const bytes = p.subarray(CREATE_TRACE_CHUNK_SIZE, CREATE_TRACE_CHUNK_SIZE + nameLen);
      if (bytes.length < nameLen || bytes[nameLen - 1] !== 0) throw new Drop(`CREATE_TRACE_CHUNK name of ${nameLen} bytes, not NUL-terminated in ${p.length}`, u32Reply(LTTNG_ERR_INVALID));
      name = bytes.subarray(0, bytes.indexOf(0)).toString('utf8');
      if (bytes.indexOf(0) !== nameLen - 1) throw new Drop('CREATE_TRACE_CHUNK name with a NUL inside', u32Reply(LTTNG_ERR_INVALID));
    }
    const current = session.currentChunk;
    try {
      if (current !== undefined && !current.nameOverridden) current.renamePath(TMP_OLD_CHUNK);
      const path = current !== undefined ? TMP_NEW_CHUNK : session.hasRotated ? undefined : '';
      const log = this.state.options.log;
      const chunk = this.state.publishChunk(session, id, (onRelease) => new TraceChunk(id, creationTime, path, name, session.dir, onRelease, log));
      if (session.closingChunk !== undefined) throw new Drop('CREATE_TRACE_CHUNK while another chunk waits for its close', u32Reply(LTTNG_ERR_INVALID_PROTOCOL));
      session.setClosingChunk(current);
      session.setCurrentChunk(chunk);
    } catch (error) {
      if (error instanceof Drop) throw error;
      const invalid = isLttError(error) && error.code === 'RELAY_CHUNK';
      throw new Drop(`CREATE_TRACE_CHUNK ${id} refused: ${(error as Error).message}`, u32Reply(invalid ? LTTNG_ERR_INVALID : LTTNG_ERR_UNK));
    }
    return u32Reply(LTTNG_OK);
  }

  /**
   * CLOSE_TRACE_CHUNK: u64 id, u64 close time, optional u32 command. The new chunk takes its final place; the
   * closed one is archived (MOVE_TO_COMPLETED), deleted (DELETE: clear) or left (NO_OPERATION) once its streams
   * are done with it. The reply names where it is (lttng-relayd's path, relative to the output folder).
   */
  private closeChunk(session: RelaySession, p: Buffer): Buffer {
    const reply = (code: number, path = ''): Buffer => {
      const bytes = path === '' ? Buffer.alloc(0) : Buffer.from(`${path}\0`, 'utf8');
      return Buffer.concat([u32Reply(code, bytes.length), bytes]);
    };
    if (p.length < CLOSE_TRACE_CHUNK_SIZE) throw new Drop(`CLOSE_TRACE_CHUNK of ${p.length} bytes`);
    const id = p.readBigUInt64BE(0);
    const closeTime = Number(p.readBigUInt64BE(8));
    const command = p[16] !== 0 ? p.readUInt32BE(17) : undefined;
    const chunk = this.state.chunksOf(session).get(id);
    if (chunk === undefined) throw new Drop(`CLOSE_TRACE_CHUNK of unknown chunk ${id}`, reply(LTTNG_ERR_NOMEM));
    if (command === ChunkCloseCommand.DELETE && !this.state.options.allowClear) {
      throw new Drop('clear asked of a relay started with --disallow-clear', reply(LTTNG_ERR_INVALID_PROTOCOL));
    }
    if (command !== undefined && command > ChunkCloseCommand.DELETE) throw new Drop(`CLOSE_TRACE_CHUNK command ${command}`, reply(LTTNG_ERR_INVALID));
    const closing = session.closingChunk;
    if (closing !== undefined && closing !== chunk) throw new Drop(`CLOSE_TRACE_CHUNK of chunk ${id}, not of the chunk waiting for its close`, reply(LTTNG_ERR_INVALID_PROTOCOL));
    const current = session.currentChunk;
    try {
      if (current !== undefined && current !== chunk && !current.nameOverridden) {
        current.renamePath(command === ChunkCloseCommand.DELETE && !session.hasRotated ? '' : undefined);
      }
      if ((command === undefined || command === ChunkCloseCommand.NO_OPERATION) && !chunk.nameOverridden) {
        chunk.renamePath(session.hasRotated ? undefined : '');
      }
    } catch (error) {
      throw new Drop(`CLOSE_TRACE_CHUNK ${id}: ${(error as Error).message}`, reply(LTTNG_ERR_UNK));
    }
    chunk.setCloseTime(closeTime);
    if (command !== undefined) chunk.closeCommand = command;
    const path = !session.hasRotated && !session.params.snapshot
      ? session.outputPath
      : session.params.snapshot
        ? `${session.outputPath}/${chunk.name}`
        : `${session.outputPath}/${ARCHIVES}/${chunk.name}`;
    if (command === ChunkCloseCommand.MOVE_TO_COMPLETED) session.hasRotated = true;
    if (current === chunk) session.setCurrentChunk(undefined);
    session.setClosingChunk(undefined);
    return reply(LTTNG_OK, path);
  }

  /** A stream of this connection's session (a peer reaches no other session's streams). */
  private ownStream(session: RelaySession, id: bigint, what: string, reply?: Buffer): RelayStream {
    const stream = this.state.streams.get(Number(id));
    if (stream === undefined || stream.owner !== session) throw new Drop(`${what} of unknown stream ${id}`, reply);
    return stream;
  }
}

function need(p: Buffer, size: number, what: string): void {
  if (p.length < size) throw new Drop(`${what} of ${p.length} bytes (at least ${size})`);
}

function isKnown(cmd: number): boolean {
  return cmd >= RelayCommand.ADD_STREAM && cmd <= RelayCommand.GET_CONFIGURATION && cmd !== RelayCommand.UPDATE_SYNC_INFO;
}
