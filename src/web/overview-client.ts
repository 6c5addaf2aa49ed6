// Starts the overview pass (overview-worker.ts) in a worker thread and hands back its result with the first
// screen's tracks (the whole trace at FIRST_PX pixels for the first FIRST_THREADS threads of its layout, as JSON
// text: protocol.ts FirstScreen), or its one-line error; `stop()` ends it early (the tables came first).

import { startSiblingWorker } from '../start-worker.js';
import type { FirstScreen } from './protocol.js';
import { FIRST_PX, FIRST_THREADS } from './timeline-queries.js';
import { overviewTracks, type Overview } from './trace-overview.js';

export interface OverviewPass {
  readonly result: Promise<{ overview: Overview; first: string }>;
  stop(): void;
}

export function startOverview(paths: readonly string[]): OverviewPass {
  const worker = startSiblingWorker(import.meta.url, 'overview-worker', { workerData: { paths: [...paths] } });
  // Not a reason for the process to stay.
  worker.unref();
  const result = new Promise<{ overview: Overview; first: string }>((resolve, reject) => {
    worker.once('message', (m: { overview?: Overview; error?: string }) => {
      void worker.terminate();
      if (!m.overview) return reject(new Error(m.error ?? 'The overview failed'));
      const overview = m.overview;
      const tids = overview.processes.flatMap((p) => p.threads.map((t) => t.tid)).slice(0, FIRST_THREADS);
      const first: FirstScreen = { tids, tracks: overviewTracks(overview, { b: 0, e: overview.duration, px: FIRST_PX, tids }) };
      resolve({ overview, first: JSON.stringify(first) });
    });
    worker.once('error', reject);
    worker.once('exit', () => reject(new Error('The overview stopped')));
  });
  result.catch(() => undefined);
  return { result, stop: () => void worker.terminate() };
}
