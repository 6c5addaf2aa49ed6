#!/usr/bin/env node
// Bundles what bin/ltt and bin/ltt-sessiond run into CommonJS files with esbuild, and makes V8's code cache of
// each (src/cli/bundle-loader.cts runs them): Node 20 resolves, reads, links and compiles each ES module on its
// own, which cost a short `ltt view` more CPU than decoding a million events, and every `ltt list` or `ltt start`
// most of its time.
//   dist/src/cli/view-bundle:          direct-view.js and the ~50 modules of the viewer under it;
//   dist/src/cli/cli-bundle:           main.js, the command table and every command module (each still evaluated
//                                      only when its command runs). Its dynamic imports of modules outside src/cli
//                                      (the trace engine, the kernel catalog, the viewer, the web server) stay
//                                      out: the commands that need them import them through Node's loader, so a
//                                      session command carries none of their code;
//   dist/src/sessiond/sessiond-bundle: the session daemon (its worker threads still start on their modules).
// Each cache is taken after a warm-up run of its bundle (views of a small trace of the repository; a few
// commands with no daemon; a daemon started without the kernel domain in a scratch folder), so that it holds the
// bytecode of the functions a run calls, not only of the top level. Beside them, NAME-bundle.json lists the files bundled, the bundle and the cache with their sizes and
// modification times: bin/ltt takes a bundle only while they all still match (a `tsc` without this script
// leaves it stale; the modules load then). Run by `npm run build` (and prepare, test) after tsc.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { build } = await import('esbuild');

/**
 * An esbuild plugin: each bundled module's import.meta.url becomes `__ltt_url(PATH)` (the loader's function of
 * the module's path from the bundle's folder DIR: the URL the module had on its own), its import.meta.resolve
 * `__ltt_resolve`, and, when `leaveOut(file)`, a dynamic import of `file` stays an import() of that file,
 * relative to the bundle, which bundle() then makes `__ltt_import(PATH)` (the loader imports it: a node:vm
 * script has no import() of its own). `leftOut` collects those paths.
 */
const modulePlaces = (DIR, leaveOut, leftOut) => ({
  name: 'ltt-module-places',
  setup(b) {
    b.onResolve({ filter: /^\./ }, (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      const file = resolve(args.resolveDir, args.path);
      if (!leaveOut(file)) return undefined;
      const relativePath = relative(DIR, file);
      const path = relativePath.startsWith('.') ? relativePath : `./${relativePath}`;
      leftOut.add(path);
      return { path, external: true };
    });
    b.onLoad({ filter: /\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const place = JSON.stringify(relative(DIR, args.path));
      const contents = text.replaceAll('import.meta.url', `__ltt_url(${place})`).replaceAll('import.meta.resolve', '__ltt_resolve');
      return { contents, loader: 'js' };
    });
  },
});

/**
 * Builds bundle `name` from `entry` (a file of `folder`, from dist/src), then its code cache after `warmUp`
 * (code run by the warm-up process with `b`, the loaded bundle; `exitAfter`: what it started does not end by
 * itself, the process exits once the cache is written).
 */
