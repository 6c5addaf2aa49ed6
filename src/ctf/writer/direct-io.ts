// Packets written with O_DIRECT: straight from the packet buffer to the disk, without a copy into the page cache.
//
// Why: the copy into freshly allocated page-cache pages is the biggest single cost of the kernel consumer's
// thread (measured here: 0.2-0.55 s of system time for the 240 MB a 12 M-event run writes, against 0.02 s
// with O_DIRECT; on this VM every new page is also a hypervisor fault). lttng-consumerd avoids the copy with
// splice(2), which Node does not have; O_DIRECT is the copy-free path Node does have.
// What it needs: the buffer, the file offset and the length aligned to the device's logical block size. Packet
// sizes are multiples of the page size, so offsets are too; buffers come from allocateAligned(), page-aligned
// memory (a WebAssembly.Memory is mapped on a page boundary; Node's own buffers are not aligned).
// Direct writes are written behind the writer's back from staged copies (DirectFile: a device's latency spikes
// must not stall the consumer while its ring fills). The file falls back to ordinary, synchronous writes when a
// file system refuses O_DIRECT, when a packet is not aligned, and when the disk is slower than the page cache
// would be (see DirectWriteMonitor).

import * as fs from 'node:fs';

const ALIGN = 4096;
const ZERO_PAGE = Buffer.alloc(ALIGN);
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

const TMPFS_MAGIC = 0x01021994;

/**
 * Whether files in `dir` should be written with O_DIRECT. Not on tmpfs (/dev/shm, a tmpfs /tmp): it accepts
 * O_DIRECT (Linux >= 6.6) but still copies into the file's memory pages, so a direct write there is the
 * page-cache write plus the staging copy on the writer's thread, into staging memory that is fresh (page
 * faults) whenever writes queue up: measured with ltt/ust at full speed to /dev/shm, 20-35 ms per staged MiB on
 * this loaded VM, longer than a 4 x 1 MiB ring lasts. Written straight from the caller's buffer, it is one copy.
 */
export function directIoPays(dir: string): boolean {
  if (!directIoEnabled) return false;
  try {
    return fs.statfsSync(dir).type !== TMPFS_MAGIC;
  } catch {
    return true;
  }
}

/**
 * `size` zeroed bytes starting on a page boundary (plain Buffer.alloc if no aligned memory can be had). Carved
 * from 64 MiB memories, never handed out twice: a memory goes when the last buffer carved from it does.
 */
/** Aligned bytes handed out so far (fresh memory: a page fault per page on first touch). */
let alignedBytes = 0;

export function alignedBytesAllocated(): number {
  return alignedBytes;
}

export function allocateAligned(size: number): Buffer {
  const need = Math.ceil(size / ALIGN) * ALIGN;
  if (!directIoEnabled || !memoryWorks) return Buffer.alloc(size);
  try {
    const c = chunk === undefined || chunk.used + need > chunk.buffer.byteLength ? newChunk(need) : chunk;
    const out = Buffer.from(c.buffer, c.used, size);
    c.used += need;
    alignedBytes += need;
    return out;
  } catch {
    // No address space for another memory: an unaligned buffer, written through the page cache.
    memoryWorks = false;
    return Buffer.alloc(size);
  }
}

function newChunk(need: number): { buffer: ArrayBuffer; used: number } {
  const pages = Math.ceil(Math.max(CHUNK_BYTES, need) / WASM_PAGE);
  const buffer = new WasmMemory({ initial: pages, maximum: pages }).buffer;
  arenas.add(buffer);
  return (chunk = { buffer, used: 0 });
}

/**
 * Makes the first memory allocateAligned() carves from, if none is made yet: a writer about to write directly
 * calls it while nothing waits for it (a file sink being created), since making one took 33 ms at an ltt/ust
 * consumer's first packet (measured under load), while its thread's ring filled.
 */
export function reserveAligned(): void {
  if (chunk !== undefined || !directIoEnabled || !memoryWorks) return;
  try {
    newChunk(0);
  } catch {
    memoryWorks = false;
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

/** The errno code of an fs error, or of the fs error an LttError wraps. */
function errnoOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } };
  if (typeof e?.cause?.code === 'string') return e.cause.code;
  return typeof e?.code === 'string' ? e.code : undefined;
}

/**
 * What the writer of a packet is told once it is in the file (`done`, with its offset; may throw: then it
 * failed) or not (`failed`).
 */
