// Packets written with O_DIRECT: straight from the packet buffer to the disk, without a copy into the page cache.
//
// Why: the copy into freshly allocated page-cache pages is the biggest single cost of the kernel consumer's
// thread (measured here: 0.2-0.55 s of system time for the 240 MB a 12 M-event run writes, against 0.02 s
// with O_DIRECT; on this VM every new page is also a hypervisor fault). lttng-consumerd avoids the copy with
// splice(2), which Node does not have; O_DIRECT is the copy-free path Node does have.
// What it needs: the buffer, the file offset and the length aligned to the device's logical block size. Packet
// sizes are multiples of the page size, so offsets are too; buffers come from allocateAligned(), page-aligned
// memory (a WebAssembly.Memory is mapped on a page boundary; Node's own buffers are not aligned).
// Direct writes are written behind the writer's back from staged copies in bounded memory (DirectFile,
// StagingPool: a device's latency spikes must not stall the consumer while its ring fills). The file falls back
// to the page cache, still written behind, when a packet is not aligned and when the direct writes fall behind
// the writer; to ordinary synchronous writes only when the file system refuses O_DIRECT (see DirectFile).

import * as fs from 'node:fs';

const ALIGN = 4096;
const ZERO_PAGE = Buffer.alloc(ALIGN);
const WASM_PAGE = 65536;
/** Memory handed out per WebAssembly.Memory: untouched pages cost no RAM, each memory reserves address space. */
const CHUNK_BYTES = 64 << 20;

