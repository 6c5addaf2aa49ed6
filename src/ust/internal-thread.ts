// ltt's own worker threads (the app agent, the local consumer) inherit the app's --import flags: a marker in
// their workerData keeps ltt/ust and ltt/auto from tracing them as if they were the app's.

import { isMainThread, workerData } from 'node:worker_threads';

const MARK = 'lttInternalThread';

/** workerData for one of ltt's threads. */
export function internalWorkerData<T extends object>(data: T): T {
  return { ...data, [MARK]: true };
}

export function isInternalThread(): boolean {
  return !isMainThread && typeof workerData === 'object' && workerData !== null && (workerData as Record<string, unknown>)[MARK] === true;
}
