// Packets written with O_DIRECT: straight from the packet buffer to the disk, without a copy into the page cache.
//
// Why: the copy into freshly allocated page-cache pages is the biggest single cost of the kernel consumer's
// thread (measured here: 0.2-0.55 s of system time for the 240 MB a 12 M-event run writes, against 0.02 s
// with O_DIRECT; on this VM every new page is also a hypervisor fault). lttng-consumerd avoids the copy with
// splice(2), which Node does not have; O_DIRECT is the copy-free path Node does have.
// What it needs: the buffer, the file offset and the length aligned to the device's logical block size. Packet
// sizes are multiples of the page size, so offsets are too; buffers come from allocateAligned(), page-aligned
// memory (a WebAssembly.Memory is mapped on a page boundary; Node's own buffers are not aligned).
// The file sink falls back to ordinary writes when a file system refuses O_DIRECT, when a packet is not aligned,
// and when the disk is slower than the page cache would be (see DirectWriteMonitor). A writer that cannot afford
// to wait for the device (its ring would fill before a direct write returns: write()'s `budgetMs`) writes through
// the page cache: a direct write sleeps until the device has the data, and on a shared machine the thread then
// also waits for a CPU again; the device's latency spikes and that wait, not its throughput, fill the ring.

import * as fs from 'node:fs';

const ALIGN = 4096;
const WASM_PAGE = 65536;
/** Memory handed out per WebAssembly.Memory: untouched pages cost no RAM, each memory reserves address space. */
const CHUNK_BYTES = 64 << 20;

/** The one WebAssembly API used here (the project's TypeScript libs do not declare WebAssembly). */
const WasmMemory = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum: number; shared?: boolean }) => { buffer: ArrayBuffer } } }).WebAssembly.Memory;

/** The ArrayBuffers allocateAligned() carves from: only views of these are known to be aligned. */
const arenas = new WeakSet<ArrayBuffer>();
let chunk: { buffer: ArrayBuffer; used: number } | undefined;
/** Cleared by a failed reservation, not retried: each can cost a full garbage collection. */
let memoryWorks = true;
let sharedMemoryWorks = true;

/** Whether this process may use O_DIRECT at all (LTT_DIRECT_IO=0 turns it off). */
export const directIoEnabled = process.env.LTT_DIRECT_IO !== '0' && typeof fs.constants.O_DIRECT === 'number';

/**
 * `size` zeroed bytes starting on a page boundary (plain Buffer.alloc if no aligned memory can be had). Carved
 * from 64 MiB memories, never handed out twice: a memory goes when the last buffer carved from it does.
 */
export function allocateAligned(size: number): Buffer {
  const need = Math.ceil(size / ALIGN) * ALIGN;
  if (!directIoEnabled || !memoryWorks) return Buffer.alloc(size);
  try {
    if (chunk === undefined || chunk.used + need > chunk.buffer.byteLength) {
      const pages = Math.ceil(Math.max(CHUNK_BYTES, need) / WASM_PAGE);
      const buffer = new WasmMemory({ initial: pages, maximum: pages }).buffer;
      arenas.add(buffer);
      chunk = { buffer, used: 0 };
    }
    const out = Buffer.from(chunk.buffer, chunk.used, size);
    chunk.used += need;
    return out;
  } catch {
    // No address space for another memory: an unaligned buffer, written through the page cache.
    memoryWorks = false;
    return Buffer.alloc(size);
  }
}

/**
 * Page-aligned memory shared between threads (a shared WebAssembly.Memory's buffer is a SharedArrayBuffer):
 * ltt/ust's rings, whose sub-buffers are written out as they are. `aligned` is false when only an ordinary
 * SharedArrayBuffer could be had (no address space left for another memory). The buffer may be longer than asked.
 */
export function allocateSharedAligned(size: number): { buffer: SharedArrayBuffer; aligned: boolean } {
  if (directIoEnabled && sharedMemoryWorks) {
    try {
      const pages = Math.ceil(size / WASM_PAGE);
      const buffer = new WasmMemory({ initial: pages, maximum: pages, shared: true }).buffer as unknown as SharedArrayBuffer;
      return { buffer, aligned: true };
    } catch {
      sharedMemoryWorks = false;
    }
  }
  return { buffer: new SharedArrayBuffer(size), aligned: false };
}

/** Whether `view` may be written with O_DIRECT at file offset `pos` (`aligned`: its memory is known page-aligned). */
export function directWritable(view: Uint8Array, pos: number, aligned = arenas.has(view.buffer as ArrayBuffer)): boolean {
  return aligned && view.byteOffset % ALIGN === 0 && view.byteLength % ALIGN === 0 && pos % ALIGN === 0;
}

