// The import reads each event's fields once, where its header left the stream (import-trace.ts, readBody() of
// msg-iter.ts): what reading them does to the stream must still happen there. A payload field mapped to the
// clock moves the time of the events after it; a sequence's length comes from the payload; a damaged body fails
// the import with the reader's one-line error (file, packet, problem), also through `ltt query`.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTraceDb } from '../../src/engine/trace-db.js';
import { runSql } from '../../src/engine/run-sql.js';
import { LttTestEnv } from '../cli/ltt-test-env.js';
import { openCtfFs } from '../../src/graph/source-ctf-fs.js';
import { EVENT, NEED_DATA } from '../../src/ctf/decode/msg-iter.js';

const METADATA = `/* CTF 1.8 */
typealias integer { size = 8; align = 8; signed = false; } := uint8_t;
typealias integer { size = 32; align = 8; signed = false; } := uint32_t;
typealias integer { size = 64; align = 8; signed = false; } := uint64_t;
trace {
  major = 1; minor = 8; byte_order = le;
  packet.header := struct { uint32_t magic; uint32_t stream_id; };
};
clock { name = "c"; freq = 1000000000; offset_s = 0; };
typealias integer { size = 64; align = 8; signed = false; map = clock.c.value; } := clk64_t;
typealias integer { size = 16; align = 8; signed = false; map = clock.c.value; } := clk16_t;
stream {
  id = 0;
  packet.context := struct { uint64_t packet_size; uint64_t content_size; };
  event.header := struct { uint8_t id; clk16_t timestamp; };
};
event {
  name = "sync"; id = 0; stream_id = 0;
  fields := struct { clk64_t now; uint8_t len; uint32_t vals[len]; integer { size = 32; align = 8; signed = true; } pair[2]; };
};
event {
  name = "tick"; id = 1; stream_id = 0;
  fields := struct { uint32_t seq; };
};
`;

type Ev = { sync: { ts16: number; now: bigint; vals: number[]; pair: [number, number] } } | { tick: { ts16: number; seq: number } };

/** One packet of these events; `cut`: bytes of content dropped at the end (a damaged last event). */
function writeTrace(dir: string, events: Ev[], cut = 0): void {
  writeFileSync(join(dir, 'metadata'), METADATA);
  const out: number[] = [];
  const put = (v: bigint | number, n: number): void => {
    const b = Buffer.alloc(n);
    if (n === 8) b.writeBigUInt64LE(BigInt(v));
    else if (n === 4) b.writeInt32LE(Number(v) | 0);
    else if (n === 2) b.writeUInt16LE(Number(v));
    else b[0] = Number(v);
    for (const x of b) out.push(x);
  };
  put(0xc1fc1fc1, 4);
  put(0, 4);
  const ctxAt = out.length;
  put(0n, 8);
  put(0n, 8);
  for (const e of events) {
    if ('sync' in e) {
      put(0, 1);
      put(e.sync.ts16, 2);
      put(e.sync.now, 8);
      put(e.sync.vals.length, 1);
      for (const v of e.sync.vals) put(v, 4);
      put(e.sync.pair[0], 4);
      put(e.sync.pair[1], 4);
    } else {
      put(1, 1);
      put(e.tick.ts16, 2);
      put(e.tick.seq, 4);
    }
  }
  const content = out.length - cut;
  while (out.length % 8 !== 0) out.push(0);
  const pkt = Buffer.from(out);
  pkt.writeBigUInt64LE(BigInt(pkt.length * 8), ctxAt);
  pkt.writeBigUInt64LE(BigInt(content * 8), ctxAt + 8);
  writeFileSync(join(dir, 'stream_0'), pkt);
}

