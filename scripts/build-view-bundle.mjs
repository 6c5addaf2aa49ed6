#!/usr/bin/env node
// Bundles what `ltt view` loads (dist/src/cli/direct-view.js and the ~50 modules under it) into one CommonJS
// file, dist/src/cli/view-bundle.cjs, with esbuild, and makes V8's code cache of it (view-bundle.cache): Node 20
// resolves, reads, links and compiles each ES module on its own, which cost a short view more CPU than decoding
// a million events. The cache is taken after a warm-up view of a small trace of the repository, so that it holds
// the bytecode of the functions a view runs, not only of the top level. Beside them, view-bundle.json lists the
// files bundled, the bundle and the cache with their sizes and modification times: bin/ltt (cli/entry.ts
// loadViewBundle()) takes the bundle only while they all still match (a `tsc` without this script leaves it
// stale; the modules load then). Run by `npm run build` (and prepare, test) after tsc.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIR = join(ROOT, 'dist/src/cli');
const BUNDLE = 'view-bundle.cjs';
const CACHE = 'view-bundle.cache';
const MANIFEST = 'view-bundle.json';
rmSync(join(DIR, MANIFEST), { force: true });
rmSync(join(DIR, CACHE), { force: true });

const { build } = await import('esbuild');
const result = await build({
  entryPoints: [join(DIR, 'direct-view.js')],
  outfile: join(DIR, BUNDLE),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // CommonJS has no import.meta: the loader passes the URL of the one module that uses it (checked below).
  define: { 'import.meta.url': '__ltt_meta_url' },
  metafile: true,
  logLevel: 'warning',
});
const inputs = {};
const metaUsers = [];
for (const path of Object.keys(result.metafile.inputs)) {
  const abs = resolve(ROOT, path);
  if (readFileSync(abs, 'utf8').includes('import.meta')) metaUsers.push(relative(DIR, abs));
  const st = statSync(abs);
  inputs[relative(DIR, abs)] = [st.size, st.mtimeMs];
}
if (metaUsers.length > 1) throw new Error(`more than one bundled module uses import.meta (${metaUsers.join(', ')}): the bundle has one __ltt_meta_url`);
const metaUrlOf = metaUsers[0] ?? 'direct-view.js';
const stamp = (file) => {
  const st = statSync(join(DIR, file));
  inputs[file] = [st.size, st.mtimeMs];
  writeFileSync(join(DIR, MANIFEST), JSON.stringify({ inputs, metaUrlOf }) + '\n');
};
stamp(BUNDLE);

// The warm-up: a pretty view and a dummy view, output to /dev/null, then the cache of every function compiled.
const trace = join(ROOT, 'test/view/lttng-ust-texts/traces/uid');
const views = existsSync(trace) ? [['view', trace], ['view', '-o', 'dummy', trace]] : [];
const entry = pathToFileURL(join(DIR, 'entry.js')).href;
const warm = spawnSync(
  process.execPath,
  [
    '--input-type=module',
    '-e',
    `const { loadViewBundle } = await import(${JSON.stringify(entry)});
     const b = loadViewBundle(undefined, false);
     for (const argv of ${JSON.stringify(views)}) await b.exports.runDirectView(argv);
     (await import('node:fs')).writeFileSync(${JSON.stringify(join(DIR, CACHE))}, b.script.createCachedData());`,
  ],
  // The trace's own warnings (discarded events) are not the build's business.
  { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' },
);
if (warm.status !== 0) throw new Error(`the view bundle's warm-up run failed (${warm.status}): ${warm.stderr}`);
stamp(CACHE);
