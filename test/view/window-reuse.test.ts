// ltt view's pretty path recycles its read windows (ctf/decode/medium.ts WindowPool): a trace of several MiB,
// so that many 1 MiB windows are retired while batches, stream queues and text memories (empty strings print
// the event object's last text) still point into them, printed as babeltrace2 prints it.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { REPO_ROOT } from '../repo-paths.js';

const LTT = join(REPO_ROOT, 'bin', 'ltt');
const BT2 = '/usr/bin/babeltrace2';
const skip = existsSync(BT2) ? false : 'babeltrace2 not installed';
const work = mkdtempSync(join(tmpdir(), 'ltt-windows-'));
after(() => rmSync(work, { recursive: true, force: true }));

interface Ev {
  id: number;
  ts: number;
  s: string;
}

/** A stream file of 64 KiB packets holding `events`. */
function stream(events: Ev[]): Buffer {
  const PACKET = 65536;
  const out: Buffer[] = [];
  let k = 0;
  while (k < events.length) {
    const pkt = Buffer.alloc(PACKET);
    let p = 20;
    for (; k < events.length; k++) {
      const e = events[k]!;
      if (p + 12 + e.s.length + 1 + 4 > PACKET) break;
      pkt.writeUInt32LE(e.id, p);
      pkt.writeBigUInt64LE(BigInt(e.ts), p + 4);
      p += 12 + pkt.write(e.s, p + 12, 'latin1') + 1;
      pkt.writeUInt32LE(k, p);
      p += 4;
    }
    pkt.writeUInt32LE(0xc1fc1fc1, 0);
    pkt.writeBigUInt64LE(BigInt(p * 8), 4);
    pkt.writeBigUInt64LE(BigInt(PACKET * 8), 12);
    out.push(pkt);
  }
  return Buffer.concat(out);
}

/**
 * Two streams. A: 4 MiB of events with a string (every 7th empty), and a rare event class whose text is set
 * once at the start and printed empty (so recalled) at the end. B: 2 MiB whose events from the last packet of its first
 * window on come after all of A, so that B's queue holds events of that window while A goes through its windows.
 */
function makeTrace(dir: string): void {
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'metadata'),
    `/* CTF 1.8 */
typealias integer { size = 32; align = 8; signed = false; } := uint32_t;
typealias integer { size = 64; align = 8; signed = false; } := uint64_t;
clock { name = "c"; freq = 1000000000; };
typealias integer { size = 64; align = 8; signed = false; map = clock.c.value; } := uint64_clock_t;
trace { major = 1; minor = 8; byte_order = le; packet.header := struct { uint32_t magic; }; };
stream { packet.context := struct { uint64_t content_size; uint64_t packet_size; };
  event.header := struct { uint32_t id; uint64_clock_t timestamp; }; };
event { name = "ev"; id = 0; fields := struct { string s; uint32_t n; }; };
event { name = "rare"; id = 1; fields := struct { string s; uint32_t n; }; };
`,
  );
  const text = (i: number): string => (i % 7 === 0 ? '' : `text ${i} ` + 'x'.repeat(i % 37));
  const a: Ev[] = [{ id: 1, ts: 1, s: 'the rare text' }];
  for (let i = 0; a.length < 120_000; i++) a.push({ id: 0, ts: 10 * a.length, s: text(i) });
  const end = 10 * a.length;
  a.push({ id: 1, ts: end, s: '' });
  // B: 1,770 events of 37 bytes per packet; from its 16th packet (the last of its first 1 MiB window) on, after A.
  const b: Ev[] = [];
  while (b.length < 60_000) b.push({ id: 0, ts: b.length < 15 * 1770 ? 10 * b.length + 5 : end + b.length, s: 'b'.repeat(20) });
  writeFileSync(join(dir, 'a'), stream(a));
  writeFileSync(join(dir, 'b'), stream(b));
}

test('a trace read through many recycled windows prints as babeltrace2 prints it', { skip, timeout: 300_000 }, () => {
  const dir = join(work, 'trace');
  makeTrace(dir);
  const run = (cmd: string, args: string[]): string => {
    const r = spawnSync(cmd, args, { maxBuffer: 1 << 30, env: { ...process.env, TZ: 'UTC' } });
    assert.equal(r.status, 0, r.stderr.toString());
    return r.stdout.toString('latin1');
  };
  const ours = run(process.execPath, [LTT, 'view', dir]);
  const bt = run(BT2, [dir]);
  assert.ok(ours.length > 6 << 20, `${ours.length}`);
  assert.ok(ours === bt, 'ltt view prints what babeltrace2 prints');
});
