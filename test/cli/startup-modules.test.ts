// What an ltt process loads before it runs a command: DuckDB's native module (about 0.3 s of CPU time to load)
// only for the commands that query a trace, not for `ltt view` and the session commands; a session command
// (`ltt list`, `ltt enable-event`) only its own command module and the control client, never the trace engine,
// a trace reader, the web server or a tracer; bin/ltt's bundles (scripts/build-bundles.mjs) only while they are
// fresh.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { REPO_ROOT } from '../repo-paths.js';
import { CLI_MAIN, LttTestEnv, run } from './ltt-test-env.js';

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

test('bin/ltt takes a bundle only while every module it was made from, the bundle and its code cache are unchanged', async () => {
  const { bundleFiles, freshBundle, loadBundle } = await import('../../src/cli/entry.js');
  const dir = mkdtempSync(join(tmpdir(), 'ltt-view-bundle-'));
  try {
    const url = pathToFileURL(dir + '/');
    const { bundle, cache, manifest } = bundleFiles('view');
    assert.equal(freshBundle('view', url), undefined, 'no bundle');
    assert.equal(loadBundle('view', url), undefined, 'no bundle');
    writeFileSync(join(dir, 'a.js'), 'export const a = 1;\n');
    writeFileSync(join(dir, bundle), "module.exports.runDirectView = async () => __ltt_url('sub/a.js');\n");
    writeFileSync(join(dir, cache), 'not a code cache');
    const stamp = (file: string): [number, number] => {
      const st = statSync(join(dir, file));
      return [st.size, st.mtimeMs];
    };
    const files = ['a.js', bundle, cache];
    const writeManifest = (): void => writeFileSync(join(dir, manifest), JSON.stringify({ inputs: Object.fromEntries(files.map((f) => [f, stamp(f)])) }));
    // A manifest that does not list the bundle is not one the build wrote.
    writeFileSync(join(dir, manifest), JSON.stringify({ inputs: {} }));
    assert.equal(freshBundle('view', url), undefined, 'a manifest without the bundle');
    writeManifest();
    assert.ok(freshBundle('view', url));
    assert.equal(freshBundle('cli', url), undefined, 'the other bundle');
    // A cache V8 rejects costs only the compilation; a bundled module's import.meta.url is the one it had alone.
    const loaded = loadBundle<{ runDirectView(argv: string[]): Promise<string> }>('view', url)!;
    assert.equal(await loaded.exports.runDirectView([]), new URL('sub/a.js', url).href);
    // A rebuild of a module (tsc without the bundle script), of the bundle or of the cache makes the bundle stale.
    for (const file of files) {
      const st = statSync(join(dir, file));
      utimesSync(join(dir, file), st.atime, new Date(st.mtimeMs + 5000));
      assert.equal(freshBundle('view', url), undefined, `${file} rebuilt`);
      assert.equal(loadBundle('view', url), undefined, `${file} rebuilt`);
      writeManifest();
      assert.ok(freshBundle('view', url));
    }
    rmSync(join(dir, 'a.js'));
    assert.equal(freshBundle('view', url), undefined, 'module gone');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // The build's view bundle, when fresh, takes its code cache (V8 accepts it) and prints what the modules print.
  if (freshBundle('view') !== undefined) {
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
  // So does the CLI bundle.
  if (freshBundle('cli') !== undefined) {
    const entry = pathToFileURL(join(REPO_ROOT, 'dist', 'src', 'cli', 'entry.js')).href;
    const r = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `const b = (await import(${JSON.stringify(entry)})).loadCliBundle(); process.stderr.write('rejected: ' + b.script.cachedDataRejected + '\\n'); await b.exports.main(['version'])`],
      { encoding: 'utf8' },
    );
    assert.equal(r.stderr, 'rejected: false\n');
    assert.match(r.stdout, /^ltt version /);
  }
});

/**
 * A module for `node --import` that prints every module the process loads, `LOADED URL` a line on stderr: ES
 * modules as Node's loader loads them (a hook), CommonJS ones (native addons among them) from require's cache
 * at exit. Written into `dir`.
 */
function moduleRecorder(dir: string): string {
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `import { writeSync } from 'node:fs';
export async function load(url, context, next) {
  if (url.startsWith('file:')) writeSync(2, 'LOADED ' + url + '\\n');
  return next(url, context);
}
`,
  );
  writeFileSync(
    join(dir, 'recorder.mjs'),
    `import { createRequire, register } from 'node:module';
import { writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
register(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});
const require = createRequire(import.meta.url);
process.on('exit', () => {
  for (const file of Object.keys(require.cache)) writeSync(2, 'LOADED ' + pathToFileURL(file).href + '\\n');
});
`,
  );
  return pathToFileURL(join(dir, 'recorder.mjs')).href;
}

