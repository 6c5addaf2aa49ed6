// sink.utils.counter and sink.utils.dummy.
//
// Contract: `runDummy(batches)` consumes everything (decode only: event field values are never built)
// and returns the number of messages. `runCounter(batches, opts)` counts messages by type and writes
// babeltrace2's counter text (`%15llu <Kind> message[s]` lines then `... message[s] (TOTAL)`) through
// `opts.write`: a block (then a blank line) whenever `step` messages (default 10000, 0 = never) have been
// counted, checked per batch of 15 messages as babeltrace2's graph delivers them (MSG_BATCH_SIZE), and a
// last block at the end unless nothing changed since the previous one. Errors from upstream propagate after
// what was consumed is counted. `runDummyStreams(streams, muxed)` is the dummy sink on unmuxed data streams.

import type { MessageBatches } from '../ctf/ir/message.js';
import { NEED_DATA, type CtfStreamIterator } from '../ctf/decode/msg-iter.js';
import { checkClocks } from './muxer.js';

export interface Counts {
  event: number;
  streamBeginning: number;
  streamEnd: number;
  packetBeginning: number;
  packetEnd: number;
  discardedEvents: number;
  discardedPackets: number;
  inactivity: number;
}

export interface CounterOptions {
  readonly step?: number;
  readonly hideZero?: boolean;
  /** Bold TOTAL line (only when colours are supported, as babeltrace2). */
  readonly color?: boolean;
  readonly write: (text: string) => void;
}

export function emptyCounts(): Counts {
  return {
    event: 0,
    streamBeginning: 0,
    streamEnd: 0,
    packetBeginning: 0,
    packetEnd: 0,
    discardedEvents: 0,
    discardedPackets: 0,
    inactivity: 0,
  };
}

export function totalOf(c: Counts): number {
  return (
    c.event +
    c.streamBeginning +
    c.streamEnd +
    c.packetBeginning +
    c.packetEnd +
    c.discardedEvents +
    c.discardedPackets +
    c.inactivity
  );
}

/** babeltrace2's counter block for `c`. */
export function formatCounts(c: Counts, hideZero = false, color = false): string {
  let s = '';
  const line = (n: number, what: string): void => {
    if (n !== 0 || !hideZero) s += `${String(n).padStart(15)} ${what} message${n === 1 ? '' : 's'}\n`;
  };
  line(c.event, 'Event');
  line(c.streamBeginning, 'Stream beginning');
  line(c.streamEnd, 'Stream end');
  line(c.packetBeginning, 'Packet beginning');
  line(c.packetEnd, 'Packet end');
  line(c.discardedEvents, 'Discarded event');
  line(c.discardedPackets, 'Discarded packet');
  line(c.inactivity, 'Message iterator inactivity');
  const total = totalOf(c);
  const bold = color ? '\x1b[1m' : '';
  const reset = color ? '\x1b[0m' : '';
  s += `${bold}${String(total).padStart(15)} message${total === 1 ? '' : 's'} (TOTAL)${reset}\n`;
  return s;
}

export async function runCounter(batches: MessageBatches, opts: CounterOptions): Promise<Counts> {
  const c = emptyCounts();
  const step = opts.step ?? 10000;
  let at = 0;
  let lastPrinted = 0;
  const print = (): void => {
    opts.write(formatCounts(c, opts.hideZero, opts.color));
    lastPrinted = totalOf(c);
  };
  // babeltrace2 delivers messages to sinks in batches of 15 (lib/graph/iterator.c MSG_BATCH_SIZE) and the
  // counter checks its step after each batch: emulate those batch boundaries.
  const BT_BATCH = 15;
  let inBatch = 0;
  const endBatch = (size: number): void => {
    if (step === 0) return;
    at += size;
    if (at >= step) {
      at = 0;
      print();
      opts.write('\n');
    }
  };
  try {
    for await (const batch of batches) {
      for (let i = 0; i < batch.length; i++) {
        switch (batch[i]!.type) {
          case 'event':
            c.event++;
            break;
          case 'stream-beginning':
            c.streamBeginning++;
            break;
          case 'stream-end':
            c.streamEnd++;
            break;
          case 'packet-beginning':
            c.packetBeginning++;
            break;
          case 'packet-end':
            c.packetEnd++;
            break;
          case 'discarded-events':
            c.discardedEvents++;
            break;
          case 'discarded-packets':
            c.discardedPackets++;
            break;
          case 'inactivity':
            c.inactivity++;
            break;
        }
        if (++inBatch === BT_BATCH) {
          inBatch = 0;
          endBatch(BT_BATCH);
        }
      }
    }
    if (inBatch > 0) endBatch(inBatch);
  } finally {
    if (totalOf(c) !== lastPrinted || lastPrinted === 0) print();
  }
  return c;
}

export async function runDummy(batches: MessageBatches): Promise<number> {
  let n = 0;
  for await (const batch of batches) n += batch.length;
  return n;
}

/**
 * The dummy sink straight on the data streams (what the muxer would merge): nothing is shown, so the order
 * does not matter and no event message is made (CtfStreamIterator.skipAll). A stream that fails makes it
 * run `muxed()` (the same graph, muxed) through runDummy: the error reported is then the one met first in
 * the muxer's order, as without this shortcut. Returns the number of messages.
 */
export async function runDummyStreams(streams: readonly CtfStreamIterator[], muxed: () => MessageBatches): Promise<number> {
  checkClocks(streams.map((s) => s.info));
  let n = 0;
  try {
    for (const s of streams) {
      for (;;) {
        const r = s.skipAll();
        if (r !== NEED_DATA) {
          n += r;
          break;
        }
        await s.fill();
      }
    }
  } catch {
    for (const s of streams) s.close();
    return runDummy(muxed());
  }
  return n;
}