export interface WriteOutcome {
  done(pos: number): void;
  failed(err: unknown): void;
}

/** A packet on its way to the file: its bytes (a staged, page-aligned copy when written behind), where, whom to tell. */
interface PendingWrite {
  readonly buf: Uint8Array;
  readonly size: number;
  readonly pos: number;
  readonly outcome: WriteOutcome;
}

/**
 * Bytes staged behind the write under way: how long a device stall the writer rides out without waiting (at
 * least this, or two packets): at the kernel bench's 60 MB/s per CPU, 130 ms; twice LTTng's default kernel ring.
 */
const MAX_STAGED_BYTES = 8 << 20;

/**
 * Staging buffers of closed files, for the next files of this process: a session's data file after the first
 * (a tracefile or trace-chunk switch, the next session in the same daemon) stages its packets in memory
 * already touched, instead of taking a page fault per fresh page (on this VM a hypervisor exit each: staging
 * in fresh memory was a third of the replay bench's CPU). Bounded: what goes beyond is released.
 */
const sharedSpare: Uint8Array[] = [];
let sharedSpareBytes = 0;
const MAX_SHARED_SPARE_BYTES = 2 * MAX_STAGED_BYTES;

/** A staging buffer of at least `size` bytes from the shared pool, or undefined. */
function takeSharedSpare(size: number): Uint8Array | undefined {
  for (let i = sharedSpare.length - 1; i >= 0; i--) {
    const buf = sharedSpare[i]!;
    if (buf.length < size) continue;
    sharedSpare.splice(i, 1);
    sharedSpareBytes -= buf.length;
    return buf;
  }
  return undefined;
}

function giveSharedSpare(buf: Uint8Array): void {
  if (sharedSpareBytes + buf.length > MAX_SHARED_SPARE_BYTES || !arenas.has(buf.buffer as ArrayBuffer)) return;
  sharedSpare.push(buf);
  sharedSpareBytes += buf.length;
}

/**
 * A data file appended to packet by packet. Direct (O_DIRECT) writes go behind the writer's back: the packet is
 * copied into a page-aligned staging buffer (a memcpy, far cheaper than the page-cache copy into fresh pages)
 * and written by libuv's thread pool, one at a time in file order, while the caller goes on with its ring. A
 * direct write sleeps until the device has the data, and on a shared VM that sometimes takes 10-90 ms
 * (measured here: 0.5-1 ms typically), which a synchronous writer cannot afford: its ring (4 MiB) fills
 * meanwhile and events are lost. On ext4 an appending direct write holds the inode lock until the device
 * answers, so page-cache writes to the same file would wait just as long: staging is the one way around.
 * When MAX_STAGED_BYTES wait, append() waits for the device (settle()), and a device found slow then
 * (DirectWriteMonitor) sends the file to the page cache for good.
 * Each packet's outcome comes through its WriteOutcome, in file order: `done` once it is in the file (where
 * the caller writes its index entry), or `failed`; a failure cuts the file back to that packet and fails every
 * packet staged after it, so the file never holds a hole, and the next packet goes where the failed one was to
 * go. Through the page cache (a file system that refuses O_DIRECT, unaligned sizes, a slow disk) every write is
 * synchronous.
 */
export class DirectFile {
  private readonly monitor = new DirectWriteMonitor();
  /** The packet the thread pool is writing, then those staged behind it, in file order. */
  private inflight: PendingWrite | undefined;
  private readonly queue: PendingWrite[] = [];
  private staged = 0;
  /**
   * Staging buffers back from the device, for the next packets: as many as can be staged at once. Fresh
   * aligned memory costs a page fault per page on first touch (on this VM a hypervisor exit each): keeping only
   * two made a producer ahead of the disk stage most packets in new memory, 37% of the replay bench's CPU.
   */
  private readonly spare: Uint8Array[] = [];
  private spareBytes = 0;
  /** Thread-pool writes not called back yet (settle() may have written their packet again meanwhile). */
  private outstanding = 0;
  /** Direct descriptors left (page cache from now on) while a thread-pool write still used them. */
  private readonly deferredClose: number[] = [];
  /** close() came while a thread-pool write still used the descriptor: the last callback closes it. */
  private closeLater = false;
  /** A synchronous direct write found the device slow: the page cache once what is staged is out. */
  private slow = false;
  /** Where the next packet goes: the bytes written and staged. */
  private end = 0;
  /** The packet settle() is writing again while its thread-pool write is still out. */
  private redoing: PendingWrite | undefined;
  /**
   * Its second write failed (a full disk): the first may still land, so nothing is appended until it is back
   * (and cut off again): appends fail with `err` meanwhile.
   */
  private blocked: { item: PendingWrite; err: unknown } | undefined;
  /** Resolved when no thread-pool write is out any more (settle()'s promise). */
  private idleWaiters: Array<() => void> = [];

