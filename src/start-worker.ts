// Starts a worker thread on a module that sits beside its caller. Compiled, that module is the .js file next to
// the caller. Under tsx (development: `npx tsx src/...`) the caller is a .ts file, and a worker thread does not
// inherit tsx's loader when the process was started without `--import tsx`: so the worker registers the loader
// first, then imports the .ts module. One place for this, used by every component that starts a thread, except
// ltt view's deep-stack thread (view/run-view.ts): the view is bundled into one CommonJS file, which gives its
// modules import.meta.url but no import.meta.resolve (this module's, for tsx), and the bundle never runs under tsx.

import { Worker, type WorkerOptions } from 'node:worker_threads';

/** `callerUrl` is the caller's `import.meta.url`; `name` the sibling module's file name without extension. */
export function startSiblingWorker(callerUrl: string, name: string, options: WorkerOptions = {}): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, callerUrl), options);
  const entry = new URL(`./${name}.ts`, callerUrl).href;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { ...options, eval: true });
}
