// An ltt/ust app of many short threads: `node many-threads-app.js K` starts K worker threads one after the other,
// each emitting one demo:tick event (a stream of its own), then exits.

import { Worker, isMainThread, workerData } from 'node:worker_threads';
import * as ust from 'ltt/ust';

const demo = ust.provider('demo');
const tick = demo.event('tick', [ust.int32('i'), ust.string('msg')]);

if (isMainThread) {
  const k = Number(process.argv[2]);
  for (let i = 0; i < k; i++) {
    const worker = new Worker(new URL(import.meta.url), { workerData: i });
    await new Promise((r) => worker.once('exit', r));
  }
} else if (tick.enabled) {
  tick.emit(workerData as number, 'thread');
}
