// The import's Parquet files written by a worker thread (parquet-worker.ts): the main thread decodes and
// follows the trace, the worker encodes pages, statistics and footers and writes them, on the other CPU.
// A full column chunk goes over whole: its buffers are transferred (no copy) and the chunk gets others: the
// value buffers the worker has written come back to be filled again (take()), so that the import does not map,
// fault in and free a new buffer per column per chunk.
//
// Contract: `new ParquetWriters()` starts the worker; `open(path, columns)` gives a sink for ColumnAppender
// (column-appender.ts) whose `chunk(cols, n)` sends the first n rows, taking `cols`' buffers (the caller gives
// them others: the old ones are detached; `take(bytes)` gives a value buffer of that size, one the worker sent
// back or a new one, its content stale: rows not written must be NULL), and whose `close()` ends the file. `finish()` resolves once every file is complete on disk and the worker has ended,
// or rejects with the first write error (one line); `terminate()` stops the worker at once (an import that
// failed; its files are then incomplete).

import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { startSiblingWorker } from '../start-worker.js';
import type { Column, ColumnSpec } from './column-chunk.js';
import type { PairPlan } from './syscall-pairs.js';

/** What the main thread sends (parquet-worker.ts reads it). */
export type WriterRequest =
  | { readonly op: 'open'; readonly file: number; readonly path: string; readonly columns: readonly ColumnSpec[]; readonly pairs?: PairPlan }
  | { readonly op: 'chunk'; readonly file: number; readonly n: number; readonly parts: readonly ChunkPart[]; readonly adopts?: readonly number[] }
  | { readonly op: 'close'; readonly file: number }
  | { readonly op: 'end' };

/** One column of a chunk: its value bytes, validity words, and its strings for a varchar column. */
export interface ChunkPart {
  readonly bytes: ArrayBuffer;
  readonly valid: Uint32Array<ArrayBuffer>;
  readonly strings?: (string | undefined)[];
}

/** What the worker answers, once: every file written, or the first error. */
export type WriterReply = { readonly done: true } | { readonly error: string };

/**
 * Shared with the worker (workerData.state): [PENDING] chunks sent and not yet written, [FAILED] 1 once the
 * worker failed. The main thread waits while PENDING_MAX chunks are in flight, so a worker slower than the
 * decoder (a slow disk, a busy machine) holds at most that many chunks, not the trace.
 */
export const PENDING = 0;
export const FAILED = 1;
const PENDING_MAX = 16;
/** How long the main thread waits for a chunk to be written before it gives up on the worker. */
const STALL_MS = 120_000;

/** Value buffers kept per size for take(): as many as the chunks in flight can hold (a chunk has a buffer per
 * column, and chunks of several tables share a size). */
const FREE_MAX = 16 * PENDING_MAX;

export interface ChunkSink {
  chunk(cols: readonly Column[], n: number): void;
  /** A value buffer of `bytes` bytes for the next chunk (stale content). */
  take(bytes: number): ArrayBuffer;
  close(): void;
  /** With a PairPlan: from the current row on, thread `from`'s system calls are thread `to`'s (syscall-pairs.ts). */
  adopt(row: number, from: number, to: number): void;
}

export class ParquetWriters {
  private readonly state = new Int32Array(new SharedArrayBuffer(8));
  /** The worker sends each chunk's value buffers back on port2 once written (read synchronously: the decoder does
   * not yield to the event loop). */
  private readonly back = new MessageChannel();
  private readonly worker = startSiblingWorker(import.meta.url, 'parquet-worker', {
    workerData: { state: this.state, back: this.back.port2 },
    transferList: [this.back.port2],
  });
  private readonly free = new Map<number, ArrayBuffer[]>();
  private files = 0;
  private readonly result: Promise<void>;

  constructor() {
    this.result = new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err?: Error): void => {
        if (settled) return;
        settled = true;
        if (err) reject(err);
        else resolve();
      };
      this.worker.on('message', (m: WriterReply) => settle('error' in m ? new Error(`writing the trace's tables: ${m.error}`) : undefined));
      this.worker.on('error', (e: Error) => settle(new Error(`writing the trace's tables: ${e.message.split('\n')[0]}`)));
      this.worker.on('exit', () => settle(new Error('writing the trace\'s tables: the writer thread ended early')));
    });
    // A failure before finish() is awaited is reported there, not as an unhandled rejection.
    this.result.catch(() => undefined);
  }

  /** A value buffer of `bytes` bytes: one the worker sent back, or a new one. */
  take(bytes: number): ArrayBuffer {
    let list = this.free.get(bytes);
    if (list === undefined || list.length === 0) {
      for (let m = receiveMessageOnPort(this.back.port1); m !== undefined; m = receiveMessageOnPort(this.back.port1)) {
        for (const b of m.message as ArrayBuffer[]) {
          let l = this.free.get(b.byteLength);
          if (l === undefined) this.free.set(b.byteLength, (l = []));
          if (l.length < FREE_MAX) l.push(b);
        }
      }
      list = this.free.get(bytes);
    }
    return list?.pop() ?? new ArrayBuffer(bytes);
  }

  /** `pairs`: the writer thread pairs the system calls of this file's chunks (the events'), whose last column
   * (not written to the file) is the exits' ret (syscall-pairs.ts). */
  open(path: string, columns: readonly ColumnSpec[], pairs?: PairPlan): ChunkSink {
    const file = this.files++;
    const worker = this.worker;
    const state = this.state;
    const take = (bytes: number): ArrayBuffer => this.take(bytes);
    let adopts: number[] = [];
    worker.postMessage({ op: 'open', file, path, columns, pairs } satisfies WriterRequest);
    return {
      chunk(cols, n) {
        // Synchronous on purpose: the decoder runs in one synchronous stretch, so only a wait lets the worker catch up.
        for (let waited = 0; Atomics.load(state, PENDING) >= PENDING_MAX; waited += 1000) {
          if (Atomics.load(state, FAILED) !== 0) break;
          if (waited >= STALL_MS) throw new Error('writing the trace\'s tables: the writer thread stopped answering');
          Atomics.wait(state, PENDING, Atomics.load(state, PENDING), 1000);
        }
        // The worker's own message says why (finish()); the import stops here instead of decoding on.
        if (Atomics.load(state, FAILED) !== 0) throw new Error('writing the trace\'s tables failed');
        Atomics.add(state, PENDING, 1);
        const parts: ChunkPart[] = [];
        const transfer: ArrayBuffer[] = [];
        for (const c of cols) {
          parts.push(c.strings ? { bytes: c.bytes, valid: c.valid, strings: c.strings.slice(0, n) } : { bytes: c.bytes, valid: c.valid });
          transfer.push(c.bytes, c.valid.buffer);
        }
        worker.postMessage({ op: 'chunk', file, n, parts, adopts: adopts.length > 0 ? adopts : undefined } satisfies WriterRequest, transfer);
        if (adopts.length > 0) adopts = [];
      },
      take,
      adopt(row, from, to) {
        adopts.push(row, from, to);
      },
      close() {
        worker.postMessage({ op: 'close', file } satisfies WriterRequest);
      },
    };
  }

  /** Every file closed and written. */
  finish(): Promise<void> {
    this.worker.postMessage({ op: 'end' } satisfies WriterRequest);
    return this.result;
  }

  terminate(): void {
    void this.worker.terminate();
    this.back.port1.close();
    this.free.clear();
  }
}
