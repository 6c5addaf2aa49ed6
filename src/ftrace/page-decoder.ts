// Decoder of ftrace ring-buffer pages as read from per_cpu/cpuN/trace_pipe_raw.
//
// Contract: a page (sub-buffer) is `header_page` (u64 timestamp, local_t commit, data) followed by records
// whose 32-bit header packs type_len (low 5 bits) and time_delta (high 27 bits), per `header_event`:
//   type_len 0            data record, length in array[0] (includes itself), data after it
//   1..data max type_len  data record of type_len*4 bytes
//   padding (29)          time_delta 0: rest of the page is empty; else a discarded record of 4+array[0] bytes
//   time_extend (30)      delta += array[0] << 27 (8 bytes)
//   time_stamp (31)       absolute timestamp (time_delta | array[0] << 27), top bits from the current time
// The commit word carries the byte count of data plus two flags: bit 31 "events were missed before this page"
// and bit 30 "the missed count is stored as an unsigned long right after the data".
// decodePage() walks one page synchronously and calls `onRecord` for every data record with the offset of its
// payload in the buffer and its length; its absolute timestamp (ns of CLOCK_MONOTONIC as a number: exact up to
// 2^53 ns, i.e. 104 days of uptime; beyond that the last bit rounds, as in the CTF writer, which takes numbers
// too) is in `timestamp[0]` meanwhile. The walk over the records is generated from one template (compileWalk()),
// which the kernel consumer also fills with its own record code (decodePageWith()). No allocation per record: a number passed to a call V8 does not inline is
// boxed (a heap allocation per record), a typed array's element is not.

import type { HeaderEventFormat, HeaderPageFormat } from './event-format.js';

/** One record: its payload at `off` (`len` bytes); its timestamp is the decoder's `timestamp[0]`. */
export type RecordHandler = (off: number, len: number) => void;

/**
 * A compiled walk over one page's records from `p` to `end` (see PageDecoder.compileWalk): returns the
 * timestamp after the last record it walked and leaves the number of data records in `counts[0]`. `counts[1]` is
 * -1 when it reached the page's end, else where it stopped: at a record for the general handler (its offset and
 * length in `counts[2]` and `counts[3]`, and `counts[1]` is where to go on after it), or at a header that is not
 * a data record (padding, time extend, time stamp: `counts[2]` is -1, and `counts[1]` is that header's offset).
 */
export type RecordWalk<A> = (sdv: DataView, p: number, end: number, ts: number, counts: Int32Array, arg: A) => number;

/**
 * Record code of a compiled walk that leaves the record to the general handler (see compileWalk): the walk ends
 * through its epilogue, which every page runs.
 */
export const RecordWalkStop = '{ next = p; srec = rec; slen = len; break walk_; }';

export interface PageInfo {
  /** Timestamp of the page (first record's base). */
  timestamp: number;
  /** Data bytes in the page (without flags). */
  dataLength: number;
  /** Events lost before this page: -1 = some (count unknown), 0 = none, N = exactly N. */
  missed: number;
  /** Data records seen. */
  records: number;
  /** Timestamp after the last record. */
  lastTimestamp: number;
}

const MISSED_EVENTS = 0x80000000;
const MISSED_STORED = 0x40000000;
const TWO32 = 4294967296;

/**
 * The missed-events count stored after a page's data (an unsigned long of `size` bytes). A small count is returned
 * as a small integer: `lo + 0 * 2^32` is a heap number even when whole, and a heap number stored where small
 * integers were (info.missed, the streams' and readers' counters) makes V8 change those objects' layout and throw
 * away the optimized code that uses them, the consumer's hot loop included.
 */
function missedCount(dv: DataView, p: number, size: number): number {
  const lo = dv.getUint32(p, true);
  const hi = size === 8 ? dv.getUint32(p + 4, true) : 0;
  return hi === 0 ? lo : lo + hi * TWO32;
}

