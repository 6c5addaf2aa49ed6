// The message iterator behind an asynchronous Medium (what the live protocol will use) produces the same
// messages as with files; errors keep the messages decoded before them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openCtfFs } from '../../src/graph/source-ctf-fs.js';
import { mux } from '../../src/graph/muxer.js';
import { CtfStreamIterator, NEED_DATA } from '../../src/ctf/decode/msg-iter.js';
import { FileMedium, type Medium } from '../../src/ctf/decode/medium.js';
import { decodersFor } from '../../src/ctf/decode/trace-decoders.js';
import type { Message } from '../../src/ctf/ir/message.js';
import { CORPUS } from '../graph/corpus-helpers.js';

class AsyncMedium implements Medium {
  requests = 0;
  private readonly file: FileMedium;
  constructor(readonly name: string) {
    this.file = new FileMedium(name);
  }
  get size(): number {
    return this.file.size;
  }
  request(offset: number, length: number): Promise<Uint8Array> {
    this.requests++;
    const bytes = this.file.request(offset, length).slice();
    return new Promise((resolve) => setImmediate(() => resolve(bytes)));
  }
  close(): void {
    this.file.close();
  }
}

function summary(ms: Message[]): string[] {
  return ms.map((m) => {
    if (m.type === 'event') return `${m.type} ${m.ec.name} ${m.cycles} ${JSON.stringify(m.payload, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`;
    if (m.type === 'inactivity') return m.type;
    return `${m.type} ${m.stream.id} ${'cycles' in m ? m.cycles : ''}`;
  });
}

test('asynchronous medium: same messages as the file medium, NEED_DATA once per packet', async () => {
  const trace = join(CORPUS, 'succeed/multi-domains');
  const src = await openCtfFs([trace]);
  const sync: Message[] = [];
  for await (const b of mux(src.createStreams())) sync.push(...b);

  const media: AsyncMedium[] = [];
  const streams = src.traces.flatMap((t) =>
    t.groups.map(
      (g, i) =>
        new CtfStreamIterator(t.streams[i]!, decodersFor(t.info.tc), g.index, {
          quirks: t.quirks,
          openMedium: (p) => {
            const m = new AsyncMedium(p);
            media.push(m);
            return m;
          },
        }),
    ),
  );
  const packets = src.traces.reduce((n, t) => n + t.groups.reduce((k, g) => k + g.index.length, 0), 0);
  const viaAsync: Message[] = [];
  for await (const b of mux(streams)) viaAsync.push(...b);
  assert.deepEqual(summary(viaAsync), summary(sync));
  assert.equal(media.reduce((n, m) => n + m.requests, 0), packets);
});

test('next() returns NEED_DATA until the asynchronous medium delivers', async () => {
  const src = await openCtfFs([join(CORPUS, 'succeed/smalltrace')]);
  const t = src.traces[0]!;
  const it = new CtfStreamIterator(t.streams[0]!, decodersFor(t.info.tc), t.groups[0]!.index, {
    quirks: t.quirks,
    openMedium: (p) => new AsyncMedium(p),
  });
  assert.equal(it.next()!.valueOf() === NEED_DATA, false); // stream beginning
  assert.equal(it.next(), NEED_DATA);
  await it.fill();
  const kinds: string[] = [];
  for (;;) {
    const m = it.next();
    if (m === undefined) break;
    assert.notEqual(m, NEED_DATA);
    kinds.push((m as Message).type);
  }
  assert.deepEqual(kinds, ['packet-beginning', 'event', 'event', 'packet-end', 'stream-end']);
});

for (const trace of ['succeed/multi-domains', 'synthetic/all-types', 'succeed/sequence']) {
  test(`eager decoding gives the same messages and values as lazy decoding (${trace})`, async () => {
    const lazy: Message[] = [];
    const eager: Message[] = [];
    for await (const b of mux((await openCtfFs([join(CORPUS, trace)])).createStreams())) lazy.push(...b);
    for await (const b of mux((await openCtfFs([join(CORPUS, trace)])).createStreams({ eager: true }))) eager.push(...b);
    assert.deepEqual(summary(eager), summary(lazy));
    const contexts = (ms: Message[]): string[] =>
      ms.map((m) => (m.type === 'event' ? JSON.stringify([m.commonContext, m.specificContext], (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)) : ''));
    assert.deepEqual(contexts(eager), contexts(lazy));
  });
}
