// Timestamps and deltas as sink.text.pretty prints them (print_timestamp_wall / print_timestamp_cycles, 2.0.4),
// including its negative-time quirk: the first negative time falls back to `-SEC.NS` with a one-time warning on
// stderr, later ones go through localtime() as if positive.
//
// Contract: one TimestampFormatter per sink; it owns the delta state (last printed event time), so events must be
// formatted in output order. Clock values are converted to ns from origin exactly (two numbers for the 1 GHz fast
// path, bigint otherwise), as babeltrace2's bt_clock_snapshot_get_ns_from_origin() does.

import type { ClockClass } from '../ctf/ir/trace-class.js';
import { cyclesToNs, type Cycles } from '../ctf/ir/message.js';
import { makeCalendar, type Calendar } from './local-time.js';
import { DIGIT_PAIRS, packBytes, writePacked, writeUint32, writeUint9, type OutputWriter, type PackedBytes } from './output-writer.js';

const NS = 1_000_000_000;
const NS_N = 1_000_000_000n;
const TWO_64 = 1n << 64n;
const NINE_ZEROS = '000000000';

export function pad9(n: number): string {
  const s = String(n);
  return s.length >= 9 ? s : NINE_ZEROS.slice(s.length) + s;
}

/** Per-clock constants for the conversion to ns from origin. */
interface ClockConv {
  readonly fast: boolean; // 1 GHz: ns = cycles
  readonly offSec: number;
  readonly offNs: number;
  readonly offTotal: bigint;
  readonly frequency: number;
}

const convCache = new WeakMap<ClockClass, ClockConv>();

function clockConv(clock: ClockClass): ClockConv {
  let c = convCache.get(clock);
  if (c) return c;
  const offTotal = clock.offsetSeconds * NS_N + cyclesToNs(clock.frequency, clock.offsetCycles);
  const offSecB = offTotal >= 0n ? offTotal / NS_N : -((-offTotal + NS_N - 1n) / NS_N);
  c = {
    fast: clock.frequency === NS,
    offSec: Number(offSecB),
    offNs: Number(offTotal - offSecB * NS_N),
    offTotal,
    frequency: clock.frequency,
  };
  convCache.set(clock, c);
  return c;
}

export interface Warn {
  (line: string): void;
}

export class TimestampFormatter {
  private readonly cal: Calendar;
  private readonly seconds: boolean;
  private readonly date: boolean;
  /** Floor-normalised split of the current time: S seconds + N ns (0 <= N < 1e9). */
  private curS = 0;
  private curN = 0;
  private hasLast = false;
  private lastS = 0;
  private lastN = 0;
  private lastCycles: bigint | number | undefined;
  private negativeWarned = false;
  private cacheSec = NaN;
  private cachePrefix = '';
  private cachePrefixBytes: Uint8Array = new Uint8Array(0);
  /** `[` + cachePrefix, for writeDefault(). */
  private cachePrefixPacked: PackedBytes = packBytes(new Uint8Array(0));

  /** Caches `[date ]HH:MM:SS.` of second S (string and bytes always together). */
  private setPrefix(S: number): void {
    this.cachePrefix = (this.date ? this.cal.datePrefix(S) : '') + this.cal.hms(S) + '.';
    this.cachePrefixBytes = Buffer.from(this.cachePrefix, 'latin1');
    const packed = (this.cachePrefixPacked = packBytes(Buffer.from('[' + this.cachePrefix, 'latin1')));
    // `[HH:MM:SS.` (10 bytes) in three words written without a loop; longer prefixes (dates) go word by word.
    const w = packed.words;
    this.prefixLen = w.length <= 3 ? packed.length : -1;
    this.prefix0 = w[0] ?? 0;
    this.prefix1 = w[1] ?? 0;
    this.prefix2 = w[2] ?? 0;
  }

  /** The words of cachePrefixPacked when it has up to three (prefixLen: its length), else prefixLen is -1. */
  private prefixLen = -1;
  private prefix0 = 0;
  private prefix1 = 0;
  private prefix2 = 0;

  constructor(
    opts: { clockGmt: boolean; clockSeconds: boolean; clockDate: boolean },
    private readonly warn: Warn,
  ) {
    this.cal = makeCalendar(opts.clockGmt);
    this.seconds = opts.clockSeconds;
    this.date = opts.clockDate;
  }

