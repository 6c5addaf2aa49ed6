// An ltt/ust app that lives across a session's runs and does what stdin says, one command a line, answering on
// stdout once done (written synchronously: the answer is out before a block begins):
//   emit K      K demo:tick events from the main thread (msg "run N", N counting the lines so far) -> "done K"
//   threads K   K worker threads at once, each one demo:tick event (a stream each) -> "threads K"
//   block-at-start MS  once the next run has started recording the main thread, the main thread blocks for MS
//               ms (Atomics.wait), its event loop with it: the session's messages to the thread (a run's start
//               and end, a live session's announce requests) wait for it -> "armed" at once, "blocking" before
//               the block, "unblocked" after
// It exits when stdin ends.

import { writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import * as ust from 'ltt/ust';
// ltt/ust's own module (the one 'ltt/ust' loads): its hook runs as a start arms the thread's events.
import { onEnablementChange } from '../../src/ust/tracer.js';

const demo = ust.provider('demo');
const tick = demo.event('tick', [ust.int32('i'), ust.string('msg')]);

if (isMainThread) {
  const say = (line: string): void => {
    writeSync(1, `${line}\n`);
  };
  let lineNo = 0;
  for await (const line of createInterface({ input: process.stdin })) {
    lineNo++;
    const [command, arg] = line.trim().split(/\s+/);
    const n = Number(arg);
    if (command === 'emit') {
      for (let i = 0; i < n; i++) if (tick.enabled) tick.emit(i, `run ${lineNo}`);
      say(`done ${n}`);
    } else if (command === 'threads') {
      // All at once: their streams appear together and share the live session's announcement rounds.
      const workers = Array.from({ length: n }, (_, i) => new Worker(new URL(import.meta.url), { workerData: i }));
      await Promise.all(workers.map((w) => new Promise((r) => w.once('exit', r))));
      say(`threads ${n}`);
    } else if (command === 'block-at-start') {
      // Blocks as soon as a run starts recording the main thread (its stream opened), before the run's other
      // requests to the thread (the live session's announce: an empty packet) reach it.
      // Inside the start's own handling (right after the stream is handed to the consumer), so nothing the run
      // asks of the thread later gets through first (a poll of tick.enabled lost that race now and then).
      await new Promise<void>((resolve) => {
        let armed = true;
        onEnablementChange(() => {
          if (!armed || !tick.enabled) return;
          armed = false;
          say('blocking');
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, n);
          say('unblocked');
          resolve();
        });
        say('armed');
      });
    } else {
      say(`unknown command: ${line}`);
    }
  }
} else if (tick.enabled) {
  tick.emit(workerData as number, 'thread');
}