export class PageDecoder {
  private readonly commitOffset: number;
  private readonly commitSize: number;
  /** Where a page's data starts (header_page): a full page holds pageSize - dataOffset bytes of records. */
  readonly dataOffset: number;
  private readonly tsOffset: number;
  private readonly padding: number;
  private readonly timeExtend: number;
  private readonly timeStamp: number;
  private readonly maxTypeLen: number;
  private readonly typeMask: number;
  private readonly deltaShift: number;
  /** array[0] of a time extend or time stamp counts in units of 2^time_delta bits (TS_SHIFT). */
  private readonly extendUnit: number;
  /** The timestamp of the record onRecord is called for. */
  readonly timestamp = new Float64Array(1);
  /** Records of the last page walked (the walk's second result). */
  private readonly counts = new Int32Array(4);
  /** The timestamp before and after a header that is not a data record (specialHeader). */
  private readonly stamp = new Float64Array(1);
  /** compileWalk()'s functions by source. */
  private readonly walks = new Map<string, (...args: never[]) => RecordWalk<unknown>>();
  /** decodePage()'s walk: the record's timestamp into `timestamp[0]`, then the handler (`arg`). */
  private readonly callWalk: RecordWalk<RecordHandler>;
  /** Reused result object (callers copy what they need before decoding the next page). */
  readonly info: PageInfo = { timestamp: 0, dataLength: 0, missed: 0, records: 0, lastTimestamp: 0 };

  constructor(page: HeaderPageFormat, event: HeaderEventFormat) {
    this.commitOffset = page.commitOffset;
    this.commitSize = page.commitSize;
    this.dataOffset = page.dataOffset;
    this.tsOffset = page.timestampOffset;
    this.padding = event.padding;
    this.timeExtend = event.timeExtend;
    this.timeStamp = event.timeStamp;
    this.maxTypeLen = event.dataMaxTypeLen;
    this.typeMask = (1 << event.typeLenBits) - 1;
    this.deltaShift = event.typeLenBits;
    this.extendUnit = 2 ** event.timeDeltaBits;
    this.callWalk = (this.compileWalk(['at'], 'at[0] = ts;\narg(rec, len);') as (at: Float64Array) => RecordWalk<RecordHandler>)(this.timestamp);
    this.warmUp();
  }

  /**
   * Decodes two built pages with every kind of header and both missed-events forms, once: code reached only
   * after V8 optimized it has no type feedback and throws the optimized code away (a deoptimization, then
   * compiling again), and the rare paths here (missed counts, time extends and stamps, discarded records) come
   * first when a busy consumer falls behind, the worst time for it. Their feedback is shared by every decoder.
   */
  private warmUp(): void {
    const words = [
      [(1 << this.deltaShift) | this.timeExtend, 0],
      [(1 << this.deltaShift) | this.timeStamp, 0],
      [(1 << this.deltaShift) | this.padding, 8, 0],
      [(1 << this.deltaShift) | 1, 0],
      [1 << this.deltaShift, 12, 0, 0],
      [this.padding],
    ].flat();
    const length = words.length * 4;
    const size = this.dataOffset + length + this.commitSize;
    const dv = new DataView(new ArrayBuffer(size));
    words.forEach((w, i) => dv.setUint32(this.dataOffset + i * 4, w >>> 0, true));
    dv.setUint32(this.dataOffset + length, 3, true);
    // Repeated: V8 gives a function its feedback vector only after it has run a while.
    for (let i = 0; i < 64; i++) {
      for (const flags of [MISSED_EVENTS | MISSED_STORED, MISSED_EVENTS]) {
        dv.setUint32(this.commitOffset, (length | flags) >>> 0, true);
        this.missedBefore(dv, 0, size);
        this.decodePage(dv, 0, size, () => {});
      }
    }
  }

