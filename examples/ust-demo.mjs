// ust-demo: `node examples/ust-demo.mjs N` emits N demo:tick events (i = 0..N-1, msg a string) from the main
// thread and N from one worker thread, then exits. Trace it with LTT_UST_OUTPUT=DIR (build first: npm run build).
// Extra modes used by the tests: argv[3] = "throw" ends the main thread with an uncaught exception after emitting,
// "exit" calls process.exit(0) while the worker may still be running, "sigterm" waits for SIGTERM, "stdin" then
// emits K more events from the main thread for each line K read on stdin (answering "done K"), until stdin ends.
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import * as ust from 'ltt/ust';

const demo = ust.provider('demo');
const tick = demo.event('tick', [ust.int32('i'), ust.string('msg')], { logLevel: 'TRACE_INFO' });

function run(n, who) {
  for (let i = 0; i < n; i++) {
    if (tick.enabled) tick.emit(i, who);
  }
}

if (isMainThread) {
  const n = Number(process.argv[2] ?? 10);
  const mode = process.argv[3] ?? '';
  if (!Number.isInteger(n) || n < 0) {
    console.error('usage: node examples/ust-demo.mjs N [throw|exit|sigterm|stdin]');
    process.exit(2);
  }
  const w = new Worker(new URL(import.meta.url), { workerData: { n, mode } });
  run(n, 'main');
  if (mode === 'throw') {
    await new Promise((r) => w.once('exit', r));
    throw new Error('ust-demo: deliberate uncaught exception');
  } else if (mode === 'exit') {
    await new Promise((r) => w.once('message', r));
    process.exit(0);
  } else if (mode === 'sigterm') {
    await new Promise((r) => w.once('exit', r));
    process.stdout.write('ready\n');
    setInterval(() => {}, 1000);
  } else if (mode === 'stdin') {
    await new Promise((r) => w.once('exit', r));
    process.stdout.write('ready\n');
    const { createInterface } = await import('node:readline');
    for await (const line of createInterface({ input: process.stdin })) {
      run(Number(line), 'more');
      process.stdout.write(`done ${line}\n`);
    }
  }
} else {
  run(workerData.n, 'worker');
  if (workerData.mode === 'exit') {
    // Keep the worker alive (its packet stays open) so the main thread's process.exit() must rescue it.
    const { parentPort } = await import('node:worker_threads');
    parentPort.postMessage('done');
    setInterval(() => {}, 1000);
  }
}
