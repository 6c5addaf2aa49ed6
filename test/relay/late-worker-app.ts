// An ltt/ust app whose second stream starts late: `node late-worker-app.js N PAUSE_MS SYNC_FILE` emits N
// demo:tick events from its main thread, stays idle in its event loop for PAUSE_MS, then starts a worker thread
// that emits N events 5 ms apart and ends; the main thread, idle all along, exits once SYNC_FILE exists. A live
// viewer attached before it follows the main thread's stream, which is quiet when the worker's stream appears.

import { existsSync } from 'node:fs';
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import * as ust from 'ltt/ust';

const demo = ust.provider('demo');
const tick = demo.event('tick', [ust.int32('i'), ust.string('msg')]);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

if (isMainThread) {
  const [n, pauseMs, sync] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]!];
  for (let i = 0; i < n; i++) if (tick.enabled) tick.emit(i, 'main');
  await sleep(pauseMs);
  const worker = new Worker(new URL(import.meta.url), { workerData: n });
  await new Promise((r) => worker.once('exit', r));
  while (!existsSync(sync)) await sleep(50);
} else {
  for (let i = 0; i < (workerData as number); i++) {
    if (tick.enabled) tick.emit(i, 'worker');
    await sleep(5);
  }
}
