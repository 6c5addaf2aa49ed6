// The CTF reading API (package entry 'ltt/ctf', for analyses, web and other programs): open traces on disk and
// get either the graph's message batches (source.ctf.fs → optional trimmers → muxer, babeltrace2's order;
// assembled in graph/open-trace.ts) or events as plain objects.
//
// Contract: `openTrace(paths, opts)`: see graph/open-trace.ts. `events(opened)` yields PlainEvent objects with
// every scope decoded. Errors are LttError with one-line messages (CTF_NO_TRACE, CTF_METADATA, CTF_DECODE,
// CTF_IO, MUXER_CLOCK, TRIMMER_RANGE); decoding errors are thrown after the batch of messages that preceded them.

import { clockNs, type EventMessage, type StructValue } from './ir/message.js';
import type { OpenedTrace } from '../graph/open-trace.js';

export { openTrace, type OpenTraceOptions, type OpenedTrace } from '../graph/open-trace.js';
export type { CtfFsOptions, CtfFsTrace } from '../graph/source-ctf-fs.js';
export type { MessageStream } from './decode/msg-iter.js';

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
