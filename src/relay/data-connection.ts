// One connection on the data port: packets, each a 32-byte header (relay stream handle, net_seq_num, size,
// padding) then its bytes, written to the stream's file as they arrive (no packet is held whole in memory).
// An unknown stream or an oversized frame ends the connection; a connection that ends inside a packet, or on
// an error, aborts the sessions it carried (their streams close with what they received, the cut packet cut
// off), as lttng-relayd aborts them.

import type { Socket } from 'node:net';
import { ByteQueue } from './byte-queue.js';
import { MAX_PADDING } from './control-connection.js';
import { DATA_HEADER_SIZE } from './relay-protocol.js';
import type { RelayState } from './relay-sessions.js';
import type { RelayStream, StreamOwner } from './relay-stream.js';

/** lttng-relayd takes any u32 size; a packet is a sub-buffer, and no channel has sub-buffers this large. */
const MAX_PACKET = 1 << 30;

interface Packet {
  stream: RelayStream;
  left: number;
  padding: number;
}

export class DataConnection {
  private readonly queue = new ByteQueue();
  private packet: Packet | undefined;
  private readonly sessions = new Set<StreamOwner>();
  private failed = false;

  constructor(
    private readonly socket: Socket,
    private readonly state: RelayState,
    private readonly peer: string,
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => {
      if (this.packet !== undefined || this.failed) for (const s of this.sessions) s.abort();
    });
    socket.on('error', () => undefined);
  }

  private receive(chunk: Buffer): void {
    if (this.failed) return;
    this.queue.push(chunk);
    try {
      for (;;) {
        const packet = this.packet;
        if (packet === undefined) {
          if (this.queue.length < DATA_HEADER_SIZE) return;
          this.packet = this.startPacket(this.queue.take(DATA_HEADER_SIZE));
          continue;
        }
        while (packet.left > 0 && this.queue.length > 0) {
          const part = this.queue.takeUpTo(packet.left);
          packet.stream.packetBytes(part);
          packet.left -= part.length;
        }
        if (packet.left > 0) return;
        this.packet = undefined;
        packet.stream.endPacket(packet.padding);
      }
    } catch (error) {
      this.failed = true;
      this.state.options.log(`data connection from ${this.peer} closed: ${(error as Error).message}`);
      this.socket.destroy();
    }
  }

  private startPacket(h: Buffer): Packet {
    const id = Number(h.readBigUInt64BE(8));
    const size = h.readUInt32BE(24);
    const padding = h.readUInt32BE(28);
    const stream = this.state.streams.get(id);
    if (stream === undefined || stream.isMetadata) throw new Error(`packet for unknown stream ${h.readBigUInt64BE(8)}`);
    if (size > MAX_PACKET || padding > MAX_PADDING) throw new Error(`packet of ${size} bytes and ${padding} bytes of padding`);
    this.sessions.add(stream.owner);
    const seq = Number(h.readBigUInt64BE(16));
    stream.beginPacket(seq, size + padding);
    return { stream, left: size, padding };
  }
}
