// `ltt view --begin/--end/--timerange` on the LTTng-UST texts traces
// (test/view/lttng-ust-texts/): byte for byte babeltrace2 2.0.4's stdout and stderr. Its trimmer sits after the
// muxer and reads from the beginning (with a time-of-day bound, one batch first, then a seek back), which
// decides which event object each event reuses and so the text an empty text field shows (graph/muxer.ts
// `trim`, `preRead`). Bounds are taken at fixed fractions of babeltrace2's committed untrimmed output; the
// expected outputs are committed (traces/NAME.trim.babeltrace2.txt) and, when babeltrace2 is installed,
// also produced live.

import { spawnSync } from 'node:child_process';
import { runCases, trimCases } from './lttng-ust-texts/trim-cases.js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}
const ROOT = repoRoot();
const TRACES = join(ROOT, 'test', 'view', 'lttng-ust-texts', 'traces');
const LTT = join(ROOT, 'bin', 'ltt');
const BT2 = '/usr/bin/babeltrace2';
/** The UTC day the committed traces were recorded on. */
const DAY = '2026-12-06';

for (const name of ['uid', 'pid', 'overwrite']) {
  const dir = join(TRACES, name);
  const cases = trimCases(readFileSync(join(TRACES, `${name}.babeltrace2.txt`), 'utf8'), DAY);
  test(`committed LTTng-UST texts trace (${name}) trimmed: ltt view prints babeltrace2's stdout and stderr`, () => {
    const ours = runCases(process.execPath, [LTT, 'view'], dir, cases);
    assert.equal(ours, readFileSync(join(TRACES, `${name}.trim.babeltrace2.txt`), 'utf8'));
  });
  test(`committed LTTng-UST texts trace (${name}) trimmed: the committed output is babeltrace2's`, { skip: existsSync(BT2) ? false : `${BT2} not installed` }, () => {
    assert.equal(runCases(BT2, [], dir, cases), readFileSync(join(TRACES, `${name}.trim.babeltrace2.txt`), 'utf8'));
  });
}

test('--stream-intersection with --begin or --end: no output, exit 1, one line (babeltrace2 cannot seek there)', () => {
  const dir = join(TRACES, 'uid');
  for (const bound of ['--begin=05:53:01', '--end=2026-12-06 05:53:01']) {
    const r = spawnSync(process.execPath, [LTT, 'view', dir, '--stream-intersection', bound], { env: { ...process.env, TZ: 'UTC' } });
    assert.equal(r.status, 1);
    assert.equal(r.stdout.length, 0);
    assert.match(r.stderr.toString(), /^[^\n]*--stream-intersection cannot be combined with --begin, --end or --timerange[^\n]*\n$/);
    if (existsSync(BT2)) {
      const bt = spawnSync(BT2, [dir, '--stream-intersection', bound], { env: { ...process.env, TZ: 'UTC' } });
      assert.equal(bt.status, 1);
      assert.equal(bt.stdout.length, 0);
    }
  }
});
