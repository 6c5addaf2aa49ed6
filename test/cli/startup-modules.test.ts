// What an ltt process loads before it runs a command: DuckDB's native module (about 0.3 s of CPU time to load)
// only for the commands that query a trace, not for `ltt view` and the session commands; the view's modules as
// one bundle (scripts/build-view-bundle.mjs) only while it is fresh.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
  const { directViewArgs } = await import('../../src/cli/direct-view.js');
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

test('bin/ltt takes the view bundle only while every module it was made from, the bundle and its code cache are unchanged', async () => {
  const { BUNDLE_FILE, CACHE_FILE, MANIFEST_FILE, freshViewBundle, loadViewBundle } = await import('../../src/cli/entry.js');
  const dir = mkdtempSync(join(tmpdir(), 'ltt-view-bundle-'));
  try {
    const url = pathToFileURL(dir + '/');
    assert.equal(freshViewBundle(url), undefined, 'no bundle');
    assert.equal(loadViewBundle(url), undefined, 'no bundle');
    writeFileSync(join(dir, 'a.js'), 'export const a = 1;\n');
    writeFileSync(join(dir, BUNDLE_FILE), 'module.exports.runDirectView = async () => __ltt_meta_url;\n');
    writeFileSync(join(dir, CACHE_FILE), 'not a code cache');
    const stamp = (file: string): [number, number] => {
      const st = statSync(join(dir, file));
      return [st.size, st.mtimeMs];
    };
    const files = ['a.js', BUNDLE_FILE, CACHE_FILE];
    const writeManifest = (): void =>
      writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify({ inputs: Object.fromEntries(files.map((f) => [f, stamp(f)])), metaUrlOf: 'a.js' }));
    writeManifest();
    assert.ok(freshViewBundle(url));
    // A cache V8 rejects costs only the compilation; the bundle's import.meta.url is its module's.
    assert.equal(await loadViewBundle(url)!.exports.runDirectView([]), new URL('a.js', url).href);
    // A rebuild of a module (tsc without the bundle script), of the bundle or of the cache makes the bundle stale.
    for (const file of files) {
      const st = statSync(join(dir, file));
      utimesSync(join(dir, file), st.atime, new Date(st.mtimeMs + 5000));
      assert.equal(freshViewBundle(url), undefined, `${file} rebuilt`);
      assert.equal(loadViewBundle(url), undefined, `${file} rebuilt`);
      writeManifest();
      assert.ok(freshViewBundle(url));
    }
    rmSync(join(dir, 'a.js'));
    assert.equal(freshViewBundle(url), undefined, 'module gone');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // The build's bundle, when fresh, takes its code cache (V8 accepts it) and prints what the modules print.
  if (freshViewBundle() !== undefined) {
    const trace = join(REPO_ROOT, 'test', 'view', 'lttng-ust-texts', 'traces', 'pid');
    const entry = pathToFileURL(join(REPO_ROOT, 'dist', 'src', 'cli', 'entry.js')).href;
    const direct = pathToFileURL(join(REPO_ROOT, 'dist', 'src', 'cli', 'direct-view.js')).href;
    const run = (load: string): { stdout: string; stderr: string } =>
      spawnSync(
        process.execPath,
        ['--input-type=module', '-e', `${load}; process.exitCode = await view.runDirectView(['view', '-n', 'all', ${JSON.stringify(trace)}])`],
        { encoding: 'utf8', maxBuffer: 64 << 20 },
      );
    const bundled = run(
      `const b = (await import(${JSON.stringify(entry)})).loadViewBundle(); const view = b.exports; process.stderr.write('rejected: ' + b.script.cachedDataRejected + '\\n')`,
    );
    const modules = run(`const view = await import(${JSON.stringify(direct)})`);
    assert.equal(bundled.stderr, 'rejected: false\n' + modules.stderr);
    assert.ok(bundled.stdout.length > 10000);
    assert.equal(bundled.stdout, modules.stdout);
  }
});
