// What bin/ltt runs. `ltt view` goes first to direct-view.ts (trace folders and the viewer's own options: the
// viewer alone), loaded as one bundle with V8's code cache while the bundle is fresh; anything else (sessions,
// -t, -e, help, global options) goes through main.ts, which gives the same result for direct views too.
//
// The bundle (scripts/build-view-bundle.mjs) is CommonJS run through node:vm so that its compiled bytecode can
// come from a cache made at build time: Node 20 caches no code of its own (module.enableCompileCache is Node
// 22), and compiling the view's ~50 modules cost each run more CPU than decoding a million events.

import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

type DirectView = typeof import('./direct-view.js');

export async function entry(argv: string[]): Promise<void> {
  if (argv[0] === 'view') {
    const view = loadViewBundle()?.exports ?? ((await import('./direct-view.js')) as DirectView);
    const code = await view.runDirectView(argv);
    if (code !== undefined) {
      process.exitCode = code;
      return;
    }
  }
  const { main } = await import('./main.js');
  return main(argv);
}

/** What build-view-bundle.mjs writes beside the bundle (view-bundle.json). */
interface BundleManifest {
  /** Files the bundle was made from, and the bundle and its code cache: path (from the bundle's folder) -> [size, mtimeMs]. */
  inputs: Record<string, [number, number]>;
  /** The module whose import.meta.url the bundle's `__ltt_meta_url` stands for (path from the bundle's folder). */
  metaUrlOf: string;
}

export const BUNDLE_FILE = 'view-bundle.cjs';
export const CACHE_FILE = 'view-bundle.cache';
export const MANIFEST_FILE = 'view-bundle.json';

/**
 * The manifest of the view bundle in `dir` when every file it was made from, the bundle and its code cache are
 * still the ones on disk; else undefined (a `tsc` without the bundle script leaves it stale).
 */
export function freshViewBundle(dir = new URL('./', import.meta.url)): BundleManifest | undefined {
  try {
    const manifest = JSON.parse(readFileSync(new URL(MANIFEST_FILE, dir), 'utf8')) as BundleManifest;
    for (const [path, [size, mtimeMs]] of Object.entries(manifest.inputs)) {
      const st = statSync(new URL(path, dir));
      if (st.size !== size || st.mtimeMs !== mtimeMs) return undefined;
    }
    return manifest;
  } catch {
    return undefined;
  }
}

export interface LoadedBundle {
  readonly exports: DirectView;
  readonly script: Script;
}

/** Runs the view bundle of `dir` (with its code cache when `cache`); undefined when it is missing or stale. */
export function loadViewBundle(dir = new URL('./', import.meta.url), cache = true): LoadedBundle | undefined {
  const manifest = freshViewBundle(dir);
  if (manifest === undefined) return undefined;
  const file = fileURLToPath(new URL(BUNDLE_FILE, dir));
  let cachedData: Buffer | undefined;
  if (cache) {
    try {
      cachedData = readFileSync(new URL(CACHE_FILE, dir));
    } catch {
      // No cache: compiled from source.
    }
  }
  const source = readFileSync(file, 'utf8');
  const script = new Script(`(function (exports, require, module, __filename, __dirname, __ltt_meta_url) {${source}\n})`, {
    filename: file,
    cachedData,
  });
  const module = { exports: {} as DirectView };
  const fn = script.runInThisContext() as (...a: unknown[]) => void;
  fn(module.exports, createRequire(file), module, file, fileURLToPath(dir), new URL(manifest.metaUrlOf, dir).href);
  return { exports: module.exports, script };
}
