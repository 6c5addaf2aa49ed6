// babeltrace2 2.0.4 prints an empty text field as the last non-empty text of the same field of the same reused
// object (view/text-memory.ts, graph/event-pool.ts): checked here against the installed babeltrace2 on small
// generated traces whose texts sit where the LTTng-UST traces have none: inside arrays and sequences of
// structures (one text per element, kept past a sequence's current length), inside nested sequences, in
// events the fused printers read from the bytes and in events the value printers print (a variant); and in
// packet contexts (packet objects are reused per stream: graph/event-pool.ts PacketPoolModel).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}
const LTT = join(repoRoot(), 'bin', 'ltt');
const BT2 = '/usr/bin/babeltrace2';
const skip = existsSync(BT2) ? false : 'babeltrace2 not installed';
const work = mkdtempSync(join(tmpdir(), 'ltt-text-memory-'));
after(() => rmSync(work, { recursive: true, force: true }));

const METADATA = `/* CTF 1.8 */
typealias integer { size = 8; align = 8; signed = false; } := uint8_t;
typealias integer { size = 32; align = 8; signed = false; } := uint32_t;
typealias integer { size = 64; align = 8; signed = false; } := uint64_t;
typealias integer { size = 8; align = 8; signed = false; encoding = UTF8; } := char_t;
trace { major = 1; minor = 8; byte_order = le; packet.header := struct { uint32_t magic; uint32_t stream_id; uint32_t stream_instance_id; }; };
clock { name = "c"; freq = 1000000000; offset_s = 1600000000; };
typealias integer { size = 64; align = 8; signed = false; map = clock.c.value; } := clk_t;
enum sel : uint8_t { A = 0, B = 1 };
stream { id = 0; packet.context := struct { uint64_t content_size; uint64_t packet_size; clk_t timestamp_begin; clk_t timestamp_end; string host; };
  event.header := struct { uint32_t id; clk_t timestamp; }; };
event { name = "fused"; id = 0; stream_id = 0; fields := struct { uint8_t n; struct { char_t a[4]; uint8_t ln; char_t s[ln]; string str; uint8_t m; struct { char_t t[3]; string u; } inner[m]; } items[n]; string last; }; };
event { name = "values"; id = 1; stream_id = 0; fields := struct { enum sel tag; variant <tag> { uint8_t A; string B; } v; uint8_t n; struct { char_t a[4]; string str; } items[n]; }; };
`;

const WORDS = ['', '', 'x', 'hello', 'é', 'ab\0c', '\0', 'long one', 'q"'].map((w) => Buffer.from(w));

/** Two streams of six packets of random events (seeded); `hosts`: the packet context strings to draw from. */
function makeTrace(name: string, seed: number, hosts: string[]): string {
  let s = seed;
  const rnd = (n: number): number => ((s = (s * 1103515245 + 12345) >>> 0) >>> 8) % n;
  const word = (): Buffer => WORDS[rnd(WORDS.length)]!;
  const cstr = (): Buffer => Buffer.concat([Buffer.from(word().filter((b) => b !== 0)), Buffer.from([0])]);
  const fixed = (n: number): Buffer => {
    const b = Buffer.alloc(n);
    word().copy(b, 0, 0, n);
    return b;
  };
  const event = (t: bigint): Buffer => {
    const head = Buffer.alloc(12);
    const parts: Buffer[] = [head];
    if (rnd(10) < 6) {
      const n = [0, 1, 2, 3, 4, 1, 2][rnd(7)]!;
      parts.push(Buffer.from([n]));
      for (let i = 0; i < n; i++) {
        const seq = Buffer.from(word().filter((b) => b !== 0));
        const m = [0, 0, 1, 2, 3][rnd(5)]!;
        parts.push(fixed(4), Buffer.from([seq.length]), seq, cstr(), Buffer.from([m]));
        for (let j = 0; j < m; j++) parts.push(fixed(3), cstr());
      }
      parts.push(cstr());
    } else {
      head.writeUInt32LE(1, 0);
      const tag = rnd(2);
      parts.push(Buffer.from([tag]), tag === 0 ? Buffer.from([7]) : cstr());
      const n = rnd(4);
      parts.push(Buffer.from([n]));
      for (let i = 0; i < n; i++) parts.push(fixed(4), cstr());
    }
    head.writeBigUInt64LE(t, 4);
    return Buffer.concat(parts);
  };
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'metadata'), METADATA);
  for (let sid = 0; sid < 2; sid++) {
    const packets: Buffer[] = [];
    let t = 1000n + BigInt(sid * 37);
    for (let p = 0; p < 6; p++) {
      const t0 = t;
      const events: Buffer[] = [];
      for (let k = 5 + rnd(21); k > 0; k--) {
        t += BigInt(10 + rnd(190));
        events.push(event(t));
      }
      const host = Buffer.from(hosts[rnd(hosts.length)]! + '\0');
      const head = Buffer.alloc(44);
      const size = BigInt((44 + host.length + events.reduce((n, e) => n + e.length, 0)) * 8);
      head.writeUInt32LE(0xc1fc1fc1, 0);
      head.writeUInt32LE(0, 4);
      head.writeUInt32LE(sid, 8);
      head.writeBigUInt64LE(size, 12);
      head.writeBigUInt64LE(size, 20);
      head.writeBigUInt64LE(t0, 28);
      head.writeBigUInt64LE(t, 36);
      packets.push(head, host, ...events);
    }
    writeFileSync(join(dir, `s${sid}`), Buffer.concat(packets));
  }
  return dir;
}

function view(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { env: { ...process.env, TZ: 'UTC' }, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout.toString('latin1');
}

for (const seed of [1, 3, 5, 6, 8]) {
  test(`texts in arrays and sequences of structures (seed ${seed}): ltt view prints what babeltrace2 prints`, { skip }, () => {
    const dir = makeTrace(`arrays-${seed}`, seed, ['h1']);
    for (const args of [[], ['-n', 'all']]) {
      const bt = view(BT2, [...args, dir]);
      assert.ok(bt.split('\n').length > 100);
      assert.equal(view(process.execPath, [LTT, 'view', ...args, dir]), bt);
    }
  });
}

for (const seed of [1, 3, 4, 6, 8]) {
  test(`empty strings in packet contexts (seed ${seed}): ltt view prints what babeltrace2 prints`, { skip }, () => {
    const dir = makeTrace(`packets-${seed}`, seed, ['', 'h1', 'hé']);
    for (const args of [[], ['--stream-intersection']]) {
      const bt = view(BT2, [...args, dir]);
      assert.ok(bt.includes('host = "h1"'));
      assert.equal(view(process.execPath, [LTT, 'view', ...args, dir]), bt);
    }
  });
}