  /** Missed-events state of a page before decoding it: -1 some (count unknown), 0 none, N exactly N. */
  missedBefore(dv: DataView, base: number, pageSize: number): number {
    const commit = dv.getUint32(base + this.commitOffset, true);
    if (!(commit & MISSED_EVENTS)) return 0;
    const length = commit & 0x3fffffff;
    if (commit & MISSED_STORED && this.dataOffset + length + this.commitSize <= pageSize) {
      const p = base + this.dataOffset + length;
      return missedCount(dv, p, this.commitSize);
    }
    return -1;
  }

  /**
   * Decode the page at `base` in `dv` (a little-endian ftrace page of at most `pageSize` bytes).
   * Returns this.info. Throws nothing on garbage: a malformed record ends the page (the caller counts it).
   */
  decodePage(dv: DataView, base: number, pageSize: number, onRecord: RecordHandler): PageInfo {
    return this.decodePageWith(dv, base, pageSize, this.callWalk, onRecord);
  }

  /**
   * decodePage() with the records handled by `walk`, a walk compiled by compileWalk() (the kernel consumer's,
   * with its record code inlined), which gets `arg`. A walk may stop at a record it leaves to `general` (see
   * compileWalk): that one is called with the record's timestamp in `timestamp[0]`, and the walk goes on after it.
   */
  decodePageWith<A>(dv: DataView, base: number, pageSize: number, walk: RecordWalk<A>, arg: A, general?: RecordHandler): PageInfo {
    const info = this.info;
    let ts = dv.getUint32(base + this.tsOffset, true) + dv.getUint32(base + this.tsOffset + 4, true) * TWO32;
    const commit = dv.getUint32(base + this.commitOffset, true);
    let length = commit & 0x3fffffff;
    const dataStart = base + this.dataOffset;
    if (this.dataOffset + length > pageSize) length = pageSize - this.dataOffset;
    let missed = 0;
    if (commit & MISSED_EVENTS) {
      missed = -1;
      if (commit & MISSED_STORED && this.dataOffset + length + this.commitSize <= pageSize) {
        const p = dataStart + length;
        missed = missedCount(dv, p, this.commitSize);
      }
    }
    info.timestamp = ts;
    info.dataLength = length;
    info.missed = missed;
    const counts = this.counts;
    const end = dataStart + length;
    let p = dataStart;
    let records = 0;
    for (;;) {
      ts = walk(dv, p, end, ts, counts, arg);
      records += counts[0]!;
      const next = counts[1]!;
      if (next < 0) break;
      if (counts[2]! < 0) {
        this.stamp[0] = ts;
        p = this.specialHeader(dv, next, end);
        if (p < 0) break;
        ts = this.stamp[0]!;
      } else {
        if (general === undefined) break;
        this.timestamp[0] = ts;
        general(counts[2]!, counts[3]!);
        p = next;
      }
    }
    info.lastTimestamp = ts;
    info.records = records;
    return info;
  }

  /**
   * The header at `p` that is not a data record (type_len above the data range), with the timestamp before it in
   * `stamp[0]` and after it left there: returns where the records go on, or -1 where the page's records end
   * (padding to the end, or a malformed header).
   */
  private specialHeader(dv: DataView, p: number, end: number): number {
    const hdr = dv.getUint32(p, true);
    const typeLen = hdr & this.typeMask;
    const delta = hdr >>> this.deltaShift;
    if (typeLen === this.padding) {
      if (delta === 0) return -1; // the rest of the page is padding
      if (p + 8 > end) return -1;
      // A discarded record (filtered out after reservation): skip it; its delta is not applied, as the
      // kernel's own reader (rb_update_read_stamp) does.
      return p + 4 + dv.getUint32(p + 4, true);
    }
    if (p + 8 > end) return -1;
    if (typeLen === this.timeExtend) {
      this.stamp[0] += delta + dv.getUint32(p + 4, true) * this.extendUnit;
      return p + 8;
    }
    if (typeLen === this.timeStamp) {
      // Absolute stamp: 59 low bits recorded; the top 5 bits come from the current time (rb_fix_abs_ts).
      this.stamp[0] = delta + dv.getUint32(p + 4, true) * this.extendUnit + Math.floor(this.stamp[0]! / 576460752303423488) * 576460752303423488;
      return p + 8;
    }
    return -1;
  }