/** The modules of ltt that carry a trace reader, the trace engine and its users, the web server, a tracer, or DuckDB. */
const HEAVY = /\/dist\/src\/(ctf|graph|engine|analyses|export|web|view|kernel|consumer|ust|auto)\/|\/node_modules\/@duckdb\//;

test('a session command loads its own command module and the control client: no trace engine, reader, web server or tracer', { timeout: 120_000 }, async () => {
  const { freshBundle } = await import('../../src/cli/entry.js');
  const env = new LttTestEnv();
  const recorderDir = mkdtempSync(join(tmpdir(), 'ltt-module-recorder-'));
  try {
    const recorder = moduleRecorder(recorderDir);
    const created = await env.ltt('create', 'startup');
    assert.equal(created.code, 0, created.stderr);
    const bin = join(REPO_ROOT, 'bin', 'ltt');
    const trace = join(REPO_ROOT, 'test', 'view', 'lttng-ust-texts', 'traces', 'pid');
    let runs = 0;
    const loads = async (file: string, argv: string[]): Promise<string[]> => {
      // Each run its own event name (RUN): an enabled rule cannot be enabled again.
      const words = argv.map((w) => w.replace('RUN', String(++runs)));
      const r = await run(process.execPath, ['--import', recorder, file, ...words], { env: env.env });
      assert.equal(r.code, 0, `ltt ${argv.join(' ')}: ${r.stderr}`);
      return r.stderr.split('\n').flatMap((line) => (line.startsWith('LOADED ') ? [line.slice(7)] : []));
    };
    const commandModules = (loaded: string[]): string[] =>
      loaded.flatMap((url) => /\/dist\/src\/cli\/commands\/([^/]+)\.js$/.exec(url)?.[1] ?? []).sort();
    const session: [string[], string[]][] = [
      [['list'], ['list']],
      [['list', 'startup'], ['list']],
      [['--mi', 'xml', 'list'], ['list']],
      [['enable-event', '-u', 'appRUN:*', '-s', 'startup'], ['enable-event']],
      [['status'], ['list', 'status']],
      [['version'], ['version']],
      [['--help'], []],
      [['help', 'create'], ['create']],
    ];
    for (const [argv, own] of session) {
      // Module by module (main.js, as the tests run ltt): the command's own module (help.js: the table's help
      // command), nothing heavy.
      const loaded = await loads(CLI_MAIN, argv);
      assert.ok(loaded.some((url) => url.endsWith('/dist/src/cli/main.js')), 'the recorder sees the modules');
      assert.deepEqual(commandModules(loaded), ['help', ...own].sort(), `ltt ${argv.join(' ')}: command modules`);
      assert.deepEqual(loaded.filter((url) => HEAVY.test(url)), [], `ltt ${argv.join(' ')}`);
      // bin/ltt: from the CLI bundle (no module of src/ loaded on its own but the bundles' loader), nothing heavy.
      const viaBin = await loads(bin, argv);
      const ownModules = viaBin.filter((url) => url.includes('/dist/src/') && !url.endsWith('/dist/src/cli/bundle-loader.cjs'));
      if (freshBundle('cli') !== undefined) assert.deepEqual(ownModules, [], `bin/ltt ${argv.join(' ')}`);
      assert.deepEqual(viaBin.filter((url) => HEAVY.test(url)), [], `bin/ltt ${argv.join(' ')}`);
    }
    // The check sees heavy modules when they load: the viewer's, loaded on their own.
    const viewModules = await loads(join(REPO_ROOT, 'dist', 'src', 'view', 'run-view.js'), []);
    assert.ok(viewModules.filter((url) => HEAVY.test(url)).length > 5, 'the viewer and its reader loaded');
    // bin/ltt's view command (a session, -t, -e) runs the viewer of the view bundle, which bin/ltt ran already to
    // see whether the words were trace folders: not its modules again through Node's loader (75 ms of CPU).
    if (freshBundle('cli') !== undefined && freshBundle('view') !== undefined) {
      for (const argv of [['view', '-t', trace, '-o', 'dummy'], ['view', '-o', 'dummy', '--trace-path', trace]]) {
        const viaBin = await loads(bin, argv);
        const ownModules = viaBin.filter((url) => url.includes('/dist/src/') && !url.endsWith('/dist/src/cli/bundle-loader.cjs'));
        assert.deepEqual(ownModules, [], `bin/ltt ${argv.join(' ')}`);
      }
    }
  } finally {
    await env.cleanup();
    rmSync(recorderDir, { recursive: true, force: true });
  }
});
