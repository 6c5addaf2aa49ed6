// The overview pass (trace-overview.ts) in a worker thread: it reads the trace while the main thread imports it
// into the tables and answers the page. Posts { overview } (its columns transferred) or { error } (one line).

import { parentPort, workerData } from 'node:worker_threads';
import { readOverview } from './trace-overview.js';

const { paths } = workerData as { paths: string[] };
readOverview(paths).then(
  (overview) => parentPort!.postMessage({ overview }, [overview.cpu, overview.ts, overview.dur, overview.tid, overview.byCpu, overview.byTid].map((a) => a.buffer as ArrayBuffer)),
  (err: unknown) => parentPort!.postMessage({ error: (err instanceof Error ? err.message : String(err)).split('\n')[0] }),
);