  private constructor(
    public fd: number,
    private direct: boolean,
    private readonly reopenBuffered: () => number,
    private readonly writeAll: (fd: number, bytes: Uint8Array, pos: number) => void,
  ) {}

  /**
   * `open(direct)` creates or empties the file (with O_DIRECT when asked); `reopenBuffered()` opens it again,
   * unchanged, without. O_DIRECT is asked for when `want` holds and dropped if the file system refuses it.
   * `writeAll(fd, bytes, pos)` is the caller's own synchronous positional write (its errors are its own).
   */
  static open(want: boolean, open: (direct: boolean) => number, reopenBuffered: () => number, writeAll: (fd: number, bytes: Uint8Array, pos: number) => void): DirectFile {
    if (want && directIoEnabled) {
      try {
        return new DirectFile(open(true), true, reopenBuffered, writeAll);
      } catch (err) {
        if (errnoOf(err) !== 'EINVAL') throw err;
      }
    }
    return new DirectFile(open(false), false, reopenBuffered, writeAll);
  }

  /** Still writing directly (a stream's next file asks for O_DIRECT only if this one kept it). */
  get isDirect(): boolean {
    return this.direct;
  }

  /** Bytes in the file once every packet appended so far is in. */
  get size(): number {
    return this.end;
  }

  /**
   * Appends `bytes` zero-padded to `size`; `bytes` may be reused as soon as this returns. The outcome comes
   * through `outcome`, now or later (see the class comment), never as an exception.
   */
  append(bytes: Uint8Array, size: number, outcome: WriteOutcome): void {
    if (this.blocked !== undefined) {
      outcome.failed(this.blocked.err);
      return;
    }
    if (this.direct && (this.end % ALIGN !== 0 || size % ALIGN !== 0)) this.leaveDirect();
    if (this.direct && this.queue.length > 0 && this.staged + size > MAX_STAGED_BYTES) {
      this.settle();
      if (this.slow) this.leaveDirect();
    }
    const pos = this.end;
    this.end += size;
    if (!this.direct) {
      // The caller's own buffer: written, never kept as a staging buffer.
      this.writeNow({ buf: bytes, size, pos, outcome }, false);
      return;
    }
    const item: PendingWrite = { buf: this.stage(bytes, size), size, pos, outcome };
    if (item.buf.byteOffset % ALIGN !== 0) {
      // No aligned memory to be had: this file goes through the page cache from now on.
      this.leaveDirect();
      this.writeNow(item);
    } else if (this.inflight === undefined) this.start(item);
    else {
      this.queue.push(item);
      this.staged += size;
    }
  }

