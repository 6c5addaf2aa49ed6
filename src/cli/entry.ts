// What bin/ltt runs when its bundles (bundle-loader.cts) are missing or stale, module by module. `ltt view`
// goes first to direct-view.ts (trace folders and the viewer's own options: the viewer alone), loaded as the
// view bundle while it is fresh (bin/ltt tries it itself before it loads this module); anything else
// (sessions, -t, -e, help, global options) goes through main.ts, which gives the same result for direct views
// too. bin/ltt runs main.ts from the CLI bundle when that one is fresh.

import { loadBundle, type LoadedBundleOf } from './bundle-loader.cjs';

export { bundleFiles, freshBundle, loadBundle, type BundleManifest, type BundleName } from './bundle-loader.cjs';

type DirectView = typeof import('./direct-view.js');
type Main = typeof import('./main.js');

export type LoadedViewBundle = LoadedBundleOf<DirectView>;
export type LoadedCliBundle = LoadedBundleOf<Main>;

/** Runs the view bundle of `dir` (with its code cache when `cache`); undefined when it is missing or stale. */
export function loadViewBundle(dir?: URL, cache = true): LoadedViewBundle | undefined {
  return loadBundle<DirectView>('view', dir, cache);
}

/** Runs the CLI bundle (main.ts and the commands) of `dir`; undefined when it is missing or stale. */
export function loadCliBundle(dir?: URL, cache = true): LoadedCliBundle | undefined {
  return loadBundle<Main>('cli', dir, cache);
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
