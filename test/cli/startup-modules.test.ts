// What an ltt process loads before it runs a command: DuckDB's native module (about 0.3 s of CPU time to load)
// only for the commands that query a trace, not for `ltt view` and the session commands.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { REPO_ROOT } from '../repo-paths.js';

/** Whether a node process that imports `module` and runs `run` has DuckDB's shared object mapped. */
function duckdbMapped(module: string, run: string): boolean {
  const url = pathToFileURL(join(REPO_ROOT, 'dist', 'src', module)).href;
  const code = `const m = await import(${JSON.stringify(url)}); ${run};
    const maps = (await import('node:fs')).readFileSync('/proc/self/maps', 'utf8');
    process.stderr.write(/duckdb/i.test(maps) ? 'MAPPED' : 'NOT MAPPED');`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 });
  assert.match(r.stderr, /MAPPED$/, r.stderr);
  return r.stderr.endsWith('NOT MAPPED') === false;
}

test('ltt view and ltt version do not load DuckDB; the trace engine does', { timeout: 120_000 }, () => {
  assert.equal(duckdbMapped('cli/main.js', "await m.main(['view', '--help'])"), false);
  assert.equal(duckdbMapped('cli/main.js', "await m.main(['version'])"), false);
  // The check sees the module when it is there.
  assert.equal(duckdbMapped('engine/trace-db.js', ''), true);
});

test('ltt view on trace folders goes straight to the viewer; sessions, -t, -e and help go through the command line', async () => {
  const { directViewArgs } = await import('../../src/cli/entry.js');
  const trace = join(REPO_ROOT, 'test', 'view', 'lttng-ust-texts', 'traces', 'uid');
  assert.deepEqual(directViewArgs(['view', trace]), [trace]);
  assert.deepEqual(directViewArgs(['view', '--begin', '17:48', trace, '-o', 'dummy', '--no-delta']), ['--begin', '17:48', '-o', 'dummy', '--no-delta', trace]);
  assert.deepEqual(directViewArgs(['view', '-c', 'sink.utils.counter', './x']), ['-c', 'sink.utils.counter', './x']);
  for (const argv of [
    ['view'],
    ['view', 'my-session'],
    ['view', '-t', trace],
    ['view', '--trace-path', trace],
    ['view', '-e', 'babeltrace2', trace],
    ['view', '--viewer=babeltrace2', trace],
    ['view', '--help', trace],
    ['view', '-h'],
    ['list', trace],
    ['-v', 'view', trace],
  ]) {
    assert.equal(directViewArgs(argv), undefined, argv.join(' '));
  }
  // Both ways print the same.
  const main = pathToFileURL(join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js')).href;
  const viaMain = spawnSync(process.execPath, ['--input-type=module', '-e', `await (await import(${JSON.stringify(main)})).main(['view', '-n', 'all', ${JSON.stringify(trace)}])`], { encoding: 'utf8' });
  const direct = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'ltt'), 'view', '-n', 'all', trace], { encoding: 'utf8' });
  assert.equal(direct.status, viaMain.status);
  assert.equal(direct.stdout, viaMain.stdout);
  assert.equal(direct.stderr, viaMain.stderr);
  assert.ok(direct.stdout.length > 10000);
});
