// The tests' kernel consumer of read/write system calls (the real KernelChannelConsumer on an instance of the
// test's own), shared by the consumer tests and the child process of the priority test (consumer-boost-child.ts).

import type { Worker } from 'node:worker_threads';
import * as tracefs from '../../src/ftrace/tracefs.js';
import { parseHeaderEvent, parseHeaderPage, readEventFormat } from '../../src/ftrace/event-format.js';
import { PageDecoder } from '../../src/ftrace/page-decoder.js';
import { lttngNameOf } from '../../src/ftrace/lttng-shaping.js';
import { monotonicClockDef } from '../../src/ftrace/trace-clock.js';
import { CtfTraceWriter } from '../../src/ctf/writer/trace-writer.js';
import type { TraceSink } from '../../src/ctf/writer/sink.js';
import type { StreamWriter } from '../../src/ctf/writer/stream-writer.js';
import { eventIdTable, KernelChannelConsumer, kernelEventHandler, type KernelEventHandler } from '../../src/consumer/kernel-channel-consumer.js';
import { ThreadTable } from '../../src/consumer/thread-table.js';
import type { StagingShared } from '../../src/consumer/page-staging.js';

export const SYSCALLS = ['sys_enter_read', 'sys_exit_read', 'sys_enter_write', 'sys_exit_write'];

/** A consumer of `instance`'s read/write system calls into `sink`, one stream per CPU. */
export async function syscallConsumer(instance: string, sink: TraceSink, o: { pageSize: number; bufferPages: number; packetSize: number; readTimerUs: number; switchTimerUs?: number; startReaderThread?: (staging: StagingShared) => Worker }) {
  const cpus = tracefs.cpuIds();
  const decoder = new PageDecoder(parseHeaderPage(tracefs.readText('events/header_page')), parseHeaderEvent(tracefs.readText('events/header_event')));
  const writer = await CtfTraceWriter.create({ sink, env: { domain: 'kernel' }, clock: monotonicClockDef(), streamClasses: [{ id: 0, header: 'large' }] });
  const streams = new Map<number, StreamWriter>(cpus.map((cpu) => [cpu, writer.openStream({ streamClassId: 0, fileName: `c_${cpu}`, cpuId: cpu, packetSize: o.packetSize })]));
  const handlers = eventIdTable<KernelEventHandler>();
  for (const name of SYSCALLS) {
    const format = readEventFormat('syscalls', name);
    handlers[format.id] = kernelEventHandler(writer, 0, format, 'syscall', lttngNameOf('syscalls', name)).handler;
  }
  const consumer = new KernelChannelConsumer({
    instance, cpus, pageSize: o.pageSize, bufferPages: o.bufferPages, decoder, handlers, streams, overwrite: false,
    readTimerUs: o.readTimerUs, switchTimerUs: o.switchTimerUs ?? 0, commonPidOffset: 4, threads: new ThreadTable(), contextCount: 0,
    ...(o.startReaderThread ? { startReaderThread: o.startReaderThread } : {}),
  });
  return { cpus, writer, streams, consumer };
}

/**
 * What the kernel handed out, dropped (discard mode: the newest records, when the ring is full) and overwrote
 * (overwrite mode: the oldest pages), over the instance's CPUs.
 */
export function kernelCounts(instance: string, cpus: readonly number[]): { handedOut: number; dropped: number; overrun: number } {
  let handedOut = 0;
  let dropped = 0;
  let overrun = 0;
  for (const cpu of cpus) {
    const text = tracefs.readText(`per_cpu/cpu${cpu}/stats`, instance);
    handedOut += Number(/read events:\s*(\d+)/.exec(text)![1]);
    dropped += Number(/dropped events:\s*(\d+)/.exec(text)![1]);
    overrun += Number(/^overrun:\s*(\d+)/m.exec(text)![1]);
  }
  return { handedOut, dropped, overrun };
}

/** A trace sink that writes nothing (the tests count records, not files). */
export const NULL_SINK: TraceSink = { writeMetadata() {}, openStream: () => ({ writePacket() {}, async close() {} }), async close() {} };
