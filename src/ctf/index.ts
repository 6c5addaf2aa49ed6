// The CTF reading API for the rest of ltt (view, analyses, web): open traces on disk and get either the
// graph's message batches (source.ctf.fs → optional trimmers → muxer, babeltrace2's order) or events as
// plain objects.
//
// Contract: `openTrace(paths, opts)` discovers the traces (see graph/source-ctf-fs.ts), applies the clock
// options, `--stream-intersection` and `--begin/--end` trimming, and returns `messages` (MessageBatches,
// single use) plus the traces found. `events(opened)` yields PlainEvent objects with every scope decoded.
// Errors are LttError with one-line messages (CTF_NO_TRACE, CTF_METADATA, CTF_DECODE, CTF_IO, MUXER_CLOCK,
// TRIMMER_RANGE); decoding errors are thrown after the batch of messages that preceded them.

import { openCtfFs, type CtfFsOptions, type CtfFsTrace } from '../graph/source-ctf-fs.js';
import { mux } from '../graph/muxer.js';
import { streamIntersection, trimStream } from '../graph/trimmer.js';
import { clockNs, type EventMessage, type MessageBatches, type StructValue } from './ir/message.js';
import type { MessageStream } from './decode/msg-iter.js';

export type { CtfFsOptions, CtfFsTrace } from '../graph/source-ctf-fs.js';
export type { MessageStream } from './decode/msg-iter.js';

export interface OpenTraceOptions extends CtfFsOptions {
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
}

export interface OpenedTrace {
  readonly traces: readonly CtfFsTrace[];
  readonly messages: MessageBatches;
}

export async function openTrace(paths: readonly string[], opts: OpenTraceOptions = {}): Promise<OpenedTrace> {
  const source = await openCtfFs(paths, opts);
  // With a begin bound, start each stream at the packet the index says holds it (exact: see seekIndex).
  let streams: MessageStream[] = source.createStreams({ eager: opts.eager, seekNs: opts.beginNs });
  if (opts.streamIntersection) {
    const ranges = new Map(source.traces.map((t) => [t.info, streamIntersection(t)] as const));
    streams = streams.map((s) => trimStream(s, ranges.get(s.info.trace)!));
  }
  if (opts.beginNs !== undefined || opts.endNs !== undefined) {
    const range = { beginNs: opts.beginNs, endNs: opts.endNs };
    streams = streams.map((s) => trimStream(s, range));
  }
  return { traces: source.traces, messages: mux(streams, { batchSize: opts.batchSize }) };
}

/** An event with every scope decoded, for code that does not want graph messages. */
export interface PlainEvent {
  readonly name: string;
  readonly eventClassId: number;
  /** ns from the clock origin (exact); undefined when the stream has no clock. */
  readonly ns: bigint | undefined;
  /** Raw clock value. */
  readonly cycles: number | bigint | undefined;
  readonly trace: string;
  readonly streamClassId: number;
  readonly streamId: number;
  readonly packetContext: StructValue | undefined;
  readonly commonContext: StructValue | undefined;
  readonly specificContext: StructValue | undefined;
  readonly payload: StructValue | undefined;
}

export function toPlainEvent(m: EventMessage): PlainEvent {
  const clock = m.stream.sc.defaultClock;
  return {
    name: m.ec.name,
    eventClassId: m.ec.id,
    ns: clock && m.cycles !== undefined ? clockNs(clock, m.cycles) : undefined,
    cycles: m.cycles,
    trace: m.stream.trace.name,
    streamClassId: m.stream.sc.id,
    streamId: m.stream.id,
    packetContext: m.packetContext,
    commonContext: m.commonContext,
    specificContext: m.specificContext,
    payload: m.payload,
  };
}

/** Events of an opened trace, in babeltrace2's order, as plain objects. */
export async function* events(opened: OpenedTrace): AsyncGenerator<PlainEvent> {
  for await (const batch of opened.messages) {
    for (const m of batch) if (m.type === 'event') yield toPlainEvent(m);
  }
}
