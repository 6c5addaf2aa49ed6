// The thread run-view.ts starts when metadata nests too deeply for the main thread's stack: the same view,
// with a deeper stack. Its exit code goes back as a message.

import { parentPort, workerData } from 'node:worker_threads';
import { runView } from './run-view.js';

parentPort!.postMessage(await runView(workerData as string[]));
