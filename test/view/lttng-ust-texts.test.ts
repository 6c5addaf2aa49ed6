// `ltt view` on real LTTng-UST traces whose events carry every lttng_ust_field_* macro, with empty, short,
// long, NUL-holding and cut-UTF-8 texts, from two threads, with lost events (discard mode) and lost packets
// (overwrite mode), per-UID and per-PID buffers: byte for byte babeltrace2 2.0.4's stdout and stderr. Its
// empty text fields show the last text of the reused event object (graph/event-pool.ts, view/text-memory.ts).
// The app and the recording script are in test/view/lttng-ust-texts/. The committed traces are compared with
// babeltrace2's committed output; when babeltrace2, lttng-sessiond and gcc are here (and we are root, for the
// private mount namespace), fresh traces of other seeds and sizes are recorded and compared with a live
// babeltrace2 run.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { runCases, trimCases } from './lttng-ust-texts/trim-cases.js';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}
const ROOT = repoRoot();
const APP = join(ROOT, 'test', 'view', 'lttng-ust-texts');
const LTT = join(ROOT, 'bin', 'ltt');
const BT2 = '/usr/bin/babeltrace2';

function view(cmd: string, args: string[]): { out: string; err: string; code: number | null } {
  const r = spawnSync(cmd, args, { env: { ...process.env, TZ: 'UTC' }, maxBuffer: 256 << 20 });
  return { out: r.stdout.toString('utf8'), err: r.stderr.toString('utf8'), code: r.status };
}

// --stream-intersection: a trimmer between each stream and the muxer (graph/muxer.ts streamRanges); the stream
// it ends gets the range's end time, which decides when the muxer hands it on, and so which event objects
// (graph/event-pool.ts) the events after it reuse. `overwrite-early` (the first two packets of each stream of
// a 4 x 4096 B overwrite recording, seed 4242) has one stream starting 17 us before the other and ending
// before it: the trimmers drop decoded events at both ends, whose texts stay in their event objects.
for (const [name, args, expected] of [
  ['uid', [], 'babeltrace2'],
  ['pid', [], 'babeltrace2'],
  ['overwrite', [], 'babeltrace2'],
  ['overwrite-early', [], 'babeltrace2'],
  ['uid', ['--stream-intersection'], 'stream-intersection.babeltrace2'],
  ['pid', ['--stream-intersection'], 'stream-intersection.babeltrace2'],
  ['overwrite', ['--stream-intersection'], 'stream-intersection.babeltrace2'],
  ['overwrite-early', ['--stream-intersection'], 'stream-intersection.babeltrace2'],
] as const) {
  test(`committed LTTng-UST texts trace (${name}${args.map((a) => ' ' + a).join('')}): ltt view prints babeltrace2's stdout and stderr`, () => {
    const dir = join(APP, 'traces', name);
    const ours = view(process.execPath, [LTT, 'view', ...args, dir]);
    assert.equal(ours.code, 0, ours.err);
    assert.equal(ours.out, readFileSync(join(APP, 'traces', `${name}.${expected}.txt`), 'utf8'));
    assert.equal(ours.err.split(dir).join('@TRACE@'), readFileSync(join(APP, 'traces', `${name}.${expected}.stderr.txt`), 'utf8'));
  });
  test(`committed LTTng-UST texts trace (${name}${args.map((a) => ' ' + a).join('')}): the committed output is babeltrace2's`, { skip: existsSync(BT2) ? false : `${BT2} not installed` }, () => {
    const dir = join(APP, 'traces', name);
    const bt = view(BT2, [...args, dir]);
    assert.equal(bt.out, readFileSync(join(APP, 'traces', `${name}.${expected}.txt`), 'utf8'));
    assert.equal(bt.err.split(dir).join('@TRACE@'), readFileSync(join(APP, 'traces', `${name}.${expected}.stderr.txt`), 'utf8'));
  });
}

function missingTools(): string | false {
  if (process.getuid?.() !== 0) return 'not root (the recording needs a private mount namespace)';
  for (const t of [BT2, '/usr/bin/lttng', '/usr/bin/lttng-sessiond', '/usr/bin/gcc', '/usr/bin/unshare']) {
    if (!existsSync(t)) return `${t} not installed`;
  }
  return false;
}
const skip = missingTools();

// Other traces than the committed ones: seeds and sizes from the clock, so that every run checks the rule
// on texts, loss points and thread interleavings nobody looked at.
const seed = Date.now() % 100000;
const live: Array<{ buffers: string; iterations: number; seed: number; subbuf: number; subbufs: number; mode: string }> = [
  { buffers: 'uid', iterations: 150 + (seed % 200), seed, subbuf: 4096, subbufs: 2, mode: 'discard' },
  { buffers: 'pid', iterations: 300 + (seed % 100), seed: seed + 1, subbuf: 8192, subbufs: 2, mode: 'discard' },
  { buffers: 'uid', iterations: 400, seed: seed + 2, subbuf: 4096, subbufs: 4, mode: 'overwrite' },
];
for (const c of live) {
  const label = `${c.buffers} ${c.mode} ${c.subbufs}x${c.subbuf} B, 2x${c.iterations} events, seed ${c.seed}`;
  test(`freshly recorded LTTng-UST texts trace (${label}): ltt view prints what babeltrace2 prints`, { skip, timeout: 120_000 }, () => {
    const out = mkdtempSync(join(tmpdir(), 'ltt-texts-'));
    try {
      const trace = join(out, 'trace');
      const rec = spawnSync('bash', [join(APP, 'record.sh'), trace, c.buffers, String(c.iterations), String(c.seed), String(c.subbuf), String(c.subbufs), c.mode], {
        encoding: 'utf8',
        timeout: 100_000,
      });
      assert.equal(rec.status, 0, `record.sh: ${rec.stderr}`);
      const bt = view(BT2, [trace]);
      assert.equal(bt.code, 0, bt.err);
      assert.ok(bt.out.split('\n').length > 100, `only ${bt.out.split('\n').length} lines recorded`);
      const ours = view(process.execPath, [LTT, 'view', trace]);
      assert.equal(ours.code, 0, ours.err);
      assert.equal(ours.out, bt.out);
      assert.equal(ours.err, bt.err);
      // Trimmed (the trimmer after the muxer, graph/muxer.ts `trim`): the day of the bounds is the trace's.
      const day = /^\[(\d{4}-\d\d-\d\d) /.exec(view(BT2, [trace, '--clock-date', '--clock-gmt']).out)![1]!;
      const cases = trimCases(bt.out, day);
      assert.equal(runCases(process.execPath, [LTT, 'view'], trace, cases), runCases(BT2, [], trace, cases));
      const si = [['--stream-intersection']];
      assert.equal(runCases(process.execPath, [LTT, 'view'], trace, si), runCases(BT2, [], trace, si));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
}
