// The reading graph of `ltt view` from its configuration, as babeltrace2's convert command builds it
// (graph/open-trace.ts assembles it; this resolves the options and the time bounds against the opened traces).
//
// Contract: `openReadingGraph(cfg)` returns single-use MessageBatches (`runDummyView(cfg)` reads them all), or throws LttError (no trace, bad
// metadata, bad --begin/--end). Time-of-day bounds (`HH:MM[:SS[.NS]]`) take their date from the earliest
// packet beginning of the opened traces, in local time unless --clock-gmt (trimmer.c set_trimmer_iterator_bound()).
// `readMetadataText(dir)` is `-o ctf-metadata`: the (de-packetized) metadata text of one trace folder.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LttError } from '../errors.js';
import { parseMetadata } from '../ctf/metadata.js';
import type { MessageBatches } from '../ctf/ir/message.js';
import { WindowPool } from '../ctf/decode/medium.js';
import type { CtfStreamIterator } from '../ctf/decode/msg-iter.js';
import { readingGraph, runDummyGraph, type ReadingGraphOptions } from '../graph/open-trace.js';
import { mux } from '../graph/muxer.js';
import { DEFAULT_LIVE_PORT, type LiveUrl } from '../relay/live-client.js';
import { openLiveSource } from '../relay/live-source.js';
import { openCtfFs, type CtfFsSource, type CtfFsTrace } from '../graph/source-ctf-fs.js';
import { makeCalendar, toEpochSeconds } from './local-time.js';
import type { TimeBound, ViewConfig } from './view-args.js';
import { writeStderr } from './output-writer.js';

const NS = 1_000_000_000n;

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

/** ns from origin of a bound; `firstNs` is the earliest time of the traces (for time-of-day bounds). */
export function boundNs(b: TimeBound, gmt: boolean, firstNs: bigint | undefined): bigint {
  if (b.kind === 'ns') return b.ns;
  let year: number;
  let month: number;
  let day: number;
  if (b.kind === 'date-time') {
    year = b.year;
    month = b.month;
    day = b.day;
  } else {
    if (firstNs === undefined) throw new LttError('TRIMMER_RANGE', 'cannot resolve a time-of-day --begin/--end: the traces have no timestamps');
    const t = makeCalendar(gmt).breakDown(Number(floorDiv(firstNs, NS)));
    year = t.year;
    month = t.month;
    day = t.day;
  }
  const sec = toEpochSeconds({ year, month, day, hour: b.hour, minute: b.minute, second: b.second }, gmt);
  if (sec < 0) throw new LttError('TRIMMER_RANGE', 'invalid --begin/--end date/time (before 1970)');
  return BigInt(sec) * NS + BigInt(b.ns);
}

function earliestNs(traces: readonly CtfFsTrace[]): bigint | undefined {
  let first: bigint | undefined;
  for (const t of traces) {
    for (const g of t.groups) {
      const b = g.index[0]?.beginNs;
      if (b !== undefined && (first === undefined || b < first)) first = b;
    }
  }
  return first;
}

/** `releaseBytes`: see ReadingGraphOptions (the pretty sink's text memories copy what they keep). */
export async function openReadingGraph(cfg: ViewConfig, releaseBytes?: () => void): Promise<MessageBatches> {
  const { source, opts } = await openSource(cfg, releaseBytes);
  return readingGraph(source, opts);
}

/**
 * How the pretty sink reads: 'fused' (fused-view.ts: streams merged and printed in one loop, no messages) when
 * no trimmer sits between the streams and the sink and the streams are files; else 'general' (the graph's
 * message batches and PrettySink.consume: trimmed views, live sessions).
 */
export type PrettyLoop = 'fused' | 'general';

export function prettyLoopFor(cfg: ViewConfig): PrettyLoop {
  return cfg.begin || cfg.end || cfg.streamIntersection || cfg.live ? 'general' : 'fused';
}

/** The data streams of the fused loop, their read windows recycled through `windows`. */
export async function openFusedStreams(cfg: ViewConfig): Promise<{ streams: CtfStreamIterator[]; windows: WindowPool }> {
  const { source } = await openSource(cfg);
  const windows = new WindowPool();
  return { streams: source.createStreams({ windows }), windows };
}

