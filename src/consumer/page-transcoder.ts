// The kernel consumer's fast path: one generated function per CPU reader that walks an ftrace page and writes
// the CTF record of every record it can transcode inline, with no call per record in between.
//
// Why: per record, the general path is a chain of calls (page walk -> record callback -> stream -> encoder of
// that class). The last one has a different target for every event class, so V8 cannot inline it, and calls
// cost more than the work (a syscall record is a header and a few integer copies). Here the walk, the
// dispatch on the ftrace event id (a switch: one call site per class, each monomorphic and inlinable) and
// the stream's reserve/commit steps are one function, as a C consumer would be written.
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
  const cases = classes.map((c, i) => {
    const lines = [`case ${c.ftraceId}: {`];
    if (o.tracked !== undefined) lines.push(`if (!tracked(${tid})) break;`);
    if (o.filler !== undefined) lines.push(`filler(${tid}, cpu, ctx);`);
    lines.push(
      'const t = ts >= st.lastTimestamp ? ts : st.lastTimestamp;',
      'let off = st.recordOffset(t);',
      'let ok = false;',
      // The statements see the clamped time as `ts`; a record that does not fit leaves the block unfinished.
      `fit: { const ts = t, last = st.lastTimestamp, end = u8.length, h = h${i}; let c = ctx;`,
      c.transcoder.inline('break fit;'),
      'ok = true; }',
      // The general path switches packets (and zeroes what was written here) and writes it again.
      'if (ok) { st.commitRecord(off, t); stats.events++; stats.inlined++; } else slow(ts, rec, len);',
      'break;',
      '}',
    );
    return lines.join('\n');
  });
  const record = `switch (sdv.getUint16(rec, true)) {\n${cases.join('\n')}\ndefault: slow(ts, rec, len);\n}`;
  const body = `const result = { dataLength: 0, records: 0 };\nreturn ${decoder.walkerSource(record, 'sdv')};`;
  const params = ['u8', 'dv', 's8', 'sdv', 'EMPTY', 'Buffer', 'st', 'slow', 'tracked', 'filler', 'ctx', 'cpu', 'stats', ...classes.map((_, i) => `h${i}`)];
  const make = new Function(...params, body) as (...args: unknown[]) => PageWalk;
  return o.stream.withPacketBuffer((u8, dv) => {
    prepareBuffer(u8);
    return make(
      u8, dv, o.buf, o.dv, INLINE_GLOBALS.EMPTY, INLINE_GLOBALS.Buffer, o.stream, o.slow, o.tracked, o.filler,
      o.filler !== undefined ? o.ctxOut : undefined, o.cpu, o.stats, ...classes.map((c) => c.transcoder.helpers),
    );
  });
}