  /**
   * Compiles a record walk (the loop over one page's records, with this kernel's header_event layout as
   * constants) around `recordCode`, run for each data record with `rec` (its payload's offset in `sdv`), `len`
   * (its length) and `ts` (its timestamp, a number) in scope; `break rec_` ends it early. `params` are the names
   * of the outer function's parameters, which the record code may use: the result is that outer function,
   * returning the walk; `prologue` and `epilogue` run before and after the loop. The record code may also leave
   * a record to decodePageWith's general handler: RecordWalkStop (code) ends the walk, through its epilogue,
   * with its place saved, and decodePageWith calls the walk again after that record. One loop for both
   * decodePage() and the consumer's fused record code, so the record format is read in one place (with
   * specialHeader, for the headers that are not data records). The names `W`, `next`, `srec` and `slen` and the
   * label `walk_` are the walk's own.
   */
  compileWalk(params: readonly string[], recordCode: string, prologue = '', epilogue = ''): (...args: never[]) => RecordWalk<unknown> {
    // The running timestamp lives in a typed array (W[0]), and each record's `ts` is a constant read from it: a
    // double carried by a loop variable was kept boxed by the optimizing compiler when it could not prove it a
    // number (a parameter, or any value in code entered on-stack mid-loop), one heap number allocated per
    // record (16 bytes: 60 MB of minor-GC garbage per 4 M records in the replay bench). An element is not.
    // Code that a walk reaches only now and then has no type feedback when V8 optimizes the walk, and reaching it
    // later throws the optimized code away (a deoptimization, then 10-150 ms of compiling again while the walk
    // runs slowly): a run of the live bench did that about 8 times. So the loop holds only what every data record
    // runs: the headers that are not data records (padding, time extends and stamps) leave it, as a record for
    // the general handler does, through the one exit every page takes (decodePageWith handles them and calls the
    // walk again), and both data record forms (type_len 0: a length word, then the data; else type_len * 4 bytes)
    // are decoded by the same operations, without a branch of their own.
    const src = `const W = new Float64Array(1);
return function walk(sdv, p, end, ts0, counts, arg) {
  W[0] = ts0;
  let records = 0, next = -1, srec = 0, slen = 0;
${prologue}
  walk_: while (p + 4 <= end) {
    const hdr = sdv.getUint32(p, true);
    const typeLen = hdr & ${this.typeMask};
    if (typeLen > ${this.maxTypeLen}) {
      next = p;
      srec = -1;
      break;
    }
    const w1 = p + 8 <= end ? sdv.getUint32(p + 4, true) : 0;
    const z = typeLen === 0 ? 1 : 0;
    const len = (typeLen << 2) + z * (w1 - 4);
    const rec = p + 4 + (z << 2);
    if ((w1 < 4 ? z : 0) !== 0 || rec + len > end) break;
    p = rec + ((len + 3) & ~3);
    const ts = (W[0] += hdr >>> ${this.deltaShift});
    records++;
    rec_: {
${recordCode}
    }
  }
${epilogue}
  counts[0] = records;
  counts[1] = next;
  counts[2] = srec;
  counts[3] = slen;
  return W[0];
};`;
    // The same source gives the same function, so walks made alike (two CPUs with the same classes, a session
    // after another) share V8's type feedback and optimized code instead of each paying for its own.
    const key = `${params.join(',')}\n${src}`;
    let make = this.walks.get(key);
    if (make === undefined) {
      make = new Function(...params, src) as (...args: never[]) => RecordWalk<unknown>;
      this.walks.set(key, make);
    }
    return make;
  }
}