  /** Sets curS/curN to the ns from origin of `cycles` on `clock`. */
  private toNs(clock: ClockClass, cycles: number | bigint): void {
    const c = clockConv(clock);
    if (c.fast && typeof cycles === 'number') {
      let cs = Math.floor(cycles / NS);
      let cn = cycles - cs * NS;
      if (cn < 0) {
        cs -= 1;
        cn += NS;
      } else if (cn >= NS) {
        cs += 1;
        cn -= NS;
      }
      let s = c.offSec + cs;
      let n = c.offNs + cn;
      if (n >= NS) {
        n -= NS;
        s += 1;
      }
      this.curS = s;
      this.curN = n;
      return;
    }
    const total = c.offTotal + cyclesToNs(c.frequency, BigInt(cycles));
    let s = total / NS_N;
    let n = total - s * NS_N;
    if (n < 0n) {
      s -= 1n;
      n += NS_N;
    }
    this.curS = Number(s);
    this.curN = Number(n);
  }

  /** Wall-clock text of curS/curN (print_timestamp_wall after the ns split). */
  private wallText(): string {
    let S = this.curS;
    let N = this.curN;
    const negative = S < 0;
    if (negative) {
      // |total| split into seconds and ns, which is what babeltrace's sign cases amount to.
      if (N === 0) S = -S;
      else {
        S = -(S + 1);
        N = NS - N;
      }
    }
    if (this.seconds) return (negative ? '-' : '') + S + '.' + pad9(N);
    if (negative && !this.negativeWarned) {
      this.negativeWarned = true;
      this.warn('[warning] Fallback to [sec.ns] to print negative time value. Use --clock-seconds.\n');
      return '-' + S + '.' + pad9(N);
    }
    if (S !== this.cacheSec) {
      this.cacheSec = S;
      this.setPrefix(S);
    }
    return this.cachePrefix + pad9(N);
  }

  /** Event timestamp in wall-clock form; updates the delta state. */
  eventWall(clock: ClockClass, cycles: Cycles): string {
    if (cycles === undefined) return '??:??:??.?????????';
    this.toNs(clock, cycles);
    const text = this.wallText();
    this.lastDelta = this.computeDelta();
    this.deltaS = -1;
    return text;
  }

  private lastDelta = '+?.?????????';

  private computeDelta(): string {
    let d: string;
    if (!this.hasLast) d = '+?.?????????';
    else {
      let ds = this.curS - this.lastS;
      let dn = this.curN - this.lastN;
      if (dn < 0) {
        dn += NS;
        ds -= 1;
      }
      if (ds >= 0) d = '+' + ds + '.' + pad9(dn);
      else {
        // uint64 wrap-around of a negative difference, as the C code computes it.
        const u = BigInt(ds) * NS_N + BigInt(dn) + TWO_64;
        d = '+' + (u / NS_N).toString() + '.' + pad9(Number(u % NS_N));
      }
    }
    this.hasLast = true;
    this.lastS = this.curS;
    this.lastN = this.curN;
    return d;
  }

  /**
   * Writes the event timestamp in wall-clock form and prepares the delta (same as eventWall() + delta(), without
   * building strings on the common path: non-negative time, cached HH:MM:SS of the same second).
   */
  writeEventWall(o: OutputWriter, clock: ClockClass, cycles: Cycles): void {
    if (cycles === undefined) {
      o.ascii('??:??:??.?????????');
      return;
    }
    this.toNs(clock, cycles);
    const S = this.curS;
    if (S >= 0 && !this.seconds) {
      if (S !== this.cacheSec) {
        this.cacheSec = S;
        this.setPrefix(S);
      }
      o.lit(this.cachePrefixBytes);
      o.uint9(this.curN);
    } else {
      o.ascii(this.wallText());
    }
    // Delta of non-decreasing times without strings; anything else through computeDelta().
    if (this.hasLast) {
      let ds = S - this.lastS;
      let dn = this.curN - this.lastN;
      if (dn < 0) {
        dn += NS;
        ds -= 1;
      }
      if (ds >= 0) {
        this.deltaS = ds;
        this.deltaN = dn;
        this.lastS = S;
        this.lastN = this.curN;
        return;
      }
    }
    this.deltaS = -1;
    this.lastDelta = this.computeDelta();
  }

  private deltaS = -1;
  private deltaN = 0;
  /** writeDefault()'s second cache: cycles secLo .. secLo + 1e9 of secClock (1 GHz) are second secS. */
  private secClock: ClockClass | undefined;
  private secLo = 0;
  private secS = 0;

  /**
   * The default form `[HH:MM:SS.NNNNNNNNN] (+S.NNNNNNNNN) ` (no names, colours, --clock-seconds/-cycles or
   * --no-delta) for the common case: non-negative time not before the previous event's, numeric cycles,
   * HH:MM:SS of the cached second. Writes it straight into the buffer (room ensured by the caller) and
   * returns true, or writes nothing, changes no state and returns false (then use writeEventWall()).
   */
  writeDefault(o: OutputWriter, clock: ClockClass, cycles: Cycles): boolean {
    if (typeof cycles !== 'number') return false;
    this.one[0] = cycles;
    return this.writeDefaultAt(o, clock, this.one, 0);
  }

