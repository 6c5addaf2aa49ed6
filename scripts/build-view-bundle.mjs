#!/usr/bin/env node
// Bundles what `ltt view` loads (dist/src/view/run-view.js and the ~50 modules under it) into one file,
// dist/src/view/run-view.bundle.js, with esbuild: Node 20 resolves, reads and links each ES module on its own,
// which cost a short view a tenth of a second of CPU, more than decoding a million events. Beside it,
// run-view.bundle.json lists the modules bundled with their sizes and modification times: bin/ltt takes the
// bundle only while they all still match (a `tsc` without this script leaves it stale; the modules load then).
// Run by `npm run build` (and prepare, test) after tsc.

import { statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIR = join(ROOT, 'dist/src/view');
const { build } = await import('esbuild');
const result = await build({
  entryPoints: [join(DIR, 'run-view.js')],
  outfile: join(DIR, 'run-view.bundle.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  metafile: true,
  logLevel: 'warning',
});
const inputs = {};
for (const path of Object.keys(result.metafile.inputs)) {
  const abs = resolve(ROOT, path);
  const st = statSync(abs);
  inputs[relative(DIR, abs)] = [st.size, st.mtimeMs];
}
writeFileSync(join(DIR, 'run-view.bundle.json'), JSON.stringify({ inputs }) + '\n');