/**
 * A live session (net://HOST[:PORT]/host/HOSTNAME/SESSION): src.ctf.lttng-live -> flt.utils.muxer, as babeltrace2
 * builds it (the muxer has the source's one port; the event objects follow lttng-live's short batches).
 */
export async function openLiveGraph(cfg: ViewConfig, url: LiveUrl): Promise<MessageBatches> {
  const source = await openLiveSource({
    url: cfg.paths[0]!,
    host: url.host,
    port: url.port ?? DEFAULT_LIVE_PORT,
    hostname: url.target!.hostname,
    session: url.target!.session,
  });
  return mux([source], { batchSize: 4096, eventPool: cfg.sink === 'pretty', live: true });
}

/** `-o dummy`: reads the whole graph (see runDummyGraph). */
export async function runDummyView(cfg: ViewConfig): Promise<void> {
  const { source, opts } = await openSource(cfg);
  await runDummyGraph(source, opts);
}

async function openSource(cfg: ViewConfig, releaseBytes?: () => void): Promise<{ source: CtfFsSource; opts: ReadingGraphOptions }> {
  const source = await openCtfFs(cfg.paths, {
    clockOffsetS: Number(cfg.clockOffsetSeconds),
    clockOffsetNs: cfg.clockOffsetNs,
    forceClockOriginUnixEpoch: cfg.clockForceCorrelate,
    // babeltrace2 logs these (not part of the compared output); shown with --verbose only.
    warn: cfg.verbose ? (msg) => writeStderr(`Warning: ${msg}\n`) : () => {},
  });
  if (cfg.streamIntersection && (cfg.begin || cfg.end)) {
    // babeltrace2 2.0.4 puts the --begin/--end trimmer after the muxer, whose per-stream intersection
    // trimmers cannot seek: it fails before printing anything (trimmer.c state_seek_initially()).
    throw new LttError('TRIMMER_RANGE', '--stream-intersection cannot be combined with --begin, --end or --timerange (as in babeltrace2 2.0.4)');
  }
  // Bounds first: --begin lets the source skip, through the packet index, packets that end before it.
  let beginNs: bigint | undefined;
  let endNs: bigint | undefined;
  if (cfg.begin || cfg.end) {
    const first = earliestNs(source.traces);
    beginNs = cfg.begin ? boundNs(cfg.begin, cfg.gmt, first) : undefined;
    endNs = cfg.end ? boundNs(cfg.end, cfg.gmt, first) : undefined;
    if (beginNs !== undefined && endNs !== undefined && beginNs > endNs) {
      throw new LttError('TRIMMER_RANGE', `--begin is after --end (${beginNs} ns > ${endNs} ns from origin)`);
    }
  }
  // Lazy events (not `eager`): the pretty sink's fused printers read the fields straight from the packet
  // bytes, which beats building value objects; the other sinks never read the fields, so their read buffers
  // are recycled (a fresh buffer per read window costs page faults: ~20% of a dummy run's CPU time).
  // The pool model: babeltrace2's text fields depend on which event object each event reuses (graph/event-pool.ts).
  const opts: ReadingGraphOptions = {
    beginNs,
    endNs,
    streamIntersection: cfg.streamIntersection,
    batchSize: 4096,
    eventPool: cfg.sink === 'pretty',
    firstBatchRead: cfg.begin?.kind === 'time-of-day' || cfg.end?.kind === 'time-of-day',
    fieldsUnread: cfg.sink === 'dummy' || cfg.sink === 'counter',
    releaseBytes,
  };
  return { source, opts };
}

/** `-o ctf-metadata`: the metadata text of the trace folder `dir` (checked by parsing it). */
export async function readMetadataText(dir: string): Promise<string> {
  const path = join(dir, 'metadata');
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new LttError('CTF_IO', `cannot open trace metadata ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const { text } = parseMetadata(bytes, { path });
  const nul = text.indexOf('\0');
  return nul >= 0 ? text.slice(0, nul) : text;
}
