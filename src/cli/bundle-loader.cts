// The loader of ltt's bundles, CommonJS (a .cts file) so that bin/ltt and bin/ltt-sessiond, CommonJS scripts,
// can take a bundle without starting Node's ES module loader (about 10 ms of CPU per run: its own modules, and
// node:fs's ES facade, which loads the streams). The bundles (scripts/build-bundles.mjs), each in its entry's folder:
//   view:     cli/direct-view.ts and the viewer under it, for `ltt view` of trace folders (a short view is
//             mostly start-up);
//   cli:      cli/main.ts, the command table and every command module, for every other command (ltt's commands
//             are run by scripts hundreds of times in a row, lttng-style: each one is mostly start-up);
//   sessiond: sessiond/main.ts and the daemon under it, for the daemon's serving copy (the first `ltt create`
//             waits for it).
// entry.ts re-exports this module.
//
// A bundle is CommonJS run through node:vm so that its compiled bytecode can come from a cache made at build
// time: Node 20 caches no code of its own (module.enableCompileCache is Node 22), and compiling the view's ~50
// modules cost each run more CPU than decoding a million events. The modules a bundle leaves out (the CLI
// bundle's dynamic imports outside src/cli: the trace engine, the kernel catalog, the viewer, the web server)
// are imported through Node's own loader, by this module on the bundle's behalf (a script of node:vm has no
// import() of its own: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER is experimental in Node 20, warns on stderr,
// and is lost with a code cache).

import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Script } from 'node:vm';

/** What build-bundles.mjs writes beside a bundle (NAME-bundle.json). */
export interface BundleManifest {
  /** Files the bundle was made from, and the bundle and its code cache: path (from the bundle's folder) -> [size, mtimeMs]. */
  inputs: Record<string, [number, number]>;
}

export type BundleName = 'view' | 'cli' | 'sessiond';

/** Each bundle's folder, from this file's (dist/src/cli). */
const FOLDERS: Record<BundleName, string> = { view: './', cli: './', sessiond: '../sessiond/' };

/** The files of bundle `name`: the bundle, its V8 code cache and its manifest. */
export function bundleFiles(name: BundleName): { bundle: string; cache: string; manifest: string } {
  return { bundle: `${name}-bundle.cjs`, cache: `${name}-bundle.cache`, manifest: `${name}-bundle.json` };
}

/** This file's folder (dist/src/cli). */
const HERE = pathToFileURL(__dirname + '/');

/** The folder of bundle `name` in this build. */
export function bundleFolder(name: BundleName): URL {
  return new URL(FOLDERS[name], HERE);
}

/**
 * The manifest of bundle `name` in `dir` when every file it was made from, the bundle and its code cache are
 * still the ones on disk; else undefined (a `tsc` without the bundle script leaves it stale).
 */
export function freshBundle(name: BundleName, dir: URL = bundleFolder(name)): BundleManifest | undefined {
  try {
    const manifest = JSON.parse(readFileSync(new URL(bundleFiles(name).manifest, dir), 'utf8')) as BundleManifest;
    // A manifest that does not list the bundle itself is not one build-bundles.mjs wrote.
    if (!Object.hasOwn(manifest.inputs, bundleFiles(name).bundle)) return undefined;
    for (const [path, [size, mtimeMs]] of Object.entries(manifest.inputs)) {
      const st = statSync(new URL(path, dir));
      if (st.size !== size || st.mtimeMs !== mtimeMs) return undefined;
    }
    return manifest;
  } catch {
    return undefined;
  }
}

/** A bundle's exports (the entry module's: entry.ts gives them their type) and its script. */
export interface LoadedBundleOf<T> {
  readonly exports: T;
  readonly script: Script;
}

/**
 * The bundles this process ran, by name, folder and cache: bin/ltt runs the view bundle for `ltt view`, and when
 * the words are a session and not trace folders the CLI bundle's view command runs the same viewer from it (not
 * its ~50 modules again through Node's loader: 75 ms of CPU). On globalThis: a bundle that carries its own copy of
 * this module shares the record.
 */
const LOADED = Symbol.for('ltt.loadedBundles');
const loaded: Map<string, LoadedBundleOf<unknown>> = ((globalThis as Record<symbol, unknown>)[LOADED] ??= new Map()) as Map<string, LoadedBundleOf<unknown>>;

/** Runs bundle `name` of `dir` (with its code cache when `cache`), once per process; undefined when it is missing or stale. */
export function loadBundle<T = Record<string, unknown>>(name: BundleName, dir: URL = bundleFolder(name), cache = true): LoadedBundleOf<T> | undefined {
  const key = `${name} ${dir.href} ${cache}`;
  const done = loaded.get(key);
  // Still checked: a bundle rebuilt meanwhile is stale for this process too.
  if (done !== undefined) return freshBundle(name, dir) === undefined ? undefined : (done as LoadedBundleOf<T>);
  const bundle = runBundle<T>(name, dir, cache);
  if (bundle !== undefined) loaded.set(key, bundle);
  return bundle;
}

function runBundle<T>(name: BundleName, dir: URL, cache: boolean): LoadedBundleOf<T> | undefined {
  if (freshBundle(name, dir) === undefined) return undefined;
  const files = bundleFiles(name);
  const file = fileURLToPath(new URL(files.bundle, dir));
  let cachedData: Buffer | undefined;
  if (cache) {
    try {
      cachedData = readFileSync(new URL(files.cache, dir));
    } catch {
      // No cache: compiled from source.
    }
  }
  const source = readFileSync(file, 'utf8');
  // __ltt_url(path): the import.meta.url of the bundled module at `path` (from the bundle's folder), which the
  // build puts in place of each module's import.meta.url; __ltt_resolve, its import.meta.resolve (only
  // start-worker.ts has one, called under tsx only, which never runs a bundle); __ltt_import(path), the
  // import() of a module left out of the bundle (path from the bundle's folder).
  const script = new Script(`(function (exports, require, module, __filename, __dirname, __ltt_url, __ltt_resolve, __ltt_import) {${source}\n})`, {
    filename: file,
    cachedData,
  });
  const module = { exports: {} as T };
  const fn = script.runInThisContext() as (...a: unknown[]) => void;
  const require = createRequire(file);
  const resolveUrl = (specifier: string): string => pathToFileURL(require.resolve(specifier)).href;
  const importLeftOut = (path: string): Promise<unknown> => import(new URL(path, dir).href);
  fn(module.exports, require, module, file, fileURLToPath(dir), (path: string) => new URL(path, dir).href, resolveUrl, importLeftOut);
  return { exports: module.exports, script };
}
