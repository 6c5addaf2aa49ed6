// The CLI bundle holds its own copy of src/errors.ts, and the modules it loads on demand (trace engine, viewer)
// another: an LttError thrown by one copy must still be an LttError (and its subclass) to the other, or the CLI
// reports a user's mistake as an internal error (`ltt query` on a missing trace did, exit 3).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LttError, isLttError } from '../../src/errors.js';
import { ControlError } from '../../src/control/error-codes.js';
import { REPO_ROOT } from '../repo-paths.js';

test('an LttError of another copy of the module is an LttError here, and only of its own subclass', async () => {
  const url = new URL('../../src/errors.js', import.meta.url);
  url.search = '?copy';
  const other = (await import(url.href)) as typeof import('../../src/errors.js');
  assert.notEqual(other.LttError, LttError, 'a second copy of the module');
  const e = new other.LttError('SOME_CODE', 'one line');
  assert.ok(e instanceof LttError);
  assert.ok(isLttError(e));
  assert.ok(!(e instanceof ControlError), 'a plain LttError is not a ControlError');
  assert.ok(new ControlError('SESS_NOT_FOUND') instanceof LttError);
  assert.ok(!(new Error('x') instanceof LttError));
  assert.ok(!({ name: 'LttError', code: 'X', message: 'm' } instanceof LttError), 'a look-alike without the mark');
});

test('through bin/ltt (the bundle), errors of modules loaded on demand are one line and exit 1', () => {
  for (const args of [['query', '/nonexistent-trace', 'SELECT 1'], ['analyze', 'cputop', '/nonexistent-trace'], ['export', '--format', 'parquet', '/tmp/ltt-export-nowhere', '/nonexistent-trace']]) {
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'ltt'), ...args], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 1, `ltt ${args.join(' ')}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /Internal error/, `ltt ${args.join(' ')}`);
    assert.equal(r.stderr.split('\n').filter((l) => l !== '').length, 1, r.stderr);
  }
});

test('the bundles keep class names (the match across copies goes by name; esbuild renames self-referring classes)', () => {
  for (const bundle of ['dist/src/cli/cli-bundle.cjs', 'dist/src/sessiond/sessiond-bundle.cjs']) {
    const text = readFileSync(join(REPO_ROOT, bundle), 'utf8');
    const renamed = [...text.matchAll(/= class _(\w+Error)\b/g)].map((m) => m[1]!);
    assert.ok(renamed.includes('ControlError'), `${bundle}: the case this test is for`);
    for (const name of renamed) assert.ok(text.includes(`__name(this, "${name}")`), `${bundle}: class ${name} keeps its name`);
  }
});
