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

export class FileMedium implements Medium {
  readonly size: number;
  private fd: number | undefined;
  private win: Uint8Array = new Uint8Array(0);
  private winStart = 0;
  private spare: Uint8Array | undefined;

  /**
   * @param reuse overwrite the previous window's buffer when it is big enough: only for readers whose
   *   messages never point into the bytes (eager decoding).
   */
  constructor(
    readonly name: string,
    private readonly window = DEFAULT_WINDOW,
    private readonly reuse = false,
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
    const buf: Uint8Array =
      this.reuse && this.spare !== undefined && this.spare.byteLength >= size
        ? this.spare.subarray(0, size)
        : Buffer.allocUnsafeSlow(size);
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
  }
}
