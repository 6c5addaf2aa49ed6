// What bin/ltt runs. `ltt view` goes first to direct-view.ts (trace folders and the viewer's own options: the
// viewer alone), loaded as one bundle with V8's code cache while the bundle is fresh (bundle-loader.cts; bin/ltt
// tries it itself before it loads this module); anything else (sessions, -t, -e, help, global options) goes
// through main.ts, which gives the same result for direct views too.

import { loadViewBundle as loadBundle, type LoadedBundleOf } from './bundle-loader.cjs';

export { BUNDLE_FILE, CACHE_FILE, MANIFEST_FILE, freshViewBundle, type BundleManifest } from './bundle-loader.cjs';

type DirectView = typeof import('./direct-view.js');

export type LoadedBundle = LoadedBundleOf<DirectView>;

/** Runs the view bundle of `dir` (with its code cache when `cache`); undefined when it is missing or stale. */
export function loadViewBundle(dir?: URL, cache = true): LoadedBundle | undefined {
  return loadBundle<DirectView>(dir, cache);
}

/** `directTried`: the caller (bin/ltt) already ran the view bundle's runDirectView(argv), which declined. */
export async function entry(argv: string[], directTried = false): Promise<void> {
  if (argv[0] === 'view' && !directTried) {
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
