#!/usr/bin/env node
// Builds ltt web's page (src/web/page, TypeScript for the browser): type-checks it with its own tsconfig
// (DOM library) and bundles it with esbuild, uPlot and the CSS included, into dist/src/web/page/app.{js,css},
// which `ltt web` serves. Run by `npm run build` (and prepare, test) after tsc.

import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(ROOT, 'src/web/page/tsconfig.json')], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
const { build } = await import('esbuild');
await build({
  entryPoints: [join(ROOT, 'src/web/page/main.ts')],
  outfile: join(ROOT, 'dist/src/web/page/app.js'),
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  logLevel: 'warning',
});