async function bundle(name, folder, entry, leaveOut, warmUp, exitAfter = false) {
  const DIR = join(ROOT, 'dist/src', folder);
  const files = { bundle: `${name}-bundle.cjs`, cache: `${name}-bundle.cache`, manifest: `${name}-bundle.json` };
  rmSync(join(DIR, files.manifest), { force: true });
  rmSync(join(DIR, files.cache), { force: true });
  const leftOut = new Set();
  const result = await build({
    entryPoints: [join(DIR, entry)],
    outfile: join(DIR, files.bundle),
    bundle: true,
    absWorkingDir: ROOT,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // Packages (DuckDB's native module) are required where they are, never copied in.
    packages: 'external',
    // Classes keep their names: an error of another copy of a module is matched by its class's name (LttError's
    // Symbol.hasInstance), and esbuild renamed classes that refer to themselves (ControlError became _ControlError).
    keepNames: true,
    plugins: [modulePlaces(DIR, leaveOut, leftOut)],
    // Any other import.meta would be empty in CommonJS.
    logOverride: { 'empty-import-meta': 'error' },
    metafile: true,
    logLevel: 'warning',
  });
  let text = readFileSync(join(DIR, files.bundle), 'utf8');
  for (const path of leftOut) {
    const call = `import(${JSON.stringify(path)})`;
    if (!text.includes(call)) throw new Error(`the ${name} bundle has no ${call} to hand to the loader`);
    text = text.replaceAll(call, `__ltt_import(${JSON.stringify(path)})`);
  }
  // Any other import() would fail in the vm script (an import() in generated code, `import(${...})`, is no call).
  if (/(?<![\w$])import\((?!\$\{)/.test(text)) throw new Error(`the ${name} bundle keeps an import() the loader does not serve`);
  writeFileSync(join(DIR, files.bundle), text);
  const inputs = {};
  for (const path of Object.keys(result.metafile.inputs)) {
    const st = statSync(resolve(ROOT, path));
    inputs[relative(DIR, resolve(ROOT, path))] = [st.size, st.mtimeMs];
  }
  const stamp = (file) => {
    const st = statSync(join(DIR, file));
    inputs[file] = [st.size, st.mtimeMs];
    writeFileSync(join(DIR, files.manifest), JSON.stringify({ inputs }) + '\n');
  };
  stamp(files.bundle);
  const loader = pathToFileURL(join(ROOT, 'dist/src/cli/bundle-loader.cjs')).href;
  const warm = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { loadBundle } = await import(${JSON.stringify(loader)});
       const b = loadBundle(${JSON.stringify(name)}, undefined, false);
       ${warmUp}
       (await import('node:fs')).writeFileSync(${JSON.stringify(join(DIR, files.cache))}, b.script.createCachedData());
       ${exitAfter ? 'process.exit(0);' : ''}`,
    ],
    // What the warm-up prints (a trace's discarded events, the commands' errors with no daemon) is not the build's business.
    { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env: { ...process.env, LTT_HOME: warmHome } },
  );
  if (warm.status !== 0) throw new Error(`the ${name} bundle's warm-up run failed (${warm.status}): ${warm.stderr}`);
  stamp(files.cache);
  return result.metafile;
}

// The warm-ups' $LTT_HOME and runtime folder: no daemon runs there, and nothing is left behind.
const warmHome = mkdtempSync(join(tmpdir(), 'ltt-bundle-warm-up-'));
try {
  // The view: a pretty view and a dummy view, output to /dev/null.
  const trace = join(ROOT, 'test/view/lttng-ust-texts/traces/uid');
  const views = existsSync(trace) ? [['view', trace], ['view', '-o', 'dummy', trace]] : [];
  await bundle('view', 'cli', 'direct-view.js', () => false, `for (const argv of ${JSON.stringify(views)}) await b.exports.runDirectView(argv);`);

  // The command line: a few commands, their output dropped; with -n and an empty runtime folder they find no
  // daemon and start none.
  const cliDir = join(ROOT, 'dist/src/cli') + '/';
  const rundir = join(warmHome, 'run');
  const commands = [
    ['--help'],
    ['version'],
    ['--mi', 'xml', 'version'],
    ['list', '--help'],
    ['-n', '--rundir', rundir, 'list'],
    ['-n', '--rundir', rundir, '--mi', 'json', 'list'],
    ['-n', '--rundir', rundir, 'create', 'warm-up'],
    ['-n', '--rundir', rundir, 'enable-event', '-u', 'a'],
    ['-n', '--rundir', rundir, 'start'],
    ['-n', '--rundir', rundir, 'stop'],
    ['-n', '--rundir', rundir, 'destroy', '-a'],
  ];
  const cli = await bundle(
    'cli',
    'cli',
    'main.js',
    (file) => !file.startsWith(cliDir),
    `const { Writable } = await import('node:stream');
     const io = { stdout: new Writable({ write: (c, e, done) => done() }), stderr: new Writable({ write: (c, e, done) => done() }) };
     for (const argv of ${JSON.stringify(commands)}) await b.exports.runCli(argv, io);`,
  );
  // What the CLI bundle holds: src/cli and what it imports statically (the analyses' and exports' SQL among
  // them, evaluated only when their command runs), never a module that reads a trace, opens DuckDB, serves the
  // web page or traces: one static import too many and every session command would carry that code again.
  const heavy = Object.keys(cli.inputs).filter((path) =>
    /^dist\/src\/(ctf|graph|kernel|consumer|ust|web)\/|^dist\/src\/engine\/(trace-db|import-trace)\.js$|^dist\/src\/view\/run-view\.js$/.test(path),
  );
  if (heavy.length > 0) throw new Error(`the CLI bundle took in ${heavy.join(', ')}: import such modules with import() where they are used`);

  const noSessions = join(warmHome, 'no-sessions');
  mkdirSync(noSessions);
  // The session daemon: started in the foreground in a scratch runtime folder without the kernel domain (no
  // tracefs touched), its cache written once it serves; the warm-up process then exits, and the daemon with it.
  await bundle(
    'sessiond',
    'sessiond',
    'main.js',
    () => false,
    // --load of an empty folder: the autoload folders (the system's /etc/ltt/sessions/auto too) stay unread, so
    // a build never starts a machine's saved sessions.
    `await b.exports.main(['--rundir', ${JSON.stringify(join(warmHome, 'sessiond-run'))}, '--load', ${JSON.stringify(noSessions)}, '--no-kernel', '--quiet']);
     if (process.exitCode) throw new Error('the daemon did not start');`,
    true,
  );
} finally {
  rmSync(warmHome, { recursive: true, force: true });
}