  /**
   * Writes every packet appended so far (or fails it) before returning: before a stop, a close, a rotation.
   * The promise resolves once no thread-pool write is out either (a caller that can wait: nothing then
   * touches the file behind its back).
   */
  settle(): Promise<void> {
    const item = this.inflight;
    this.inflight = undefined;
    // Its thread-pool write may still be running: the same bytes go again, synchronously (the kernel orders the
    // two writes of one file: ext4 and tmpfs by the inode lock), so that they are surely there when this returns.
    if (item !== undefined) {
      this.redoing = item;
      this.writeNow(item, false);
      this.redoing = undefined;
    }
    for (let q = this.queue.shift(); q !== undefined; q = this.queue.shift()) {
      this.staged -= q.size;
      this.writeNow(q);
    }
    return this.outstanding === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private stage(bytes: Uint8Array, size: number): Uint8Array {
    let buf = this.spare.pop();
    if (buf !== undefined) this.spareBytes -= buf.length;
    if (buf === undefined || buf.length < size) buf = takeSharedSpare(size) ?? allocateAligned(size);
    buf.set(bytes);
    buf.fill(0, bytes.length, size);
    return buf;
  }

  private recycle(item: PendingWrite): void {
    const n = item.buf.length;
    if (this.spareBytes + n <= MAX_STAGED_BYTES + 2 * n && arenas.has(item.buf.buffer as ArrayBuffer)) {
      this.spare.push(item.buf);
      this.spareBytes += n;
    }
  }

  private start(item: PendingWrite): void {
    this.inflight = item;
    this.outstanding++;
    fs.write(this.fd, item.buf, 0, item.size, item.pos, (err, n) => this.landed(item, err, n));
  }

  /** A thread-pool write came back. */
  private landed(item: PendingWrite, err: NodeJS.ErrnoException | null, n: number): void {
    if (this.blocked?.item === item) {
      // Written again by settle(), which failed: whatever this write put there goes again.
      if (err === null && n > 0) this.truncate(item.pos);
      this.blocked = undefined;
    }
    if (--this.outstanding === 0) {
      for (const fd of this.deferredClose.splice(0)) fs.closeSync(fd);
      if (this.closeLater) fs.closeSync(this.fd);
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
    if (this.inflight !== item) {
      // settle() wrote it again meanwhile (and told its writer): only its buffer is free now.
      if (this.closeLater) giveSharedSpare(item.buf);
      else this.recycle(item);
      return;
    }
    this.inflight = undefined;
    if (err === null && n === item.size) {
      this.finish(item);
      this.recycle(item);
    } else if (err !== null && err.code !== 'EINVAL') {
      this.fail(item, err);
    } else {
      // A short write, or a device with stricter alignment than ours (EINVAL): again, synchronously.
      if (err !== null) this.toBuffered();
      this.writeNow(item);
    }
    const next = this.queue.shift();
    if (next === undefined) return;
    this.staged -= next.size;
    if (this.direct) this.start(next);
    else {
      this.writeNow(next);
      this.settle();
    }
  }

  /** Writes `item` synchronously (through the page cache, or in a settle), then tells its writer. */
  private writeNow(item: PendingWrite, recycle = true): void {
    const t0 = performance.now();
    try {
      this.writeAll(this.fd, item.buf.length > item.size ? item.buf.subarray(0, item.size) : item.buf, item.pos);
      const pad = item.size - item.buf.length;
      if (pad > 0) this.writeAll(this.fd, pad <= ALIGN ? ZERO_PAGE.subarray(0, pad) : Buffer.alloc(pad), item.pos + item.buf.length);
    } catch (err) {
      if (errnoOf(err) === 'EINVAL' && this.direct) {
        // A device or file system with stricter alignment than ours: through the page cache.
        this.toBuffered();
        this.writeNow(item, recycle);
        return;
      }
      this.fail(item, err);
      return;
    }
    if (this.direct && !this.monitor.record(item.size, performance.now() - t0)) this.slow = true;
    this.finish(item);
    if (recycle) this.recycle(item);
  }

  private finish(item: PendingWrite): void {
    try {
      item.outcome.done(item.pos);
    } catch (err) {
      this.fail(item, err);
    }
  }

  /** `item` is not in the file: cut the file back to it; the packets staged after it fail with it. */
  private fail(item: PendingWrite, err: unknown): void {
    this.truncate(item.pos);
    if (item === this.redoing) this.blocked = { item, err };
    this.end = item.pos;
    item.outcome.failed(err);
    this.staged = 0;
    for (const q of this.queue.splice(0)) q.outcome.failed(err);
  }

  private truncate(size: number): void {
    try {
      fs.ftruncateSync(this.fd, size);
    } catch {
      // Shrinking cannot need space; the writer's index still lists only whole packets.
    }
  }

  /** Through the page cache for good, after what is staged. */
  private leaveDirect(): void {
    if (!this.direct) return;
    this.settle();
    this.toBuffered();
  }

  /** Switches to the page-cache descriptor of the same file (what is staged still goes, after, through it). */
  private toBuffered(): void {
    const fd = this.reopenBuffered();
    // A thread-pool write may still use the direct descriptor: it closes when the last one comes back.
    if (this.outstanding > 0) this.deferredClose.push(this.fd);
    else fs.closeSync(this.fd);
    this.fd = fd;
    this.direct = false;
  }

  /** Closes the file (its descriptor once no thread-pool write uses it); the promise: as settle()'s. */
  close(): Promise<void> {
    const idle = this.settle();
    for (const buf of this.spare.splice(0)) giveSharedSpare(buf);
    this.spareBytes = 0;
    if (this.outstanding > 0) this.closeLater = true;
    else fs.closeSync(this.fd);
    return idle;
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