const EVENTS: Ev[] = [
  { sync: { ts16: 100, now: 5_000_000_000n, vals: [1, 2, 3], pair: [-1, 7] } },
  { tick: { ts16: 200, seq: 1 } },
  { tick: { ts16: 300, seq: 2 } },
  { sync: { ts16: 400, now: 7_000_000_000n, vals: [], pair: [0, -2147483648] } },
  { tick: { ts16: 500, seq: 3 } },
];

/** The clock after an n-bit update (CTF: the low bits replaced, one wrap when they went back). */
function update(clock: bigint, v: number, bits: number): bigint {
  const m = 1n << BigInt(bits);
  const low = clock % m;
  return clock - low + BigInt(v) + (BigInt(v) < low ? m : 0n);
}

describe('engine: each event body read once', () => {
  it('applies what the body does to the stream (a clock field, a sequence length) as it writes the fields', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ltt-import-bodies-'));
    try {
      writeTrace(dir, EVENTS);
      // The times babeltrace2 gives: each event's is the clock after its header, which the sync bodies set.
      let clock = 0n;
      const expected: string[] = [];
      for (const e of EVENTS) {
        if ('sync' in e) {
          clock = update(clock, e.sync.ts16, 16);
          expected.push(`sync ${clock}`);
          clock = e.sync.now;
        } else {
          clock = update(clock, e.tick.ts16, 16);
          expected.push(`tick ${clock}`);
        }
      }
      // Without the body's clock, the ticks would be at 200, 300 and 500 ns.
      assert.equal(expected[1], 'tick 5000003784');
      const db = await openTraceDb([dir], { noCache: true });
      try {
        const got = (await runSql(db.conn, 'SELECT name, ts FROM events ORDER BY id')).rows.map((r) => `${r[0]} ${r[1]}`);
        assert.deepEqual(got, expected);
        const ticks = (await runSql(db.conn, 'SELECT seq FROM tick ORDER BY id')).rows.map((r) => Number(r[0]));
        assert.deepEqual(ticks, [1, 2, 3]);
        const syncs = (await runSql(db.conn, 'SELECT len, vals, pair FROM sync ORDER BY id')).rows.map((r) => r.map(String));
        // Integer lists as JSON text.
        assert.deepEqual(syncs, [['3', '[1,2,3]', '[-1,7]'], ['0', '[]', '[0,-2147483648]']]);
      } finally {
        db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a body the caller leaves unread is stepped over, with its effects, by the next read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ltt-import-bodies-'));
    try {
      writeTrace(dir, EVENTS);
      const read = async (callerReadsBodies: boolean): Promise<string[]> => {
        const source = await openCtfFs([dir], {});
        const [stream] = source.createStreams({ fieldsUnread: true, callerReadsBodies });
        const out: string[] = [];
        for (;;) {
          const m = stream!.nextRaw();
          if (m === undefined) break;
          assert.notEqual(m, NEED_DATA);
          if (m === EVENT) out.push(`${stream!.evEcd!.ec.name} ${stream!.evCycles}`);
        }
        return out;
      };
      const skipped = await read(false);
      assert.equal(skipped.length, EVENTS.length);
      assert.deepEqual(await read(true), skipped);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a damaged body fails the import with the reader\'s one-line error, also through ltt query', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ltt-import-bodies-'));
    const env = new LttTestEnv({ LTT_CACHE: '' });
    try {
      // The last sync's pair is cut short by the packet's content size.
      writeTrace(dir, EVENTS.slice(0, 4), 3);
      await assert.rejects(openTraceDb([dir], { noCache: true }), (err: Error) => {
        assert.match(err.message, /stream_0: packet at offset 0: truncated data: need 32 bits at bit \d+ of the packet but only \d+ bits are available$/);
        assert.equal(err.message.split('\n').length, 1);
        return true;
      });
      env.env['LTT_CACHE'] = join(env.root, 'cache');
      const r = await env.ltt('query', dir, 'SELECT count(*) FROM events');
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^Error: .*stream_0: packet at offset 0: truncated data[^\n]*\n$/);
    } finally {
      await env.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
