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
// file system refuses O_DIRECT, when a packet is not aligned, and when the direct writes fall behind the writer
// (see DirectFile).

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
let chunk: { buffer: ArrayBuffer; used: number; touched: number } | undefined;
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

function newChunk(need: number): { buffer: ArrayBuffer; used: number; touched: number } {
  const pages = Math.ceil(Math.max(CHUNK_BYTES, need) / WASM_PAGE);
  const buffer = new WasmMemory({ initial: pages, maximum: pages }).buffer;
  arenas.add(buffer);
  return (chunk = { buffer, used: 0, touched: 0 });
}

/**
 * Makes the first memory allocateAligned() carves from, if none is made yet, and touches the next `touch`
 * bytes it will hand out: a writer about to write directly calls it while nothing waits for it (a file sink
 * being created), since making one took 33 ms at an ltt/ust consumer's first packet (measured under load), and
 * the first touch of each page of staging memory 3-8 ms per MiB, while its thread's ring filled.
 */
export function reserveAligned(touch = 0): void {
  if (!directIoEnabled || !memoryWorks) return;
  try {
    const c = chunk ?? newChunk(0);
    const from = Math.max(c.used, c.touched);
    const to = Math.min(c.buffer.byteLength, c.used + touch);
    if (to > from) new Uint8Array(c.buffer, from, to - from).fill(0);
    c.touched = Math.max(c.touched, to);
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
 * Staged bytes that show the device (or the thread pool's turn at the CPU) is not keeping up with the writer:
 * the file leaves O_DIRECT as soon as the write under way is back, before staging is full and the writer waits.
 */
const BEHIND_BYTES = MAX_STAGED_BYTES / 2;
/** One thread-pool write takes the packets staged, up to this much: it bounds how long leaving O_DIRECT waits. */
const MAX_BATCH_BYTES = 2 << 20;
/**
 * How long a file that fell behind stays in the page cache before it tries O_DIRECT again: a latency spike of
 * the device (10-90 ms here) must not cost the page-cache copy for the rest of the trace.
 */
const RETRY_DIRECT_MS = 2000;

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
 * and written by libuv's thread pool, one writev at a time in file order (the packets staged meanwhile go
 * together in the next), while the caller goes on with its ring. A
 * direct write sleeps until the device has the data, and on a shared VM that sometimes takes 10-90 ms
 * (measured here: 0.5-1 ms typically), which a synchronous writer cannot afford: its ring (4 MiB) fills
 * meanwhile and events are lost. On ext4 an appending direct write holds the inode lock until the device
 * answers, so page-cache writes to the same file would wait just as long: staging is the one way around.
 * Direct writes that fall behind the writer (BEHIND_BYTES staged: a slow device, or a pool thread that waits
 * for a CPU, which is nice 0 while ltt/ust's consumer is nice -10) send the file to the page cache for good, as
 * soon as the write under way is back, with what is staged: no page-cache write waits for the inode lock; the
 * file tries O_DIRECT again RETRY_DIRECT_MS later. Only when MAX_STAGED_BYTES wait does append() wait for the
 * device (then, and only then, the caller's ring fills).
 * Each packet's outcome comes through its WriteOutcome, in file order: `done` once it is in the file (where
 * the caller writes its index entry), or `failed`; a failure cuts the file back to that packet and fails every
 * packet staged after it, so the file never holds a hole, and the next packet goes where the failed one was to
 * go. Through the page cache for good (a file system that refuses O_DIRECT, unaligned sizes) every write is
 * synchronous; behind (until O_DIRECT is tried again) packets are staged and written by the thread pool still.
 */
export class DirectFile {
  /** The packets the thread pool is writing (one writev), then those staged behind them, in file order. */
  private inflight: PendingWrite[] | undefined;
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
  private closed = false;
  /** Staging grew past BEHIND_BYTES: the page cache from when the write under way is back. */
  private leaving = false;
  /** When a file that fell behind (in the page cache since) tries O_DIRECT again; Infinity: never. */
  private retryDirectAt = Infinity;
  /** Where the next packet goes: the bytes written and staged. */
  private end = 0;
  /** The packets settle() is writing again while their thread-pool write is still out. */
  private redoing: PendingWrite[] | undefined;
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
    private readonly reopen: (direct: boolean) => number,
    private readonly writeAll: (fd: number, bytes: Uint8Array, pos: number) => void,
  ) {}

  /**
   * `open(direct)` creates or empties the file (with O_DIRECT when asked); `reopen(direct)` opens it again,
   * unchanged (to leave O_DIRECT, and to go back to it). O_DIRECT is asked for when `want` holds and dropped if the file system refuses it.
   * `writeAll(fd, bytes, pos)` is the caller's own synchronous positional write (its errors are its own).
   */
  static open(want: boolean, open: (direct: boolean) => number, reopen: (direct: boolean) => number, writeAll: (fd: number, bytes: Uint8Array, pos: number) => void): DirectFile {
    if (want && directIoEnabled) {
      try {
        return new DirectFile(open(true), true, reopen, writeAll);
      } catch (err) {
        if (errnoOf(err) !== 'EINVAL') throw err;
      }
    }
    return new DirectFile(open(false), false, reopen, writeAll);
  }

  /** Writing directly, or for a while in the page cache (a stream's next file asks for O_DIRECT only then). */
  get isDirect(): boolean {
    return this.direct || this.retryDirectAt < Infinity;
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
    if (this.retryDirectAt < Infinity && this.inflight === undefined && this.end % ALIGN === 0 && performance.now() >= this.retryDirectAt) this.backToDirect();
    if (this.direct && (this.end % ALIGN !== 0 || size % ALIGN !== 0)) this.leaveDirect();
    if (this.direct && this.queue.length > 0 && this.staged + size > BEHIND_BYTES) this.leaving = true;
    // Staging is full: the writer waits for the write under way (and the file goes on through the page cache).
    if (this.queue.length > 0 && this.staged + size > MAX_STAGED_BYTES) {
      if (this.direct) this.leaveDirect(true);
      else void this.settle();
    }
    const pos = this.end;
    this.end += size;
    // Behind (in the page cache for a while), packets are still staged and written by the thread pool: the
    // page-cache copy into fresh pages (77 ms for 8 MiB measured here under load) must not stall the writer either.
    if (!this.direct && this.retryDirectAt === Infinity) {
      // The caller's own buffer: written, never kept as a staging buffer.
      this.writeNow({ buf: bytes, size, pos, outcome }, false);
      return;
    }
    const item: PendingWrite = { buf: this.stage(bytes, size), size, pos, outcome };
    if (this.direct && item.buf.byteOffset % ALIGN !== 0) {
      // No aligned memory to be had: this file goes through the page cache from now on.
      this.leaveDirect();
      this.writeNow(item);
    } else {
      this.queue.push(item);
      this.staged += size;
      if (this.inflight === undefined) this.startQueued();
    }
  }

  /**
   * Writes every packet appended so far (or fails it) before returning: before a stop, a close, a rotation.
   * The promise resolves once no thread-pool write is out either (a caller that can wait: nothing then
   * touches the file behind its back).
   */
  settle(): Promise<void> {
    const batch = this.inflight;
    this.inflight = undefined;
    // Its thread-pool write may still be running: the same bytes go again, synchronously (the kernel orders the
    // two writes of one file: ext4 and tmpfs by the inode lock), so that they are surely there when this returns.
    if (batch !== undefined) {
      this.redoing = batch;
      for (let k = 0; k < batch.length; k++) {
        this.writeNow(batch[k]!, false);
        if (this.blocked === undefined) continue;
        for (const rest of batch.slice(k + 1)) rest.outcome.failed(this.blocked.err);
        break;
      }
      this.redoing = undefined;
    }
    for (let q = this.queue.shift(); q !== undefined; q = this.queue.shift()) {
      this.staged -= q.size;
      this.writeNow(q);
    }
    return this.outstanding === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Makes `count` staging buffers of `size` bytes ready for the spare list, touched by the thread pool (a read
   * of /dev/zero into them): the first touch of fresh memory, not the copy, is what staging costs (measured
   * here: 3-8 ms per MiB against 0.07 ms once touched), and it must not fall on the writer while its ring fills.
   */
  warm(size: number, count: number): void {
    if (!this.direct || size % ALIGN !== 0) return;
    // No more than staging may hold (recycle()'s bound).
    count = Math.min(count, Math.ceil(MAX_STAGED_BYTES / size));
    // Buffers of closed files are touched already.
    for (let buf: Uint8Array | undefined; count > 0 && (buf = takeSharedSpare(size)) !== undefined; count--) {
      this.spare.push(buf);
      this.spareBytes += buf.length;
    }
    if (count <= 0) return;
    let zero: number;
    try {
      zero = fs.openSync('/dev/zero', fs.constants.O_RDONLY);
    } catch {
      return; // Touched on first use instead.
    }
    let left = count;
    for (let k = 0; k < count; k++) {
      const buf = allocateAligned(size);
      fs.read(zero, buf, 0, size, null, (err, n) => {
        if (err !== null || n !== size) return void (--left === 0 && fs.close(zero, () => undefined));
        if (this.closed) giveSharedSpare(buf);
        else if (this.direct) {
          this.spare.push(buf);
          this.spareBytes += size;
        }
        if (--left === 0) fs.close(zero, () => undefined);
      });
    }
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

  /** Hands the packets staged (up to MAX_BATCH_BYTES, at least one) to the thread pool as one write. */
  private startQueued(): void {
    const batch: PendingWrite[] = [];
    let bytes = 0;
    for (let q = this.queue[0]; q !== undefined && (bytes === 0 || bytes + q.size <= MAX_BATCH_BYTES); q = this.queue[0]) {
      this.queue.shift();
      this.staged -= q.size;
      bytes += q.size;
      batch.push(q);
    }
    if (batch.length === 0) return;
    this.inflight = batch;
    this.outstanding++;
    const bufs = batch.map((q) => (q.buf.length > q.size ? q.buf.subarray(0, q.size) : q.buf));
    fs.writev(this.fd, bufs, batch[0]!.pos, (err, n) => this.landed(batch, err, n));
  }

  /** A thread-pool write came back. */
  private landed(batch: PendingWrite[], err: NodeJS.ErrnoException | null, n: number): void {
    if (this.blocked !== undefined && batch.includes(this.blocked.item)) {
      // Written again by settle(), which failed: whatever this write put there goes again.
      if (err === null && n > 0) this.truncate(this.blocked.item.pos);
      this.blocked = undefined;
    }
    if (--this.outstanding === 0) {
      for (const fd of this.deferredClose.splice(0)) fs.closeSync(fd);
      if (this.closeLater) fs.closeSync(this.fd);
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
    if (this.inflight !== batch) {
      // settle() wrote them again meanwhile (and told their writers): only their buffers are free now.
      for (const item of batch) {
        if (this.closeLater) giveSharedSpare(item.buf);
        else this.recycle(item);
      }
      return;
    }
    this.inflight = undefined;
    let written = err === null ? n : 0;
    for (let k = 0; k < batch.length; k++) {
      const item = batch[k]!;
      if (written >= item.size) {
        written -= item.size;
        this.finish(item);
        this.recycle(item);
        continue;
      }
      // The packets after it go again after it, from the queue (or fail with it).
      const rest = batch.slice(k + 1);
      this.queue.unshift(...rest);
      for (const q of rest) this.staged += q.size;
      if (err !== null && err.code !== 'EINVAL') this.fail(item, err);
      else {
        // A short write, or a device with stricter alignment than ours (EINVAL): again, synchronously.
        if (err !== null) this.toBuffered();
        this.writeNow(item);
      }
      break;
    }
    // Behind the writer: what is staged goes through the page cache now that no direct write holds the file.
    if (this.leaving && this.direct) this.fallBehind();
    if (this.queue.length === 0) return;
    if (this.direct || this.retryDirectAt < Infinity) this.startQueued();
    else void this.settle();
  }

  /** Writes `item` synchronously (through the page cache, or in a settle), then tells its writer. */
  private writeNow(item: PendingWrite, recycle = true): void {
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
    if (this.redoing?.includes(item)) this.blocked = { item, err };
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

  /**
   * Through the page cache (for good, unless `behind`: direct writes fell behind), what is staged too (written
   * again after the direct write under way, which holds ext4's inode lock until the device has it).
   */
  private leaveDirect(behind = false): void {
    if (!this.direct) return;
    if (behind) this.fallBehind();
    else {
      this.toBuffered();
      this.retryDirectAt = Infinity;
    }
    void this.settle();
  }

  /** Direct writes fell behind the writer: the page cache for RETRY_DIRECT_MS (stays direct if it cannot reopen). */
  private fallBehind(): void {
    this.leaving = false;
    try {
      this.toBuffered();
    } catch {
      return;
    }
    this.retryDirectAt = performance.now() + RETRY_DIRECT_MS;
  }

  /** Tries O_DIRECT again after falling behind (stays in the page cache for good if it cannot reopen). */
  private backToDirect(): void {
    this.retryDirectAt = Infinity;
    let fd: number;
    try {
      fd = this.reopen(true);
    } catch {
      return;
    }
    if (this.outstanding > 0) this.deferredClose.push(this.fd);
    else fs.closeSync(this.fd);
    this.fd = fd;
    this.direct = true;
  }

  /** Switches to the page-cache descriptor of the same file (what is staged still goes, after, through it). */
  private toBuffered(): void {
    const fd = this.reopen(false);
    // A thread-pool write may still use the direct descriptor: it closes when the last one comes back.
    if (this.outstanding > 0) this.deferredClose.push(this.fd);
    else fs.closeSync(this.fd);
    this.fd = fd;
    this.direct = false;
  }

  /** Closes the file (its descriptor once no thread-pool write uses it); the promise: as settle()'s. */
  close(): Promise<void> {
    const idle = this.settle();
    this.closed = true;
    for (const buf of this.spare.splice(0)) giveSharedSpare(buf);
    this.spareBytes = 0;
    if (this.outstanding > 0) this.closeLater = true;
    else fs.closeSync(this.fd);
    return idle;
  }
}
