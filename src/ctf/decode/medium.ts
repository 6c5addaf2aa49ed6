// Where packet bytes come from. The message iterator asks a Medium for byte ranges of one data stream
// file (or, for live, of the relay's stream); files answer synchronously from large read windows.
//
// Contract: `request(offset, length)` returns bytes [offset, offset + length) — fewer only at the end of the
// data — as a Uint8Array that stays valid (never overwritten, since lazy event messages decode their fields
// from it; FileMedium's `reuse` mode, for eager readers only, recycles one buffer). A live medium may return a
// Promise instead. Errors are LttError naming the file.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { LttError } from '../../errors.js';

export interface Medium {
  /** Human-readable origin (absolute file path), used in error messages. */
  readonly name: string;
  /** Total size in bytes when known. */
  readonly size: number | undefined;
  request(offset: number, length: number): Uint8Array | Promise<Uint8Array>;
  close(): void;
}

/** Default read window: big enough to amortise syscalls, small enough to keep memory flat. */
export const DEFAULT_WINDOW = 1024 * 1024;

/**
 * Read windows of lazily decoded streams, handed back once nothing points into them (a fresh buffer per window
 * costs page faults and GC). A window is retired, tagged with the count of messages its stream had returned,
 * when the stream moves to the next one; it is free once the consumer has taken that many messages of the
 * stream and holds none of their bytes (recycle(), called by the muxer at the consumer's word).
 */
export class WindowPool {
  private readonly free: Uint8Array[] = [];
  readonly pending: { buf: Uint8Array; owner: object; tag: number }[] = [];

  take(size: number): Uint8Array | undefined {
    for (let k = this.free.length - 1; k >= 0; k--) {
      const b = this.free[k]!;
      if (b.byteLength >= size) {
        this.free.splice(k, 1);
        return b;
      }
    }
    return undefined;
  }

  retire(buf: Uint8Array, owner: object, tag: number): void {
    this.pending.push({ buf, owner, tag });
  }

  /** Frees the retired windows whose stream has had `taken(owner)` >= tag messages consumed. */
  recycle(taken: (owner: object) => number): void {
    let w = 0;
    for (const p of this.pending) {
      if (taken(p.owner) >= p.tag) {
        if (this.free.length < 4) this.free.push(p.buf);
      } else this.pending[w++] = p;
    }
    this.pending.length = w;
  }
}

/** How a FileMedium gets and gives back its windows when a WindowPool recycles them. */
export interface WindowSource {
  take(size: number): Uint8Array | undefined;
  retire(buf: Uint8Array): void;
}

export class FileMedium implements Medium {
  readonly size: number;
  private fd: number | undefined;
  private win: Uint8Array = new Uint8Array(0);
  private winStart = 0;
  private spare: Uint8Array | undefined;
  /** The whole buffer of the current window (what a WindowSource gets back). */
  private full: Uint8Array | undefined;

  /**
   * @param reuse overwrite the previous window's buffer when it is big enough: only for readers whose
   *   messages never point into the bytes (eager decoding).
   */
  constructor(
    readonly name: string,
    private readonly window = DEFAULT_WINDOW,
    private readonly reuse = false,
    private readonly windows?: WindowSource,
  ) {
    try {
      this.fd = openSync(name, 'r');
      this.size = fstatSync(this.fd).size;
    } catch (err) {
      throw new LttError('CTF_IO', `cannot open stream file ${name}: ${(err as Error).message}`, { cause: err });
    }
  }

  request(offset: number, length: number): Uint8Array {
    const end = Math.min(offset + length, this.size);
    if (end <= offset) return new Uint8Array(0);
    if (offset >= this.winStart && end <= this.winStart + this.win.byteLength) {
      return this.win.subarray(offset - this.winStart, end - this.winStart);
    }
    // A fresh buffer per window (never reused: lazily decoded events may still point into the old one).
    const size = Math.min(Math.max(end - offset, this.window), this.size - offset);
    // allocUnsafeSlow: not zero-filled (read() overwrites it) and not from the shared pool.
    if (this.windows !== undefined && this.full !== undefined) this.windows.retire(this.full);
    const pooled = this.windows?.take(size);
    const buf: Uint8Array =
      pooled !== undefined
        ? pooled.subarray(0, size)
        : this.reuse && this.spare !== undefined && this.spare.byteLength >= size
          ? this.spare.subarray(0, size)
          : Buffer.allocUnsafeSlow(size);
    this.full = pooled ?? buf;
    if (this.reuse && (this.spare === undefined || this.spare.byteLength < size)) this.spare = buf;
    let got = 0;
    try {
      if (this.fd === undefined) this.fd = openSync(this.name, 'r');
      while (got < size) {
        const n = readSync(this.fd, buf, got, size - got, offset + got);
        if (n === 0) break;
        got += n;
      }
    } catch (err) {
      throw new LttError('CTF_IO', `cannot read stream file ${this.name}: ${(err as Error).message}`, { cause: err });
    }
    this.win = got === size ? buf : buf.subarray(0, got);
    this.winStart = offset;
    return this.win.subarray(0, Math.min(end - offset, got));
  }

  close(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
    this.win = new Uint8Array(0);
    this.spare = undefined;
    this.full = undefined;
  }
}
