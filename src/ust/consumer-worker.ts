// The consumer thread of a process tracing itself (standalone: started by local-session.ts, no session daemon).
//
// Contract: makes the trace's output (a FileTraceSink in workerData's folder, its metadata preamble) and hosts one
// SessionWriter (trace-writer.ts) for the session in workerData, fed by the ring announcements and event
// declarations on the ltt-ust BroadcastChannel. Sets READY once it listens (READY_FAILED, the reason posted on
// `report`, when the output cannot be made); on FINAL it drains everything, rescues the committed part of
// packets still open, closes the files and sets DONE.

import { BroadcastChannel, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { BURST_STAGING_BYTES } from '../ctf/writer/direct-io.js';
import { FileTraceSink } from '../ctf/writer/file-sink.js';
import type { TraceSink } from '../ctf/writer/sink.js';
import { CTRL_DONE, CTRL_FINAL, CTRL_READY, READY_FAILED, type ConsumerInit } from './consumer-protocol.js';
import type { ChannelMessage } from './tracer.js';
import { CHANNEL_NAME } from './channel-name.js';
import { SessionWriter } from './trace-writer.js';
import { raiseConsumerPriority } from './consumer-priority.js';

type WaitAsyncResult = { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t?: number): WaitAsyncResult }).waitAsync.bind(Atomics);
const init = workerData as ConsumerInit;
const ctrl = new Int32Array(init.ctrl);
raiseConsumerPriority();

let sink: TraceSink;
try {
  sink = FileTraceSink.create(init.traceDir, undefined, Math.max(init.ringBytes, BURST_STAGING_BYTES));
  sink.writeMetadata(Buffer.from(init.preamble), init.preamble);
} catch (err) {
  init.report.postMessage((err as Error).message);
  Atomics.store(ctrl, CTRL_READY, READY_FAILED);
  Atomics.notify(ctrl, CTRL_READY);
  throw err;
}
const writer = new SessionWriter(sink, init.sessionId);

const channel = new BroadcastChannel(CHANNEL_NAME);
channel.onmessage = (e: unknown) => {
  try {
    writer.onMessage((e as { data: ChannelMessage }).data);
  } catch (err) {
    process.emitWarning(`ltt/ust consumer: ${(err as Error).message}`);
  }
};

function finish(): void {
  let written: Promise<unknown> = Promise.resolve();
  try {
    // Announcements still queued (posted just before exit) are taken synchronously.
    for (let m = receiveMessageOnPort(channel as never); m !== undefined; m = receiveMessageOnPort(channel as never)) {
      writer.onMessage((m as { message: ChannelMessage }).message);
    }
    // Packets are written behind (direct-io.ts): the main thread waits (bounded) until they are in their files.
    written = writer.finish().then(() => sink.close());
  } finally {
    channel.close();
    const done = (): void => {
      Atomics.store(ctrl, CTRL_DONE, 1);
      Atomics.notify(ctrl, CTRL_DONE);
    };
    written.then(done, done);
  }
}

const fin = waitAsync(ctrl, CTRL_FINAL, 0);
if (fin.async) void fin.value.then(finish);
else finish();
Atomics.store(ctrl, CTRL_READY, 1);
Atomics.notify(ctrl, CTRL_READY);
