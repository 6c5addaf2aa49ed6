// ltt/ust's rings are page-aligned shared memory, so the app's writer thread sends their sub-buffers to disk
// with O_DIRECT (src/ctf/writer/direct-io.ts): the stream file is really open O_DIRECT while tracing (its flags
// in the app's /proc/self/fdinfo), and the trace reads back whole with babeltrace2. On tmpfs (/dev/shm) the
// files are not O_DIRECT: there it is the same copy plus a staging copy (directIoPays()).

import { strict as assert } from 'node:assert';
import { constants, existsSync, mkdtempSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BT, cleanup, runNode, tempDir, traceDirOf, writeScript } from './helpers.js';
import { spawnSync } from 'node:child_process';

const APP = `
import { readdirSync, readlinkSync, readFileSync } from 'node:fs';
const ev = ust.provider('app').event('ev', [ust.int32('i'), ust.string('s')]);
for (let i = 0; i < 200000; i++) ev.emit(i, 'padding text to fill packets');
await new Promise((r) => setTimeout(r, 300));
const flags = [];
for (const fd of readdirSync('/proc/self/fd')) {
  let target;
  try { target = readlinkSync('/proc/self/fd/' + fd); } catch { continue; }
  if (!target.includes('/ust/pid/') || target.includes('/index/') || target.endsWith('/metadata')) continue;
  flags.push(Number.parseInt(/^flags:\\s*([0-7]+)/m.exec(readFileSync('/proc/self/fdinfo/' + fd, 'utf8'))[1], 8));
}
process.stdout.write(JSON.stringify(flags) + '\\n');
`;

const TMPFS_MAGIC = 0x01021994;

/** Traces 200,000 events into `dir`/out; returns the stream files' open flags after checking the trace. */
function traceAndFlags(dir: string): number[] {
  const script = writeScript(dir, 'app.mjs', APP);
  const r = runNode([script], { LTT_UST_OUTPUT: `${dir}/out`, LTT_UST_EVENTS: 'app:*', LTT_UST_SUBBUF_SIZE: '64k', LTT_UST_BLOCKING_TIMEOUT: 'inf' });
  assert.equal(r.code, 0, r.stderr);
  const flags = JSON.parse(r.stdout) as number[];
  assert.ok(flags.length >= 1, `stream files open: ${r.stdout}`);
  const bt = spawnSync(BT, [traceDirOf(`${dir}/out`)], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(bt.status, 0, bt.stderr);
  const lines = bt.stdout.trim().split('\n');
  assert.equal(lines.length, 200000);
  assert.match(lines[199999]!, /app:ev: .*\{ i = 199999, s = "padding text to fill packets" \}$/);
  return flags;
}

test('ring sub-buffers go to disk with O_DIRECT; the trace reads back whole', { skip: process.env.LTT_DIRECT_IO === '0' ? 'LTT_DIRECT_IO=0' : statfsSync(tmpdir()).type === TMPFS_MAGIC ? 'tmpdir is tmpfs' : false }, () => {
  const dir = tempDir('direct');
  try {
    for (const f of traceAndFlags(dir)) assert.ok((f & constants.O_DIRECT) !== 0, `stream file flags ${f.toString(8)} lack O_DIRECT`);
  } finally {
    cleanup(dir);
  }
});

test('on tmpfs the sub-buffers are written without O_DIRECT (no staging copy); the trace reads back whole', { skip: existsSync('/dev/shm') && statfsSync('/dev/shm').type === TMPFS_MAGIC ? false : 'no tmpfs at /dev/shm' }, () => {
  const dir = mkdtempSync(join('/dev/shm', 'ltt-ust-shm-'));
  try {
    for (const f of traceAndFlags(dir)) assert.equal(f & constants.O_DIRECT, 0, `stream file flags ${f.toString(8)} have O_DIRECT on tmpfs`);
  } finally {
    cleanup(dir);
  }
});
