// Trimming: starting streams at the packet the index designates (seekNs) gives exactly the messages of
// reading everything and trimming, for begin times around every packet boundary; and the trimmer's own
// rules (discarded ranges cut at the bounds, open packets closed at the end).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openCtfFs } from '../../src/graph/source-ctf-fs.js';
import { mux } from '../../src/graph/muxer.js';
import { trimStream } from '../../src/graph/trimmer.js';
import { clockNs, type Message } from '../../src/ctf/ir/message.js';
import { CORPUS } from './corpus-helpers.js';

function summary(ms: readonly Message[]): string[] {
  return ms.map((m) => {
    switch (m.type) {
      case 'event':
        return `event ${m.stream.name}#${m.stream.id} ${m.cycles} ${m.ec.name} ${JSON.stringify(m.payload, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`;
      case 'discarded-events':
      case 'discarded-packets':
        return `${m.type} ${m.stream.id} ${m.count} ${m.beginCycles} ${m.endCycles}`;
      case 'inactivity':
        return m.type;
      case 'packet-beginning':
      case 'packet-end':
        return `${m.type} ${m.stream.name}#${m.stream.id} ${m.cycles}`;
      default:
        return `${m.type} ${m.stream.name}#${m.stream.id}`;
    }
  });
}

async function trimmed(trace: string, beginNs: bigint, endNs: bigint | undefined, seek: boolean): Promise<string[]> {
  const src = await openCtfFs([join(CORPUS, trace)]);
  const streams = src.createStreams(seek ? { seekNs: beginNs } : {}).map((s) => trimStream(s, { beginNs, endNs }));
  const out: Message[] = [];
  for await (const b of mux(streams)) out.push(...b);
  return summary(out);
}

const TRACES = [
  'succeed/lttng-tracefile-rotation',
  'succeed/multi-domains',
  'succeed/session-rotation',
  'succeed/lttng-crash',
  'succeed/lttng-event-after-packet',
  'succeed/barectf-event-before-packet',
  'packet-seq-num/2-streams-lost-in-1',
  'packet-seq-num/7-lost-between-2-with-index',
  'synthetic/all-types',
];

for (const trace of TRACES) {
  test(`${trace}: index seek + trim == read all + trim`, async () => {
    const src = await openCtfFs([join(CORPUS, trace)]);
    const points = new Set<bigint>();
    for (const t of src.traces) {
      for (const g of t.groups) {
        for (const e of g.index) {
          for (const x of [e.beginNs, e.endNs]) {
            if (x === undefined) continue;
            points.add(x - 1n);
            points.add(x);
            points.add(x + 1n);
          }
        }
      }
    }
    assert.ok(points.size > 0);
    let seeks = 0;
    for (const p of [...points].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      const a = await trimmed(trace, p, undefined, false);
      const b = await trimmed(trace, p, undefined, true);
      assert.deepEqual(b, a, `begin ${p}`);
      seeks++;
    }
    assert.ok(seeks > 0);
  });
}

test('packets before the seek time are not read at all', async () => {
  const trace = 'succeed/lttng-tracefile-rotation';
  const src = await openCtfFs([join(CORPUS, trace)]);
  const g = src.traces[0]!.groups.find((x) => x.index.length >= 3)!;
  const seekNs = g.index[2]!.beginNs! + 1n;
  const all = src.createStreams();
  const sought = src.createStreams({ seekNs });
  const count = async (ss: typeof all): Promise<number> => {
    let n = 0;
    for await (const b of mux(ss)) n += b.filter((m) => m.type === 'packet-beginning').length;
    return n;
  };
  assert.ok((await count(sought)) < (await count(all)));
});

test('discarded-events range straddling begin: beginning moved to begin, count unknown', async () => {
  // multi-domains/kernel has one discarded-events message (728 events) over a range; start inside it.
  const src = await openCtfFs([join(CORPUS, 'succeed/multi-domains')]);
  const full: Message[] = [];
  for await (const b of mux(src.createStreams())) full.push(...b);
  const d = full.find((m) => m.type === 'discarded-events');
  assert.ok(d && d.type === 'discarded-events' && d.beginCycles !== undefined && d.endCycles !== undefined);
  const clock = d.stream.sc.defaultClock!;
  const offNs = clockNs(clock, 0); // 1 GHz clock: ns = offset + cycles
  const mid = offNs + (BigInt(d.beginCycles) + BigInt(d.endCycles)) / 2n;
  const streams = src.createStreams().map((s) => trimStream(s, { beginNs: mid }));
  const out: Message[] = [];
  for await (const b of mux(streams)) out.push(...b);
  const t = out.find((m) => m.type === 'discarded-events');
  assert.ok(t && t.type === 'discarded-events');
  assert.equal(t.count, undefined);
  assert.equal(BigInt(t.beginCycles!), mid - offNs);
  assert.equal(t.endCycles, d.endCycles);
});
