// The Node versions of LTTng's test apps record what the C apps record: gen-ust-events' tp:tptest (tp.h's
// fields and types, read back by babeltrace2) with its file handshakes and end event, gen-ust-nevents'
// tp:tptest1..5; both run as their C names (procname) and abort on a positional argument, as the C apps do.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const app = (name: string) => fileURLToPath(new URL(`./${name}.js`, import.meta.url));

function run(name: string, dir: string, ...args: string[]) {
  return spawnSync(process.execPath, [app(name), ...args], { env: { ...process.env, LTT_UST_OUTPUT: join(dir, 'trace') }, encoding: 'utf8', timeout: 60_000 });
}

function babeltrace(dir: string): string[] {
  const bt = spawnSync('babeltrace2', [join(dir, 'trace')], { encoding: 'utf8' });
  assert.equal(bt.status, 0, bt.stderr);
  return bt.stdout.split('\n').filter((l) => l !== '')
    // "[time] (delta) HOST:PROCNAME:(PID) EVENT: ..." -> "PROCNAME: EVENT: ..."
    .map((l) => l.replace(/^\[.*?\] \(.*?\) [^:]*:([\w-]+):\(\d+\)/, '$1:'));
}

const SHARED = 'intfield = 1, intfield2 = 0x1, longfield = 1, %netintfield = 1, netintfieldhex = 0x1, arrfield1 = [ [0] = 1, [1] = 2, [2] = 3 ], arrfield2 = "test", ';

test('gen-ust-events: tp:tptest as tp.h declares it, the handshakes, tp:end', { timeout: 120_000 }, () => {
  const dir = mkdtempSync('/tmp/ltt-gen-ust-events-');
  try {
    const r = run('gen-ust-events', dir, '-i', '2', '--sync-after-first-event', join(dir, 'a'), '-c', join(dir, 'c'), '-e', join(dir, 'e'), '--emit-end-event');
    assert.equal(r.status, 0, r.stderr);
    for (const f of ['a', 'c', 'e']) assert.ok(existsSync(join(dir, f)), `${f} touched`);
    const lines = babeltrace(dir);
    assert.equal(lines.length, 3);
    assert.equal(lines[1], 'gen-ust-events: tp:tptest: { cpu_id = 0 }, { ' + SHARED.replace('%', 'signedfield = -1, ') +
      'arrfield3 = [ [0] = 1, [1] = 2, [2] = 3 ], _seqfield1_length = 4, seqfield1 = [ [0] = 116, [1] = 101, [2] = 115, [3] = 116 ], ' +
      '_seqfield2_length = 4, seqfield2 = "test", _seqfield3_length = 3, seqfield3 = [ [0] = 1, [1] = 2, [2] = 3 ], ' +
      '_seqfield4_length = 3, seqfield4 = [ [0] = 1, [1] = 2, [2] = 3 ], stringfield = "test", stringfield2 = "\\\\*", ' +
      'floatfield = 2222, doublefield = 2, enum0 = ( "AUTO: EXPECT 0" : container = 0 ), enum23 = ( "VALUE: 23" : container = 23 ), ' +
      'enum27 = ( "VALUE: 27" : container = 27 ), enum28 = ( "AUTO: EXPECT 28" : container = 28 ), ' +
      'enum202 = ( "RANGE: 101 TO 303" : container = 202 ), enum304 = ( "AUTO: EXPECT 304" : container = 304 ), ' +
      'enumnegative = ( "VALUE: -1" : container = -1 ) }');
    assert.equal(lines[2], 'gen-ust-events: tp:end: { cpu_id = 0 }, { }');
    const positional = run('gen-ust-events', dir, 'stray');
    assert.deepEqual([positional.signal, positional.stderr], ['SIGABRT', 'Error: takes long options only.\n']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('gen-ust-nevents: tp:tptest1..5 per iteration', { timeout: 120_000 }, () => {
  const dir = mkdtempSync('/tmp/ltt-gen-ust-nevents-');
  try {
    const r = run('gen-ust-nevents', dir, '--iter', '2', '--create-in-main', join(dir, 'm'));
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(dir, 'm')));
    const lines = babeltrace(dir);
    assert.deepEqual(lines.map((l) => /tp:tptest\d/.exec(l)![0]), [1, 2, 3, 4, 5, 1, 2, 3, 4, 5].map((n) => `tp:tptest${n}`));
    assert.ok(lines[5]!.includes(SHARED.replace('%', '')), lines[5]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
