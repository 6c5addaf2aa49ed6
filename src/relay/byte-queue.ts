// The bytes a relay connection received and has not parsed yet. Peers cut frames anywhere (babeltrace2 sends a
// viewer command's header and payload in one segment, consumers a packet in many), so parsers ask for exact
// sizes and wait when they are not there. Nothing is copied unless a frame spans socket reads.

export class ByteQueue {
  private chunks: Buffer[] = [];
  private head = 0; // bytes of chunks[0] already taken
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** Exactly `n` bytes (n <= length): a view of one socket read when the frame lies in it, a copy otherwise. */
  take(n: number): Buffer {
    const first = this.chunks[0];
    if (n === 0) return Buffer.alloc(0);
    if (first !== undefined && first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.advance(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const part = this.takeUpTo(n - at);
      part.copy(out, at);
      at += part.length;
    }
    return out;
  }

  /** The first `n` bytes (n <= length), left in the queue. */
  peek(n: number): Buffer {
    const first = this.chunks[0];
    if (first !== undefined && first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    return Buffer.concat([first!.subarray(this.head), ...this.chunks.slice(1)]).subarray(0, n);
  }

  /** Up to `n` bytes of the oldest socket read, without copying (for packet bytes written as they come). */
  takeUpTo(n: number): Buffer {
    const first = this.chunks[0]!;
    const out = first.subarray(this.head, this.head + Math.min(n, first.length - this.head));
    this.advance(out.length);
    return out;
  }

  private advance(n: number): void {
    this.head += n;
    this.length -= n;
    if (this.head === this.chunks[0]!.length) {
      this.chunks.shift();
      this.head = 0;
    }
  }
}
