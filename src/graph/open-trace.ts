// The reading graph, as babeltrace2's convert command builds it: source.ctf.fs -> [stream intersection] ->
// [flt.utils.trimmer] -> flt.utils.muxer. The one place it is assembled: the library API (ctf/index.ts) and
// `ltt view` (view/reading-graph.ts, which resolves its time bounds against the opened traces first) both use it.
//
// Contract: `openTrace(paths, opts)` discovers the traces (see source-ctf-fs.ts), applies the clock options and
// returns the traces found with `messages` (MessageBatches, single use); `readingGraph(source, opts)` does the
// same for a source already open. Errors are LttError with one-line messages (CTF_NO_TRACE, CTF_METADATA,
// CTF_DECODE, CTF_IO, MUXER_CLOCK, TRIMMER_RANGE); decoding errors are thrown after the batch of messages that
// preceded them.

import type { MessageBatches } from '../ctf/ir/message.js';
import type { MessageStream } from '../ctf/decode/msg-iter.js';
import { WindowPool } from '../ctf/decode/medium.js';
import { openCtfFs, type CtfFsOptions, type CtfFsSource, type CtfFsTrace } from './source-ctf-fs.js';
import { mux } from './muxer.js';
import { runDummy, runDummyStreams } from './sinks.js';
import { streamIntersection, trimStream } from './trimmer.js';

export interface ReadingGraphOptions {
  /** Keep messages from this time (ns from origin, inclusive). */
  readonly beginNs?: bigint;
  /** Keep messages up to this time (ns from origin, inclusive). */
  readonly endNs?: bigint;
  /** Trim each trace to the range where all its streams are active. */
  readonly streamIntersection?: boolean;
  /** Messages per batch (default 1024: small batches keep short-lived values young for the GC). */
  readonly batchSize?: number;
  /** Decode event fields while reading instead of on first access (see MessageStream options). */
  readonly eager?: boolean;
  /** The consumer never reads event fields: read buffers are recycled (see StreamIteratorOptions.fieldsUnread). */
  readonly fieldsUnread?: boolean;
  /**
   * Recycle the read windows of lazy messages: `release` is called when the consumer, asking for a batch,
   * is to drop every reference into the bytes of the messages it took (ignored with a trimmer).
   */
  readonly releaseBytes?: () => void;
  /** Model babeltrace2's event object pools (event-pool.ts): the pretty sink's text fields depend on them. */
  readonly eventPool?: boolean;
  /** With `eventPool` and a bound: babeltrace2 read a first batch to date a time-of-day bound (muxer preRead). */
  readonly firstBatchRead?: boolean;
}

export interface OpenTraceOptions extends CtfFsOptions, ReadingGraphOptions {}

export interface OpenedTrace {
  readonly traces: readonly CtfFsTrace[];
  readonly messages: MessageBatches;
}

export function readingGraph(source: CtfFsSource, opts: ReadingGraphOptions = {}): MessageBatches {
  const bounded = opts.beginNs !== undefined || opts.endNs !== undefined;
  const ranges = opts.streamIntersection ? new Map(source.traces.map((t) => [t.info, streamIntersection(t)] as const)) : undefined;
  // --stream-intersection trims each data stream before the muxer (babeltrace2 puts a trimmer on each port).
  const intersect = (streams: MessageStream[]): MessageStream[] => (ranges ? streams.map((s) => trimStream(s, ranges.get(s.info.trace)!)) : streams);
  if (opts.eventPool && bounded) {
    // babeltrace2's --begin/--end trimmer is after the muxer and reads every stream from its beginning: the
    // event objects (muxer.ts, event-pool.ts) follow that flow, so the muxer trims after the pool model.
    const range = { beginNs: opts.beginNs, endNs: opts.endNs };
    const preRead = opts.firstBatchRead ? intersect(source.createStreams({ eager: opts.eager })) : undefined;
    return mux(intersect(source.createStreams({ eager: opts.eager })), { batchSize: opts.batchSize, eventPool: true, trim: range, preRead });
  }
  if (opts.eventPool && ranges) {
    // The event objects follow the flow through each stream's trimmer (muxer.ts streamRanges).
    const streams = source.createStreams({ eager: opts.eager });
    return mux(streams, { batchSize: opts.batchSize, eventPool: true, streamRanges: streams.map((s) => ranges.get(s.info.trace)!) });
  }
  // Read windows are recycled only when the streams are the muxer's own (no trimmer owns messages in between).
  const pool = opts.releaseBytes !== undefined && !bounded && !ranges ? new WindowPool() : undefined;
  // With a begin bound, start each stream at the packet the index says holds it (exact: see seekIndex).
  let streams = intersect(source.createStreams({ eager: opts.eager, fieldsUnread: opts.fieldsUnread, windows: pool, seekNs: opts.beginNs }));
  if (bounded) {
    const range = { beginNs: opts.beginNs, endNs: opts.endNs };
    streams = streams.map((s) => trimStream(s, range));
  }
  const windows = pool && { pool, release: opts.releaseBytes! };
  return mux(streams, { batchSize: opts.batchSize, eventPool: opts.eventPool, windows });
}

/** sink.utils.dummy on the reading graph: the number of messages (see runDummyStreams for the shortcut taken). */
export function runDummyGraph(source: CtfFsSource, opts: ReadingGraphOptions = {}): Promise<number> {
  const muxed = (): MessageBatches => readingGraph(source, { ...opts, fieldsUnread: true });
  if (opts.beginNs !== undefined || opts.endNs !== undefined || opts.streamIntersection) return runDummy(muxed());
  return runDummyStreams(source.createStreams({ fieldsUnread: true }), muxed);
}

export async function openTrace(paths: readonly string[], opts: OpenTraceOptions = {}): Promise<OpenedTrace> {
  const source = await openCtfFs(paths, opts);
  return { traces: source.traces, messages: readingGraph(source, opts) };
}