/** The errno code of an fs error, or of the fs error an LttError wraps. */
function errnoOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } };
  if (typeof e?.cause?.code === 'string') return e.cause.code;
  return typeof e?.code === 'string' ? e.code : undefined;
}

/**
 * A data file written at explicit offsets: with O_DIRECT while it can, through the page cache for good after
 * an unaligned write, an EINVAL, or a disk too slow (DirectWriteMonitor). `writeAll(fd, bytes, pos)` is the
 * caller's own positional write (its error handling stays its own).
 */
/** Per write, how much of the slowest recent direct write's time is still expected of the next one. */
const DIRECT_MS_DECAY = 0.8;

export class DirectFile {
  private readonly monitor = new DirectWriteMonitor();
  /** The same file opened through the page cache, once a write could not wait for the device (`budgetMs`). */
  private buffered = -1;
  /** How long direct writes take lately (ms, wall): the slowest recent one, decaying with each write. */
  private directMs = 0;

  private constructor(
    public fd: number,
    private direct: boolean,
    private readonly reopenBuffered: () => number,
  ) {}

  /**
   * `open(direct)` creates or empties the file (with O_DIRECT when asked); `reopenBuffered()` opens it again,
   * unchanged, without. O_DIRECT is asked for when `want` holds and dropped if the file system refuses it.
   */
  static open(want: boolean, open: (direct: boolean) => number, reopenBuffered: () => number): DirectFile {
    if (want && directIoEnabled) {
      try {
        return new DirectFile(open(true), true, reopenBuffered);
      } catch (err) {
        if (errnoOf(err) !== 'EINVAL') throw err;
      }
    }
    return new DirectFile(open(false), false, reopenBuffered);
  }

  /** Still writing directly (a stream's next file asks for O_DIRECT only if this one kept it). */
  get isDirect(): boolean {
    return this.direct;
  }

  /**
   * `aligned`: whether `bytes` lies in page-aligned memory (default: memory from allocateAligned()).
   * `budgetMs`: how long the caller can wait before its ring buffer fills; when recent direct writes took
   * longer, this one goes through the page cache, which takes it at memory speed.
   */
  write(bytes: Uint8Array, pos: number, writeAll: (fd: number, bytes: Uint8Array, pos: number) => void, aligned?: boolean, budgetMs = Infinity): void {
    if (this.direct && !directWritable(bytes, pos, aligned)) this.leaveDirect();
    if (!this.direct) {
      writeAll(this.fd, bytes, pos);
      return;
    }
    this.directMs *= DIRECT_MS_DECAY;
    if (this.directMs > budgetMs) {
      if (this.buffered < 0) this.buffered = this.reopenBuffered();
      writeAll(this.buffered, bytes, pos);
      return;
    }
    const t0 = performance.now();
    try {
      writeAll(this.fd, bytes, pos);
    } catch (err) {
      // A device or file system with stricter alignment than ours: write it again through the page cache.
      if (errnoOf(err) !== 'EINVAL') throw err;
      this.leaveDirect();
      writeAll(this.fd, bytes, pos);
      return;
    }
    const ms = performance.now() - t0;
    this.directMs = Math.max(this.directMs, ms);
    if (!this.monitor.record(bytes.byteLength, ms)) this.leaveDirect();
  }

  private leaveDirect(): void {
    const fd = this.buffered >= 0 ? this.buffered : this.reopenBuffered();
    this.buffered = -1;
    fs.closeSync(this.fd);
    this.fd = fd;
    this.direct = false;
  }

  close(): void {
    if (this.buffered >= 0) fs.closeSync(this.buffered);
    this.buffered = -1;
    fs.closeSync(this.fd);
  }
}

/**
 * Direct writes block until the device has the data; the page cache would absorb a burst instead. The time
 * spent in direct writes is summed over windows of WINDOW_MS: a stream whose windows run below
 * MIN_BYTES_PER_MS (a slow or network disk: the consumer would fall behind its ring buffer) SLOW_WINDOWS times
 * in a row goes back to the page cache for good. Windows, not single writes: small packets (4 KiB sub-buffers)
 * each take little time even on a slow disk.
 */
const MIN_BYTES_PER_MS = 100_000; // 100 MB/s
const WINDOW_MS = 20;
const SLOW_WINDOWS = 2;

export class DirectWriteMonitor {
  private bytes = 0;
  private ms = 0;
  private slow = 0;

  /** Records one direct write; returns false when the stream should stop writing directly. */
  record(bytes: number, ms: number): boolean {
    this.bytes += bytes;
    this.ms += ms;
    if (this.ms < WINDOW_MS) return true;
    if (this.bytes / this.ms < MIN_BYTES_PER_MS) this.slow++;
    else this.slow = 0;
    this.bytes = 0;
    this.ms = 0;
    return this.slow < SLOW_WINDOWS;
  }
}
