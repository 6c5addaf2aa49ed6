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
// and when the disk is slower than the page cache would be (see DirectWriteMonitor).

import * as fs from 'node:fs';

const ALIGN = 4096;
const WASM_PAGE = 65536;
/** Memory handed out per WebAssembly.Memory: untouched pages cost no RAM, each memory reserves address space. */
const CHUNK_BYTES = 64 << 20;

/** The one WebAssembly API used here (the project's TypeScript libs do not declare WebAssembly). */
const WasmMemory = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum: number }) => { buffer: ArrayBuffer } } }).WebAssembly.Memory;

/** The ArrayBuffers allocateAligned() carves from: only views of these are known to be aligned. */
const arenas = new WeakSet<ArrayBuffer>();
let chunk: { buffer: ArrayBuffer; used: number } | undefined;

/** Whether this process may use O_DIRECT at all (LTT_DIRECT_IO=0 turns it off). */
export const directIoEnabled = process.env.LTT_DIRECT_IO !== '0' && typeof fs.constants.O_DIRECT === 'number';

/** `size` zeroed bytes starting on a page boundary (plain Buffer.alloc if no aligned memory can be had). */
export function allocateAligned(size: number): Buffer {
  const need = Math.ceil(size / ALIGN) * ALIGN;
  if (!directIoEnabled) return Buffer.alloc(size);
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
    return Buffer.alloc(size);
  }
}

/** Whether `view` may be written with O_DIRECT at file offset `pos`. */
export function directWritable(view: Uint8Array, pos: number): boolean {
  return arenas.has(view.buffer as ArrayBuffer) && view.byteOffset % ALIGN === 0 && view.byteLength % ALIGN === 0 && pos % ALIGN === 0;
}

/**
 * Direct writes block until the device has the data; the page cache would absorb a burst instead. A stream
 * whose direct writes run below MIN_BYTES_PER_MS (a slow disk: the consumer would fall behind its ring
 * buffer) a few times in a row goes back to the page cache for good.
 */
const MIN_BYTES_PER_MS = 100_000; // 100 MB/s
const SLOW_WRITES = 4;

export class DirectWriteMonitor {
  private slow = 0;

  /** Records one direct write; returns false when the stream should stop writing directly. */
  record(bytes: number, ms: number): boolean {
    if (ms > 1 && bytes / ms < MIN_BYTES_PER_MS) this.slow++;
    else this.slow = 0;
    return this.slow < SLOW_WRITES;
  }
}
