// LTTng index files: version 1.1 from the corpus, 1.0 made by hand, and the rejections babeltrace2 makes
// (then the source scans the stream instead and still reads the packets).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, cpSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseIndexFile, encodeIndexFile, CTF_INDEX_1_0_SIZE } from '../../src/ctf/index-file.js';
import { isLttError } from '../../src/errors.js';
import { CORPUS, lines, run } from '../graph/corpus-helpers.js';

test('index 1.1 from LTTng-UST (2packets): big-endian entries', () => {
  const idx = parseIndexFile(readFileSync(join(CORPUS, 'succeed/2packets/index/channel0_2.idx')), 'x.idx');
  assert.equal(idx.major, 1);
  assert.equal(idx.minor, 1);
  assert.equal(idx.entries.length, 2);
  const [a, b] = idx.entries;
  assert.deepEqual(
    { ...a },
    {
      offset: 0,
      packetSize: 4096,
      contentSizeBits: 952,
      tsBegin: 0xea9d1a4ed27f,
      tsEnd: 0xea9dc9f7c431,
      eventsDiscarded: 0,
      streamClassId: 0,
      streamInstanceId: 2,
      seqNum: 0,
    },
  );
  assert.equal(b!.offset, 4096);
  assert.equal(b!.seqNum, 1);
});

test('index 1.0 entries (56 bytes) have no instance id or sequence number', () => {
  const e = {
    offset: 0,
    packetSize: 4096,
    contentSizeBits: 800,
    tsBegin: 10,
    tsEnd: 20,
    eventsDiscarded: 3,
    streamClassId: 1,
  };
  const v11 = encodeIndexFile([e, { ...e, offset: 4096 }]);
  // Rewrite as 1.0: minor 0, entry length 56, entries truncated.
  const v10 = new Uint8Array(16 + 2 * CTF_INDEX_1_0_SIZE);
  v10.set(v11.subarray(0, 16));
  const dv = new DataView(v10.buffer);
  dv.setUint32(8, 0, false);
  dv.setUint32(12, CTF_INDEX_1_0_SIZE, false);
  for (let i = 0; i < 2; i++) v10.set(v11.subarray(16 + i * 72, 16 + i * 72 + 56), 16 + i * 56);
  const idx = parseIndexFile(v10, 'v10.idx');
  assert.equal(idx.minor, 0);
  assert.equal(idx.entries.length, 2);
  assert.equal(idx.entries[1]!.offset, 4096);
  assert.equal(idx.entries[0]!.eventsDiscarded, 3);
  assert.equal(idx.entries[0]!.seqNum, undefined);
  assert.equal(idx.entries[0]!.streamInstanceId, undefined);
});

test('invalid index files are rejected with a one-line CTF_INDEX error', () => {
  const good = readFileSync(join(CORPUS, 'succeed/2packets/index/channel0_2.idx'));
  const bad = (mutate: (b: Uint8Array) => Uint8Array, why: RegExp): void => {
    const b = mutate(Uint8Array.from(good));
    assert.throws(() => parseIndexFile(b, 'bad.idx'), (e: unknown) => isLttError(e) && e.code === 'CTF_INDEX' && why.test(e.message));
  };
  bad((b) => b.subarray(0, 8), /header size/);
  bad((b) => ((b[0] = 0), b), /magic/);
  bad((b) => ((b[7] = 2), b), /version 2/);
  bad((b) => b.subarray(0, b.length - 5), /not a multiple/);
  bad((b) => ((b[16 + 4] = 1), b), /non-monotonic/);
});

test('an index whose sizes disagree with the stream file is ignored and the stream scanned', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltt-idx-'));
  try {
    cpSync(join(CORPUS, 'succeed/2packets'), dir, { recursive: true });
    const idxPath = join(dir, 'index/channel0_2.idx');
    chmodSync(idxPath, 0o644);
    chmodSync(join(dir, 'index'), 0o755);
    const b = readFileSync(idxPath);
    // Second entry's packet size 0x8000 -> 0x18000 bits: the total no longer matches the file.
    b[16 + 72 + 8 + 5] = 0x01;
    writeFileSync(idxPath, b);
    const warnings: string[] = [];
    const { messages, error } = await run([dir], { warn: (m) => warnings.push(m) });
    assert.equal(error, undefined);
    assert.equal(messages.filter((m) => m.type === 'event').length, lines('expected/2packets.txt').length);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /indexed size .* != stream file size/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