  private readonly one = new Float64Array(1);

  /** writeDefault() of times[k] cycles (NaN: not a number of cycles). */
  writeDefaultAt(o: OutputWriter, clock: ClockClass, times: Float64Array, k: number): boolean {
    const cycles = times[k]!;
    if (cycles !== cycles || !this.hasLast || this.seconds) return false;
    let S: number;
    let N: number;
    if (clock === this.secClock && cycles >= this.secLo && cycles < this.secLo + NS) {
      // Same second of a 1 GHz clock as the previous event: no division.
      S = this.secS;
      N = cycles - this.secLo;
    } else {
      this.toNs(clock, cycles);
      S = this.curS;
      N = this.curN;
      if (clockConv(clock).fast && cycles <= Number.MAX_SAFE_INTEGER) {
        this.secClock = clock;
        this.secS = S;
        this.secLo = cycles - N;
      } else this.secClock = undefined;
    }
    let ds = S - this.lastS;
    let dn = N - this.lastN;
    if (dn < 0) {
      dn += NS;
      ds -= 1;
    }
    if (S < 0 || ds < 0 || ds >= 4294967296) return false;
    if (S !== this.cacheSec) {
      this.cacheSec = S;
      this.setPrefix(S);
    }
    const b = o.buf;
    let q = o.pos;
    if (this.prefixLen >= 0) {
      const d = o.dv;
      d.setUint32(q, this.prefix0, true);
      d.setUint32(q + 4, this.prefix1, true);
      d.setUint32(q + 8, this.prefix2, true);
      q += this.prefixLen;
    } else q = writePacked(o.dv, q, this.cachePrefixPacked);
    q = writeUint9(b, q, N);
    b[q] = 93;
    b[q + 1] = 32;
    b[q + 2] = 40;
    b[q + 3] = 43;
    // Most deltas are under a second, and many under a microsecond: fewer divisions for their zeros.
    if (ds === 0) {
      b[q + 4] = 48;
      q += 5;
    } else q = writeUint32(b, q + 4, ds);
    b[q++] = 46;
    if (dn < 1000) {
      const d = o.dv;
      d.setUint32(q, 0x30303030);
      d.setUint16(q + 4, 0x3030);
      const h = (dn / 100) | 0;
      const r = (dn - h * 100) << 1;
      b[q + 6] = 48 + h;
      b[q + 7] = DIGIT_PAIRS[r]!;
      b[q + 8] = DIGIT_PAIRS[r + 1]!;
      q += 9;
    } else q = writeUint9(b, q, dn);
    b[q] = 41;
    b[q + 1] = 32;
    o.pos = q + 2;
    this.deltaS = ds;
    this.deltaN = dn;
    this.lastS = S;
    this.lastN = N;
    return true;
  }

  /** Writes the delta prepared by writeEventWall(). */
  writeDelta(o: OutputWriter): void {
    if (this.deltaS >= 0) {
      o.byte(43);
      o.uint(this.deltaS);
      o.byte(46);
      o.uint9(this.deltaN);
    } else o.ascii(this.lastDelta);
  }

  /** Delta text for the event formatted last by eventWall(). */
  delta(): string {
    return this.lastDelta;
  }

  /** --clock-cycles: raw value in 20 digits; the delta state is the cycle difference. */
  eventCycles(cycles: Cycles): string {
    if (cycles === undefined) return '??:??:??.?????????';
    this.deltaS = -1;
    let d: string;
    if (this.lastCycles === undefined) d = '+????????????';
    else {
      let diff: bigint;
      if (typeof cycles === 'number' && typeof this.lastCycles === 'number' && cycles >= this.lastCycles) {
        const n = cycles - this.lastCycles;
        const s = String(n);
        d = '+' + (s.length >= 12 ? s : '000000000000'.slice(s.length) + s);
        this.lastCycles = cycles;
        this.lastDelta = d;
        return padCycles(cycles);
      }
      diff = BigInt(cycles) - BigInt(this.lastCycles);
      if (diff < 0n) diff += TWO_64;
      d = '+' + diff.toString().padStart(12, '0');
    }
    this.lastCycles = cycles;
    this.lastDelta = d;
    return padCycles(cycles);
  }

  /** Wall-clock time for a discarded-items message (does not touch the delta state). */
  rangeWall(clock: ClockClass, cycles: number | bigint): string {
    this.toNs(clock, cycles);
    return this.wallText();
  }
}

function padCycles(c: number | bigint): string {
  const s = typeof c === 'number' ? String(c) : BigInt.asUintN(64, c).toString();
  return s.length >= 20 ? s : '00000000000000000000'.slice(s.length) + s;
}