/** The one WebAssembly API used here (the project's TypeScript libs do not declare WebAssembly). */
const WasmMemory = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum: number; shared?: boolean }) => { buffer: ArrayBuffer } } }).WebAssembly.Memory;

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
export function allocateAligned(size: number): Buffer {
  const need = Math.ceil(size / ALIGN) * ALIGN;
  if (!directIoEnabled || !memoryWorks) return Buffer.alloc(size);
  try {
    const c = chunk === undefined || chunk.used + need > chunk.buffer.byteLength ? newChunk(need) : chunk;
    const out = Buffer.from(c.buffer, c.used, size);
    c.used += need;
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
  return (chunk = { buffer, used: 0 });
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

/**
 * Staging memory of this thread's files (a process's consumer thread: ltt/ust's consumer or agent worker, the
 * kernel consumer worker): one page-aligned memory of STAGING_BYTES, reserved at the first need and never
 * returned, cut into BLOCK-sized blocks on one free list. Why a hard bound and no more: memory handed back to
 * the garbage collector (a WebAssembly memory dropped) is only freed when it runs, so memory made and dropped
 * as bursts come and go could grow past any bound in between; this one is reserved once and reused. Untouched
 * blocks cost no RAM; the free list is last in, first out, so a thread that stages little touches little beyond
 * what its writer touched ahead (reserveAligned(): BURST_STAGING_BYTES for ltt/ust's local consumer).
 * Why 64 MiB: while a direct write is under way nothing else can go into that file (ext4 holds the inode lock
 * through an appending O_DIRECT write until the device has it; a page-cache write waits behind it), so a burst
 * can go nowhere but here meanwhile. Measured on ext4 throttled to 32 MB/s (test/ust/slow-disk.test.ts): one
 * 1-2 MiB direct write under way for up to 330 ms while one thread at full speed closed a 1 MiB sub-buffer
 * every 1-5 ms, 7-38 MiB staged at the peak over the runs measured (the test itself bounds only the process's
 * peak resident memory).
 */
export const STAGING_BYTES = 64 << 20;
/**
 * Staging ltt/ust's local consumer (src/ust/consumer-worker.ts) touches before its app's rings record (the app
 * waits for it): most of what one thread at full speed closes while a slow disk holds the file (the rest is touched
 * as it is used). The first touch of a page is dear on some VMs (here, with page tables the hypervisor shadows: a
 * 1 MiB copy into fresh memory takes 2.8 ms, into memory touched before 0.05 ms), and a burst staged into fresh
 * blocks made the consumer fault them in while its thread's ring filled. test/ust/slow-disk.test.ts (ext4
 * throttled to 32 MB/s, 30-40 MiB staged at the peak) on such a VM: with the ring's worth touched (4 MiB) it lost
 * 0.1-8% of its events in 4 of 6 runs, with 16 MiB in 2 of 5, with 32 MiB in none of 5. Not the app agent's
 * sessions: it starts them while its app records, and the touch there (~90 ms) made a session start late. Touching
 * ahead on the thread pool (a read of /dev/zero) was tried: a copy into such memory still takes 1.3 ms per MiB here,
 * and the blocks it holds are unusable while a slow device keeps the pool's threads.
 */
export const BURST_STAGING_BYTES = 32 << 20;
/** Staging is handed out in blocks of this size (a packet spans blocks; several small packets share one). */
const BLOCK = 65536;

class StagingPool {
  private blocks: Uint8Array[] | undefined;
  private isAligned = false;
  /** Free block indexes: a stack, lowest (touched first) on top at the start. */
  private readonly free: number[] = [];
  private touched = 0;
  /** 1 for each block handed out (touch() must not zero staged bytes). */
  private inUse = new Uint8Array(STAGING_BYTES / BLOCK);
  /** Most blocks in use at once (for tests). */
  peakUsed = 0;
  private readonly roomWaiters: Array<() => void> = [];

  private init(): Uint8Array[] {
    if (this.blocks !== undefined) return this.blocks;
    const count = STAGING_BYTES / BLOCK;
    let buffer: ArrayBuffer;
    try {
      if (!directIoEnabled) throw new Error('no direct I/O');
      buffer = new WasmMemory({ initial: STAGING_BYTES / WASM_PAGE, maximum: STAGING_BYTES / WASM_PAGE }).buffer;
      this.isAligned = true;
    } catch {
      // No address space for it: plain memory (untouched until used), written through the page cache only.
      buffer = new ArrayBuffer(STAGING_BYTES);
    }
    this.blocks = [];
    for (let k = 0; k < count; k++) this.blocks.push(new Uint8Array(buffer, k * BLOCK, BLOCK));
    for (let k = count - 1; k >= 0; k--) this.free.push(k);
    return this.blocks;
  }

  /** Touches the first `bytes` of the memory now (see reserveAligned()); blocks in use are touched already. */
  touch(bytes: number): void {
    const blocks = this.init();
    const want = Math.min(blocks.length, Math.ceil(bytes / BLOCK));
    for (; this.touched < want; this.touched++) if (!this.inUse[this.touched]) blocks[this.touched]!.fill(0);
  }

  /** Whether the blocks are page-aligned (a WebAssembly memory), so they can be written with O_DIRECT. */
  get aligned(): boolean {
    this.init();
    return this.isAligned;
  }

  get freeBytes(): number {
    this.init();
    return this.free.length * BLOCK;
  }

  get capacity(): number {
    return STAGING_BYTES;
  }

  take(): Uint8Array | undefined {
    const blocks = this.init();
    const k = this.free.pop();
    if (k === undefined) return undefined;
    this.inUse[k] = 1;
    const used = blocks.length - this.free.length;
    if (used > this.peakUsed) this.peakUsed = used;
    return blocks[k]!;
  }

  give(block: Uint8Array): void {
    const k = block.byteOffset / BLOCK;
    this.inUse[k] = 0;
    this.free.push(k);
  }

  /** Calls `cb` once, after blocks were given back (from the I/O callback that freed them). */
  whenRoom(cb: () => void): void {
    this.roomWaiters.push(cb);
  }

  /** Tells the writers waiting for room that some is back. */
  roomBack(): void {
    if (this.roomWaiters.length === 0 || this.free.length === 0) return;
    for (const cb of this.roomWaiters.splice(0)) cb();
  }
}

const staging = new StagingPool();

/**
 * Touches the first `touch` bytes of this thread's staging memory (reserving it first): a writer about to write
 * directly calls it while nothing waits for it (a file sink being created), since the first touch of each page
 * costs 3-8 ms per MiB here, which must not fall on the consumer while its thread's ring fills.
 */
export function reserveAligned(touch = 0): void {
  staging.touch(touch);
}

/** Staging memory of this thread: its bound, what is free now, the most ever in use at once (for tests). */
export function stagingStats(): { capacity: number; free: number; peak: number } {
  return { capacity: staging.capacity, free: staging.freeBytes, peak: staging.peakUsed * BLOCK };
}

/** A packet on its way to the file: where it goes, its size, whom to tell. Its bytes are in the file's staging. */
interface PendingWrite {
  readonly size: number;
  readonly pos: number;
  readonly outcome: WriteOutcome;
}

/**
 * Staged bytes behind the write under way that show the device (or the thread pool's turn at the CPU) is not
 * keeping up with the writer: the next writes go through the page cache (from staging, by the thread pool).
 */
const BEHIND_BYTES = 4 << 20;
/** One direct write takes the packets staged up to this much: it bounds how long the file is held. */
const MAX_DIRECT_BATCH = 2 << 20;
/**
 * One page-cache write takes up to this much: each trip waits for a pool thread to get a CPU, and a burst
 * staged behind a slow direct write must drain faster than a thread at full speed refills it.
 */
const MAX_CACHED_BATCH = 8 << 20;
/**
 * How long a file that fell behind stays in the page cache before it tries O_DIRECT again: a latency spike of
 * the device (10-90 ms here) must not cost the page-cache copy for the rest of the trace.
 */
const RETRY_DIRECT_MS = 2000;

/** How a DirectFile writes its packets. */
type Mode =
  /** O_DIRECT, from staging, by the thread pool. */
  | 'direct'
  /** Fell behind: the page cache, from staging, by the thread pool, until RETRY_DIRECT_MS passed and it caught up. */
  | 'behind'
  /** The page cache for good (sizes O_DIRECT cannot take, a device that refused it), still staged and written behind. */
  | 'cached'
  /** Never direct (asked so, or the file system refused O_DIRECT): synchronous writes from the caller's buffer. */
  | 'sync';

/**
 * A data file appended to packet by packet. Direct (O_DIRECT) files never write on the writer's thread: each
 * packet is copied into staging (this thread's StagingPool: a memcpy into memory touched before, far cheaper
 * than the page-cache copy into fresh pages) and libuv's thread pool writes what is staged, one write at a time
 * in file order (the packets staged meanwhile go together in the next), while the caller goes on with its ring.
 * A direct write sleeps until the device has the data, and on a shared VM that sometimes takes 10-90 ms
 * (measured here: 0.5-1 ms typically; a throttled disk, 330 ms), which a synchronous writer cannot afford: its
 * ring (4 MiB) fills meanwhile and events are lost. On ext4 an appending direct write holds the inode lock
 * until the device answers, so a page-cache write of the writer's own would wait just as long: staging is the
 * one way around. Direct writes that fall behind the writer (BEHIND_BYTES staged) make the next writes go
 * through the page cache (still staged, still by the thread pool, so nothing waits for the lock but a pool
 * thread): the write under way is never written again; the file tries O_DIRECT again RETRY_DIRECT_MS later.
 * Staging is bounded (STAGING_BYTES per thread): hasRoom() says whether a packet fits now and whenRoom() when
 * to ask again, so a writer that can leave packets where they are (ltt/ust's consumer leaves the sub-buffer in
 * its ring, whose thread then discards and counts) never waits; a packet appended without room fails (counted
 * lost by its writer) unless nothing of this file is staged, when it is written at once through the page cache.
 * Each packet's outcome comes through its WriteOutcome, in file order: `done` once it is in the file (where
 * the caller writes its index entry), or `failed`; a failure cuts the file back to that packet and fails every
 * packet staged after it, so the file never holds a hole, and the next packet goes where the failed one was to
 * go. settle() and close() return promises: nothing is written synchronously to wait for the device.
 */
export class DirectFile {
  /** Staged bytes, in file order: the blocks, the offset of the first byte in blocks[0], bytes in all. */
  private readonly blocks: Uint8Array[] = [];
  private head = 0;
  private stagedBytes = 0;
  /** The packets staged (the first `batchCount` are being written), in file order. */
  private readonly packets: PendingWrite[] = [];
  /** Packets in the write under way (0: none is out) and its bytes. */
  private batchCount = 0;
  private writing = false;
  /** Bytes of packets[0] already written (a short write). */
  private written = 0;
  private cachedFd = -1;
  private retryDirectAt = Infinity;
  /**
   * Bytes per ms of the last sizeable write each way (NaN: none yet), the thread pool's wait included: which way
   * drains a backlog faster (a throttled disk: the page cache; a loaded CPU: maybe the device).
   */
  private directRate = NaN;
  private cachedRate = NaN;
  private closed = false;
  private fdsClosed = false;
  /** Where the next packet goes: the bytes written and staged. */
  private end = 0;
  /** Resolved when nothing is staged and no thread-pool write is out (settle()'s promise). */
  private idleWaiters: Array<() => void> = [];

  private constructor(
    /** The descriptor direct writes use (or, mode 'sync', the only one). */
    public fd: number,
    private mode: Mode,
    private readonly writeAll: (fd: number, bytes: Uint8Array, pos: number) => void,
  ) {}

  /**
   * `open(direct)` creates or empties the file (with O_DIRECT when asked). O_DIRECT is asked for when `want`
   * holds and dropped if the file system refuses it. `writeAll(fd, bytes, pos)` is the caller's own synchronous
   * positional write (its errors are its own): used for a file that never writes directly, or with nothing staged.
   */
  static open(want: boolean, open: (direct: boolean) => number, writeAll: (fd: number, bytes: Uint8Array, pos: number) => void): DirectFile {
    if (want && directIoEnabled) {
      try {
        return new DirectFile(open(true), 'direct', writeAll);
      } catch (err) {
        if (errnoOf(err) !== 'EINVAL') throw err;
      }
    }
    return new DirectFile(open(false), 'sync', writeAll);
  }

  /** Writing directly, or for a while in the page cache (a stream's next file asks for O_DIRECT only then). */
  get isDirect(): boolean {
    return this.mode === 'direct' || this.mode === 'behind';
  }

  /** Whether the next write goes with O_DIRECT (not fallen behind, not in the page cache for good). */
  get writingDirectly(): boolean {
    return this.mode === 'direct';
  }

  /** Bytes in the file once every packet appended so far is in. */
  get size(): number {
    return this.end;
  }

  /** Whether a packet of `size` bytes appended now is staged (or written) without failing for want of room. */
  hasRoom(size: number): boolean {
    if (this.mode === 'sync' || this.packets.length === 0) return true;
    return this.tailRoom() + staging.freeBytes >= size;
  }

  /** Calls `cb` once, when staging memory was given back (from the I/O callback that gave it). */
  whenRoom(cb: () => void): void {
    staging.whenRoom(cb);
  }

  /**
   * Appends `bytes` zero-padded to `size`; `bytes` may be reused as soon as this returns. The outcome comes
   * through `outcome`, now or later (see the class comment), never as an exception.
   */
  append(bytes: Uint8Array, size: number, outcome: WriteOutcome): void {
    const pos = this.end;
    if (this.mode === 'sync') {
      this.end += size;
      this.writeNow(bytes, size, pos, outcome);
      return;
    }
    // O_DIRECT needs whole pages (and aligned memory): through the page cache for good otherwise.
    if (this.mode !== 'cached' && (pos % ALIGN !== 0 || size % ALIGN !== 0 || !staging.aligned)) this.mode = 'cached';
    if (this.packets.length === 0) {
      if (this.mode === 'behind' && performance.now() >= this.retryDirectAt) {
        this.mode = 'direct';
        this.retryDirectAt = Infinity;
      }
      if (this.tailRoom() + staging.freeBytes < size) {
        // Nothing of this file is staged, so no write of it is under way: the page cache takes it at once.
        this.end += size;
        let fd: number;
        try {
          fd = this.pageCacheFd();
        } catch (err) {
          this.end = pos;
          outcome.failed(err);
          return;
        }
        this.writeNow(bytes, size, pos, outcome, fd);
        return;
      }
    } else if (this.tailRoom() + staging.freeBytes < size) {
      outcome.failed(new Error(`no staging memory left (${STAGING_BYTES >> 20} MiB staged behind a slow disk)`));
      return;
    }
    this.end += size;
    this.stage(bytes, size);
    this.packets.push({ size, pos, outcome });
    // Behind: the device (or the pool's turn at a CPU) does not keep up; the next writes go to the page cache,
    // unless it was slower still when last tried.
    if (this.mode === 'direct' && this.writing && this.stagedBytes - this.batchBytes() > BEHIND_BYTES && !(this.cachedRate < this.directRate)) {
      this.mode = 'behind';
      this.retryDirectAt = performance.now() + RETRY_DIRECT_MS;
    }
    this.startWrite();
  }

  /** Resolves once every packet appended so far is in the file (or failed) and no thread-pool write is out. */
  settle(): Promise<void> {
    return this.packets.length === 0 && !this.writing ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Touches staging memory for `count` packets of `size` bytes now, while nothing waits (a ring's worth of
   * packets: the first touch of fresh memory, not the copy, is what staging costs).
   */
  warm(size: number, count: number): void {
    if (this.mode === 'direct') staging.touch(size * count);
  }

  /** Closes the file: at once, or once what is staged is written; the promise: as settle()'s. */
  close(): Promise<void> {
    this.closed = true;
    const idle = this.settle();
    if (!this.writing && this.packets.length === 0) this.closeFds();
    return idle;
  }

  private closeFds(): void {
    if (this.fdsClosed) return;
    this.fdsClosed = true;
    fs.closeSync(this.fd);
    if (this.cachedFd >= 0) fs.closeSync(this.cachedFd);
    this.cachedFd = -1;
  }

  /** Free bytes in the last staging block. */
  private tailRoom(): number {
    if (this.blocks.length === 0) return 0;
    const used = (this.head + this.stagedBytes) % BLOCK;
    return used === 0 ? 0 : BLOCK - used;
  }

  /** Copies `bytes` zero-padded to `size` after what is staged (room was checked). */
  private stage(bytes: Uint8Array, size: number): void {
    let done = 0;
    while (done < size) {
      let at = (this.head + this.stagedBytes) % BLOCK;
      if (at === 0 || this.blocks.length === 0) {
        this.blocks.push(staging.take()!);
        at = this.blocks.length === 1 ? (this.head = 0) : 0;
      }
      const block = this.blocks[this.blocks.length - 1]!;
      const n = Math.min(size - done, BLOCK - at);
      const copy = Math.max(0, Math.min(n, bytes.length - done));
      if (copy > 0) block.set(copy === bytes.length && done === 0 ? bytes : bytes.subarray(done, done + copy), at);
      if (copy < n) block.fill(0, at + copy, at + n);
      done += n;
      this.stagedBytes += n;
    }
  }

  private batchBytes(): number {
    let n = -this.written;
    for (let k = 0; k < this.batchCount; k++) n += this.packets[k]!.size;
    return n;
  }

  /**
   * The page-cache descriptor of this file, opened beside the direct one at first need. Opened through the
   * direct descriptor (/proc/self/fd), never by name: a tracefile ring may have unlinked the file meanwhile and
   * made a new one of that name, and packets still staged for this file must land in this file, not that one.
   */
  private pageCacheFd(): number {
    if (this.mode === 'sync') return this.fd;
    if (this.cachedFd < 0) this.cachedFd = fs.openSync(`/proc/self/fd/${this.fd}`, fs.constants.O_WRONLY);
    return this.cachedFd;
  }

  /** Hands what is staged (up to a batch, at least one packet) to the thread pool as one write. */
  private startWrite(): void {
    if (this.writing || this.packets.length === 0) return;
    // Fallen behind, but the page cache turned out slower than the device (its copy is the pool thread's CPU
    // time, scarce on a loaded machine: 45-150 MB/s measured against 130 MB/s direct): back to O_DIRECT.
    if (this.mode === 'behind' && this.cachedRate < this.directRate) this.mode = 'direct';
    const direct = this.mode === 'direct';
    let fd: number;
    try {
      fd = direct ? this.fd : this.pageCacheFd();
    } catch (err) {
      // No page-cache descriptor (EMFILE): what is staged fails, what is in the file already stays.
      this.fail(this.packets[0]!.pos, err);
      this.ifIdle();
      return;
    }
    const most = direct ? MAX_DIRECT_BATCH : MAX_CACHED_BATCH;
    let bytes = this.packets[0]!.size - this.written;
    let count = 1;
    while (count < this.packets.length && bytes + this.packets[count]!.size <= most) bytes += this.packets[count++]!.size;
    const iov: Uint8Array[] = [];
    for (let k = 0, at = this.head, left = bytes; left > 0; k++, at = 0) {
      const n = Math.min(left, BLOCK - at);
      iov.push(this.blocks[k]!.subarray(at, at + n));
      left -= n;
    }
    this.batchCount = count;
    this.writing = true;
    const pos = this.packets[0]!.pos + this.written;
    const start = performance.now();
    fs.writev(fd, iov, pos, (err, n) => {
      // Batches of a few packets only: a lone packet's write says more about the call than the path.
      // Half a direct batch: batches of packets whose size does not divide MAX_DIRECT_BATCH are measured too.
      if (err === null && bytes >= MAX_DIRECT_BATCH / 2) {
        const rate = n / Math.max(0.1, performance.now() - start);
        if (direct) this.directRate = rate;
        else this.cachedRate = rate;
      }
      this.landed(err, n, direct);
    });
  }

  /** A thread-pool write came back: tells the packets it wrote, goes on with the rest. */
  private landed(err: NodeJS.ErrnoException | null, n: number, direct: boolean): void {
    this.writing = false;
    const count = this.batchCount;
    this.batchCount = 0;
    let written = err === null ? n : 0;
    let k = 0;
    for (; k < count; k++) {
      const item = this.packets[0]!;
      const left = item.size - this.written;
      if (written < left) break;
      written -= left;
      this.written = 0;
      this.packets.shift();
      this.release(left);
      try {
        item.outcome.done(item.pos);
      } catch (e) {
        // Its index entry could not be written: the packet is not in the trace.
        this.fail(item.pos, e, item);
        break;
      }
    }
    if (k < count && this.packets.length > 0 && written > 0) {
      // A short write: the rest of this packet goes next.
      this.written += written;
      this.release(written);
    }
    if (err !== null && this.packets.length > 0) {
      if (direct && err.code === 'EINVAL') this.mode = 'cached'; // stricter alignment than ours: the page cache
      else this.fail(this.packets[0]!.pos, err);
    }
    this.startWrite();
    this.ifIdle();
    staging.roomBack();
  }

  /** Nothing staged and no write out: a closed file's descriptors close, settle() resolves. */
  private ifIdle(): void {
    if (this.writing || this.packets.length > 0) return;
    if (this.closed) {
      try {
        this.closeFds();
      } catch {
        // Nothing is written through them any more.
      }
    }
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Drops `bytes` from the front of staging, giving emptied blocks back. */
  private release(bytes: number): void {
    this.head += bytes;
    this.stagedBytes -= bytes;
    while (this.blocks.length > 0 && (this.head >= BLOCK || (this.stagedBytes === 0 && this.blocks.length === 1))) {
      staging.give(this.blocks.shift()!);
      this.head = this.head >= BLOCK ? this.head - BLOCK : 0;
    }
    if (this.blocks.length === 0) this.head = 0;
  }

  /** Writes a packet synchronously (a file that never writes directly, or nothing staged), then tells its writer. */
  private writeNow(bytes: Uint8Array, size: number, pos: number, outcome: WriteOutcome, fd = this.fd): void {
    try {
      this.writeAll(fd, bytes.length > size ? bytes.subarray(0, size) : bytes, pos);
      const pad = size - bytes.length;
      if (pad > 0) this.writeAll(fd, pad <= ALIGN ? ZERO_PAGE.subarray(0, pad) : Buffer.alloc(pad), pos + bytes.length);
    } catch (err) {
      this.truncate(pos);
      this.end = pos;
      outcome.failed(err);
      return;
    }
    try {
      outcome.done(pos);
    } catch (err) {
      this.truncate(pos);
      this.end = pos;
      outcome.failed(err);
    }
  }

  /**
   * The packet at `pos` is not in the file: cut the file back to it; it (unless already told: `told`) and every
   * packet staged after it fail. Called with no thread-pool write out.
   */
  private fail(pos: number, err: unknown, told?: PendingWrite): void {
    this.truncate(pos);
    this.end = pos;
    this.written = 0;
    this.release(this.stagedBytes);
    const failed = this.packets.splice(0);
    if (told !== undefined) told.outcome.failed(err);
    for (const q of failed) q.outcome.failed(err);
    // Writers waiting for room are told even when no I/O callback follows (a failure before any write went
    // out); later, not now: a waiter drains again, and this may run inside its append().
    queueMicrotask(() => staging.roomBack());
  }

  private truncate(size: number): void {
    try {
      fs.ftruncateSync(this.mode === 'sync' ? this.fd : this.cachedFd >= 0 ? this.cachedFd : this.fd, size);
    } catch {
      // Shrinking cannot need space; the writer's index still lists only whole packets.
    }
  }
}
