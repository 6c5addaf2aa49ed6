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
// too) is in `timestamp[0]` meanwhile. No allocation per record: a number passed to a call V8 does not inline is
// boxed (a heap allocation per record), a typed array's element is not.

import type { HeaderEventFormat, HeaderPageFormat } from './event-format.js';

/** One record: its payload at `off` (`len` bytes); its timestamp is the decoder's `timestamp[0]`. */
export type RecordHandler = (off: number, len: number) => void;

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
  }

  /** Missed-events state of a page before decoding it: -1 some (count unknown), 0 none, N exactly N. */
  missedBefore(dv: DataView, base: number, pageSize: number): number {
    const commit = dv.getUint32(base + this.commitOffset, true);
    if (!(commit & MISSED_EVENTS)) return 0;
    const length = commit & 0x3fffffff;
    if (commit & MISSED_STORED && this.dataOffset + length + this.commitSize <= pageSize) {
      const p = base + this.dataOffset + length;
      return dv.getUint32(p, true) + (this.commitSize === 8 ? dv.getUint32(p + 4, true) * TWO32 : 0);
    }
    return -1;
  }

  /**
   * Decode the page at `base` in `dv` (a little-endian ftrace page of at most `pageSize` bytes).
   * Returns this.info. Throws nothing on garbage: a malformed record ends the page (the caller counts it).
   */
  decodePage(dv: DataView, base: number, pageSize: number, onRecord: RecordHandler): PageInfo {
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
        missed = dv.getUint32(p, true) + (this.commitSize === 8 ? dv.getUint32(p + 4, true) * TWO32 : 0);
      }
    }
    info.timestamp = ts;
    info.dataLength = length;
    info.missed = missed;
    const end = dataStart + length;
    let p = dataStart;
    let records = 0;
    const typeMask = this.typeMask;
    const shift = this.deltaShift;
    const maxTypeLen = this.maxTypeLen;
    const at = this.timestamp;
    while (p + 4 <= end) {
      const hdr = dv.getUint32(p, true);
      const typeLen = hdr & typeMask;
      const delta = hdr >>> shift;
      if (typeLen === 0) {
        if (p + 8 > end) break;
        const len = dv.getUint32(p + 4, true);
        if (len < 4 || p + 4 + len > end) break;
        ts += delta;
        records++;
        at[0] = ts;
        onRecord(p + 8, len - 4);
        p += 4 + ((len + 3) & ~3);
      } else if (typeLen <= maxTypeLen) {
        const len = typeLen << 2;
        if (p + 4 + len > end) break;
        ts += delta;
        records++;
        at[0] = ts;
        onRecord(p + 4, len);
        p += 4 + len;
      } else if (typeLen === this.padding) {
        if (delta === 0) break; // the rest of the page is padding
        if (p + 8 > end) break;
        // A discarded record (filtered out after reservation): skip it; its delta is not applied, as the
        // kernel's own reader (rb_update_read_stamp) does.
        p += 4 + dv.getUint32(p + 4, true);
      } else if (typeLen === this.timeExtend) {
        if (p + 8 > end) break;
        ts += delta + dv.getUint32(p + 4, true) * this.extendUnit;
        p += 8;
      } else if (typeLen === this.timeStamp) {
        if (p + 8 > end) break;
        // Absolute stamp: 59 low bits recorded; the top 5 bits come from the current time (rb_fix_abs_ts).
        const abs = delta + dv.getUint32(p + 4, true) * this.extendUnit;
        const TOP = 576460752303423488; // 2^59
        ts = abs + Math.floor(ts / TOP) * TOP;
        p += 8;
      } else {
        break;
      }
    }
    info.records = records;
    info.lastTimestamp = ts;
    return info;
  }
}
