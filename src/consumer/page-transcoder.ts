// The kernel consumer's fast path: one generated function per CPU reader that walks an ftrace page and writes
// the CTF record of every record it can transcode inline, with no call per record in between.
//
// Why: per record, the general path is a chain of calls (page walk -> record callback -> stream -> encoder of
// that class). The last one has a different target for every event class, so V8 cannot inline it, and calls
// cost more than the work (a syscall record is a header and a few integer copies). Here the walk, the
// dispatch on the ftrace event id (a switch: one call site per class, each monomorphic and inlinable) and
// the stream's reserve/commit steps are one function, as a C consumer would be written.
//
// Opt-in (KernelChannelConsumer's maxInlinedClasses, default 0): see there for why it is not the default yet.
//
// Contract: compilePageTranscoder(decoder, classes, options) returns `walk(base, pageSize)`, which decodes the
// page in the reader's buffer (the DataView the transcoders were bound to) like PageDecoder.decodePage and
// returns { dataLength, records }. Classes listed are written through their transcoder (bound to `stream`);
// every other record (no transcoder, a filter, a thread-table hook, a disabled rule, an unknown id) goes to
// `slow(ts, rec, len)`, the general path. The caller recompiles when its handlers change.

import { INLINE_GLOBALS, prepareBuffer, type TranscoderFactory } from '../ctf/writer/event-encoder.js';
import type { StreamWriter } from '../ctf/writer/stream-writer.js';
import type { PageDecoder } from '../kernel/page-decoder.js';

export interface FastClass {
  /** ftrace event id (common_type). */
  readonly ftraceId: number;
  /** The class's transcoder (its statements are inlined). */
  readonly transcoder: TranscoderFactory;
}

export interface PageTranscoderOptions {
  /** The page buffer. */
  readonly buf: Buffer;
  readonly dv: DataView;
  readonly stream: StreamWriter;
  /** The general path; also takes a record that did not fit in the open packet (it switches packets). */
  readonly slow: (ts: number, rec: number, len: number) => void;
  /** Process-attribute trackers (undefined: every thread is tracked). */
  readonly tracked: ((tid: number) => boolean) | undefined;
  /** Fills the stream event context for a record (undefined: the stream class has none). */
  readonly filler: ((tid: number, cpu: number, out: unknown[]) => void) | undefined;
  readonly ctxOut: unknown[];
  readonly cpu: number;
  /** Offset of common_pid in a record. */
  readonly pidOffset: number;
  /** Counters: `events` and `inlined` grow by the records written here. */
  readonly stats: { events: number; inlined: number };
}

export interface PageWalkResult {
  dataLength: number;
  records: number;
}

export type PageWalk = (base: number, pageSize: number) => PageWalkResult;

export function compilePageTranscoder(decoder: PageDecoder, classes: readonly FastClass[], o: PageTranscoderOptions): PageWalk {
  const tid = `sdv.getInt32(rec + ${o.pidOffset}, true)`;
  // The stream's state lives in locals while records are inlined (`off`: next record, -1 until a packet is
  // open; cells[1]: the stream's time; `pending`: records not committed yet) and goes back to the stream
  // (commitRecords) before anything else touches it: the general path, the end of the page. Timestamps are
  // doubles kept in typed-array cells (see walkerSource): boxed only where a call takes them, never per record.
  const halves = (v: string): string => `(${v} / 1073741824) | 0, (${v} >>> 0) & 0x3fffffff`;
  const sync = `if (pending !== 0) { const k = cells[1]; commit(off, ${halves('k')}, pending); stats.events += pending; stats.inlined += pending; pending = 0; }`;
  // Times go to calls as two small integers (bits 30 and up, bits 0-29): V8 merges the conversions of a double
  // to a heap number at the many call sites (one per case) into one, which it then runs for every record (an
  // allocation each); small integers convert without allocating.
  // One general-path site after the switch, for every record the cases do not write (no case, not tracked
  // out, or no room in the packet): each code site needs its own type feedback, and a site that first runs
  // after the walk was optimized costs a deoptimization and a recompilation of the whole walk.
  const general = `${sync} off = -1; slow(${halves('ts')}, rec, len); cells[1] = st.lastTimestamp;`;
  const cases = classes.map((c, i) => {
    const lines = [`case ${c.ftraceId}: {`];
    if (o.tracked !== undefined) lines.push(`if (!tracked(${tid})) continue;`);
    if (o.filler !== undefined) lines.push(`filler(${tid}, cpu, ctx);`);
    lines.push(
      'let t = ts >= cells[1] ? ts : cells[1];',
      `if (off < 0) { off = open(${halves('t')}); cells[1] = st.lastTimestamp; t = ts >= cells[1] ? ts : cells[1]; }`,
      'let o2 = off, ok = false;',
      // The statements see the clamped time as `ts` and write at `off`; a record that does not fit leaves the
      // block unfinished and goes to the general path, which switches packets (zeroing what was written).
      `fit: { const ts = t, last = cells[1], end = u8.length, h = h${i}; let c = ctx; let off = o2;`,
      c.transcoder.inline('break fit;'),
      'o2 = off; ok = true; }',
      'if (ok) { off = o2; cells[1] = t; pending++; continue; }',
      'break;',
      '}',
    );
    return lines.join('\n');
  });
  const record = `switch (sdv.getUint16(rec, true)) {\n${cases.join('\n')}\n}\n${general}`;
  const walk = decoder.walkerSource(record, 'sdv', {
    prologue: 'cells[1] = st.lastTimestamp; let off = -1; let pending = 0;',
    epilogue: sync,
  });
  const body = `const result = { dataLength: 0, records: 0 };\nconst cells = new Float64Array(2);\nreturn ${walk};`;
  const params = ['u8', 'dv', 's8', 'sdv', 'EMPTY', 'Buffer', 'st', 'slow', 'open', 'commit', 'tracked', 'filler', 'ctx', 'cpu', 'stats', ...classes.map((_, i) => `h${i}`)];
  const make = new Function(...params, body) as (...args: unknown[]) => PageWalk;
  return o.stream.withPacketBuffer((u8, dv) => {
    prepareBuffer(u8);
    const { slow, stream } = o;
    const slowHalves = (hi: number, lo: number, rec: number, len: number): void => slow(hi * 1073741824 + lo, rec, len);
    const open = (hi: number, lo: number): number => stream.recordOffset(hi * 1073741824 + lo);
    const commit = (end: number, hi: number, lo: number, count: number): void => stream.commitRecords(end, hi * 1073741824 + lo, count);
    return make(
      u8, dv, o.buf, o.dv, INLINE_GLOBALS.EMPTY, INLINE_GLOBALS.Buffer, stream, slowHalves, open, commit, o.tracked, o.filler,
      o.filler !== undefined ? o.ctxOut : undefined, o.cpu, o.stats, ...classes.map((c) => c.transcoder.helpers),
    );
  });
}
