// Frame codec of the control socket: each frame is a 4-byte big-endian unsigned length followed by that many
// bytes of UTF-8 JSON. The decoder is fed whatever chunks the socket delivers and returns complete frames; it
// never buffers more than `maxFrameBytes` + 4, so a peer announcing a huge length is rejected at once instead of
// being waited for. A JSON error leaves the stream in sync (the length was honest); a length error does not, and
// the caller must drop the connection after answering.

import { ControlError } from './error-codes.js';

/** Requests are small; 1 MiB leaves room for long filter expressions and value lists. */
export const MAX_REQUEST_BYTES = 1 << 20;
/** Responses carry listings (thousands of tracepoints, syscalls); 64 MiB is far above any real one. */
export const MAX_RESPONSE_BYTES = 64 << 20;

export function encodeFrame(body: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(body), 'utf8');
  const out = Buffer.allocUnsafe(4 + json.length);
  out.writeUInt32BE(json.length, 0);
  json.copy(out, 4);
  return out;
}

export type DecodedFrame = { ok: true; body: unknown } | { ok: false; error: ControlError; fatal: boolean };

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private broken = false;

  constructor(private readonly maxFrameBytes: number) {}

  /** Feeds bytes; returns every frame completed by them. After a fatal result the decoder stays broken. */
  push(chunk: Buffer): DecodedFrame[] {
    if (this.broken) return [];
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: DecodedFrame[] = [];
    while (this.buffered >= 4) {
      const head = this.peek(4);
      const length = head.readUInt32BE(0);
      if (length > this.maxFrameBytes) {
        this.broken = true;
        this.chunks = [];
        this.buffered = 0;
        frames.push({
          ok: false,
          fatal: true,
          error: new ControlError(
            'FRAME_TOO_LARGE',
            `Control message too large: ${length} bytes announced, at most ${this.maxFrameBytes} accepted`,
          ),
        });
        break;
      }
      if (this.buffered < 4 + length) break;
      const frame = this.take(4 + length).subarray(4);
      try {
        frames.push({ ok: true, body: JSON.parse(frame.toString('utf8')) });
      } catch {
        frames.push({
          ok: false,
          fatal: false,
          error: new ControlError('INVALID_PROTOCOL', 'Protocol error occurred: a control message is not valid JSON'),
        });
      }
    }
    return frames;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }
}
