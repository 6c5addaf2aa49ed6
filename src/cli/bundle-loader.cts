// The view bundle's loader, CommonJS (a .cts file) so that bin/ltt, a CommonJS script, can take the bundle
// without starting Node's ES module loader (about 10 ms of CPU per run: its own modules, and node:fs's ES
// facade, which loads the streams): `ltt view` of a short trace is mostly start-up. entry.ts re-exports it.
//
// The bundle (scripts/build-view-bundle.mjs) is CommonJS run through node:vm so that its compiled bytecode can
// come from a cache made at build time: Node 20 caches no code of its own (module.enableCompileCache is Node
// 22), and compiling the view's ~50 modules cost each run more CPU than decoding a million events.

import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Script } from 'node:vm';

/** What build-view-bundle.mjs writes beside the bundle (view-bundle.json). */
export interface BundleManifest {
  /** Files the bundle was made from, and the bundle and its code cache: path (from the bundle's folder) -> [size, mtimeMs]. */
  inputs: Record<string, [number, number]>;
  /** The module whose import.meta.url the bundle's `__ltt_meta_url` stands for (path from the bundle's folder). */
  metaUrlOf: string;
}

export const BUNDLE_FILE = 'view-bundle.cjs';
export const CACHE_FILE = 'view-bundle.cache';
export const MANIFEST_FILE = 'view-bundle.json';

/** This file's folder (dist/src/cli), where the build puts the bundle. */
const HERE = pathToFileURL(__dirname + '/');

/**
 * The manifest of the view bundle in `dir` when every file it was made from, the bundle and its code cache are
 * still the ones on disk; else undefined (a `tsc` without the bundle script leaves it stale).
 */
export function freshViewBundle(dir: URL = HERE): BundleManifest | undefined {
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

/** The bundle's exports (direct-view.ts's: entry.ts gives them their type) and its script. */
export interface LoadedBundleOf<T> {
  readonly exports: T;
  readonly script: Script;
}

/** Runs the view bundle of `dir` (with its code cache when `cache`); undefined when it is missing or stale. */
export function loadViewBundle<T = Record<string, unknown>>(dir: URL = HERE, cache = true): LoadedBundleOf<T> | undefined {
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
  const module = { exports: {} as T };
  const fn = script.runInThisContext() as (...a: unknown[]) => void;
  fn(module.exports, createRequire(file), module, file, fileURLToPath(dir), new URL(manifest.metaUrlOf, dir).href);
  return { exports: module.exports, script };
}
