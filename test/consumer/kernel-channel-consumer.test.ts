// The kernel consumer on the real kernel: stop() drains everything the kernel recorded, trackers and
// contexts, per-CPU stream files with tracefile rotation, the switch timer.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { KernelSession, KERNEL_CHANNEL_DEFAULTS } from '../../src/kernel/kernel-session.js';
import * as tracefs from '../../src/ftrace/tracefs.js';
import { parseHeaderEvent, parseHeaderPage, readEventFormat } from '../../src/ftrace/event-format.js';
import { PageDecoder } from '../../src/ftrace/page-decoder.js';
import { lttngNameOf } from '../../src/ftrace/lttng-shaping.js';
import { monotonicClockDef, monotonicNow } from '../../src/ftrace/trace-clock.js';
import { CtfTraceWriter } from '../../src/ctf/writer/trace-writer.js';
import { FileTraceSink } from '../../src/ctf/writer/file-sink.js';
import type { StreamSink, TraceSink } from '../../src/ctf/writer/sink.js';
import type { StreamWriter } from '../../src/ctf/writer/stream-writer.js';
import { setUpInstance } from '../../src/kernel/raw-capture.js';
import { eventIdTable, KernelChannelConsumer, kernelEventHandler, type KernelEventHandler } from '../../src/consumer/kernel-channel-consumer.js';
import { ThreadTable } from '../../src/consumer/thread-table.js';
import { cpuBase, HEAD, LOCK, lockCpu, TAIL, type StagingShared } from '../../src/consumer/page-staging.js';
import { startSiblingWorker } from '../../src/start-worker.js';
import { kernelCounts, NULL_SINK, SYSCALLS, syscallConsumer } from './syscall-consumer.js';
import { Worker } from 'node:worker_threads';

async function withSession<T>(name: string, fn: (s: KernelSession, dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ltt-consumer-${name}-`));
  const s = await KernelSession.create({ sessionName: `test-c-${name}-${process.pid}`, traceDir: dir, hostname: 'ltthost', creationTime: new Date() });
  try {
    return await fn(s, dir);
  } finally {
    const instances = Object.values(s.instanceNames());
    await s.destroy();
    for (const i of instances) assert.equal(tracefs.instanceExists(i), false, `instance ${i} removed`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The index files' sizes once `enough` holds of them (looked at after `minMs`, then every 50 ms for up to 5 s),
 * or as they are then.
 */
async function untilIndexed(dir: string, enough: (sizes: number[]) => boolean, minMs: number): Promise<number[]> {
  await new Promise((r) => setTimeout(r, minMs));
  const sizes = (): number[] => fs.readdirSync(path.join(dir, 'kernel', 'index')).map((f) => fs.statSync(path.join(dir, 'kernel', 'index', f)).size);
  for (let waited = 0; waited < 5000 && !enough(sizes()); waited += 50) await new Promise((r) => setTimeout(r, 50));
  return sizes();
}

function babeltraceLines(dir: string): string[] {
  const r = spawnSync('/usr/bin/babeltrace2', [dir], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '');
}

test('the consumer takes many pages per read system call, and still every record the kernel hands out', async () => {
  const instance = `ltt-test-readv-${process.pid}`;
  // 16 MiB per CPU holds the whole workload (about 7 MB of records): nothing is read until stop.
  const pageSize = setUpInstance({ instance, pageSize: 4096, bufferKb: 16384, events: SYSCALLS.map((e) => `syscalls/${e}`) });
  try {
    const { cpus, writer, consumer } = await syscallConsumer(instance, NULL_SINK, { pageSize, bufferPages: 4096, packetSize: 1 << 20, readTimerUs: 0 });
    await consumer.start();
    tracefs.writeText('tracing_on', '1', instance);
    execFileSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=50000'], { stdio: 'ignore' });
    tracefs.writeText('tracing_on', '0', instance);
    consumer.stop();
    await writer.close();
    const st = consumer.stats();
    const pages = st.reduce((a, x) => a + x.pages, 0);
    const reads = st.reduce((a, x) => a + x.reads, 0);
    const { handedOut } = kernelCounts(instance, cpus);
    assert.ok(pages > 500, `${pages} pages read`);
    // One read(2) per page would be `pages` calls.
    assert.ok(reads * 8 <= pages, `${reads} read calls for ${pages} pages`);
    assert.equal(st.reduce((a, x) => a + x.discarded, 0), 0);
    assert.equal(st.reduce((a, x) => a + x.events, 0), handedOut, 'every record the kernel handed out is written');
  } finally {
    tracefs.rmdirInstance(instance);
  }
});

test('an instance set up for the consumer tests discards, as the consumer is told: a ring read only at stop drops the newest records, each counted', async () => {
  // The consumer tests tell the consumer "discard" and compare its discarded count with the kernel's "dropped
  // events". A new instance overwrites by default: there a full ring overwrites its oldest pages ("overrun") and
  // flags the next page read, which the consumer counts as discarded while "dropped events" stays 0. The tests
  // whose reader falls behind only on a loaded machine failed then (e.g. "339 !== 0"); here the ring (256 KiB)
  // is read only at stop, after about 2.8 MB of records, so it overflows on any machine.
  const instance = `ltt-test-discard-${process.pid}`;
  const pageSize = setUpInstance({ instance, pageSize: 4096, bufferKb: 256, events: SYSCALLS.map((e) => `syscalls/${e}`) });
  try {
    assert.equal(tracefs.readText('options/overwrite', instance).trim(), '0', 'the instance is in discard mode');
    const { cpus, writer, consumer } = await syscallConsumer(instance, NULL_SINK, { pageSize, bufferPages: (256 * 1024) / pageSize, packetSize: 1 << 20, readTimerUs: 0 });
    await consumer.start();
    tracefs.writeText('tracing_on', '1', instance);
    execFileSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=20000'], { stdio: 'ignore' });
    tracefs.writeText('tracing_on', '0', instance);
    consumer.stop();
    await writer.close();
    const st = consumer.stats();
    const { handedOut, dropped, overrun } = kernelCounts(instance, cpus);
    assert.ok(dropped > 0, `the kernel dropped ${dropped} records (overwrote ${overrun})`);
    assert.equal(overrun, 0, 'the kernel overwrote nothing');
    assert.equal(st.reduce((a, x) => a + x.discarded, 0), dropped, 'every record the kernel dropped is counted, and no other');
    assert.equal(st.reduce((a, x) => a + x.events, 0), handedOut, 'every record the kernel handed out is written');
  } finally {
    tracefs.rmdirInstance(instance);
  }
});

test('a burst the ring cannot hold is kept while the consumer thread is busy: the page reader thread stages it', async () => {
  // The ring holds 1 MiB per CPU, the burst about 2.8 MB of records. The consumer's own thread is blocked for the
  // whole burst (execFileSync), as a loaded machine keeps it off the CPU: before the page reader thread, nothing
  // read the ring meanwhile and the kernel dropped most of the burst. The reader needs a CPU while dd has the
  // other: a host that takes both away for a moment (this VM's steal) makes the kernel drop a few hundred records,
  // so up to three bursts are tried, each asserting in full; the last one's failure is the test's.
  for (let attempt = 1; ; attempt++) {
    try {
      await burstKeptOnce(attempt);
      return;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
});

async function burstKeptOnce(attempt: number): Promise<void> {
  const instance = `ltt-test-burst-${process.pid}-${attempt}`;
  const pageSize = setUpInstance({ instance, pageSize: 4096, bufferKb: 1024, events: SYSCALLS.map((e) => `syscalls/${e}`) });
  let consumer: KernelChannelConsumer | undefined;
  try {
    const made = await syscallConsumer(instance, NULL_SINK, { pageSize, bufferPages: (1024 * 1024) / pageSize, packetSize: 1 << 20, readTimerUs: 10_000 });
    const { cpus, writer } = made;
    consumer = made.consumer;
    await consumer.start();
    tracefs.writeText('tracing_on', '1', instance);
    execFileSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=20000'], { stdio: 'ignore' });
    tracefs.writeText('tracing_on', '0', instance);
    consumer.stop();
    await writer.close();
    const st = consumer.stats();
    const { handedOut, dropped } = kernelCounts(instance, cpus);
    const events = st.reduce((a, x) => a + x.events, 0);
    assert.ok(events > 60_000, `${events} records: more than the ring holds`);
    assert.equal(dropped, 0, 'the kernel dropped nothing');
    assert.equal(st.reduce((a, x) => a + x.discarded, 0), 0);
    assert.equal(events, handedOut, 'every record the kernel handed out is written');
  } finally {
    consumer?.close();
    tracefs.rmdirInstance(instance);
  }
}

test('the page reader wakes the consumer once per half ring of staged pages, not once per pass', async () => {
  // 4 MiB per CPU (1024 pages): a busy channel's passes stage an eighth of a ring each, every few ms. The
  // consumer used to be told of every such pass (a wake-up of its thread each); it is told once half a ring is
  // staged, when a pass finds nothing more, or a period later. dd runs in a child process while this thread
  // waits, so the reader's messages are handled as they come.
  const instance = `ltt-test-wakeups-${process.pid}`;
  const pageSize = setUpInstance({ instance, pageSize: 4096, bufferKb: 4096, events: SYSCALLS.map((e) => `syscalls/${e}`) });
  let consumer: KernelChannelConsumer | undefined;
  try {
    const made = await syscallConsumer(instance, NULL_SINK, { pageSize, bufferPages: (4096 * 1024) / pageSize, packetSize: 1 << 20, readTimerUs: 200_000 });
    const { cpus, writer } = made;
    consumer = made.consumer;
    await consumer.start();
    tracefs.writeText('tracing_on', '1', instance);
    const dd = spawn('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=400000'], { stdio: 'ignore' });
    await new Promise((resolve) => dd.on('exit', resolve));
    tracefs.writeText('tracing_on', '0', instance);
    const wakeups = consumer.readerWakeups;
    const staged = consumer.stats().reduce((a, x) => a + x.pages, 0);
    consumer.stop();
    await writer.close();
    const st = consumer.stats();
    const { handedOut } = kernelCounts(instance, cpus);
    assert.ok(staged > 2000, `${staged} pages staged while tracing`);
    assert.ok(wakeups > 0, 'the consumer decoded while tracing');
    // Told per pass: at least one wake-up per eighth of a ring (128 pages); per half ring: one per 512 pages, and
    // one when the reader finds the ring empty (dd off the CPU for longer than a pass).
    assert.ok(wakeups * 256 <= staged, `${wakeups} wake-ups for ${staged} pages`);
    assert.equal(st.reduce((a, x) => a + x.events, 0), handedOut, 'every record the kernel handed out is written');
  } finally {
    consumer?.close();
    tracefs.rmdirInstance(instance);
  }
});

test('a page reader thread that fails to load or throws at start fails start() at once, with its error in one line', async (t) => {
  const instance = `ltt-test-rstart-${process.pid}`;
  const pageSize = setUpInstance({ instance, pageSize: 4096, bufferKb: 256, events: SYSCALLS.map((e) => `syscalls/${e}`) });
  try {
    const cases: Array<[string, (staging: StagingShared) => Worker, RegExp]> = [
      ['a module that fails to load', (st) => new Worker(new URL('./no-such-page-reader.js', import.meta.url), { workerData: st }), /no-such-page-reader/],
      ['a throw at start', (st) => new Worker('throw new Error("no staging for this reader")', { eval: true, workerData: st }), /no staging for this reader/],
    ];
    for (const [what, startReaderThread, cause] of cases) {
      await t.test(what, async () => {
        const { consumer } = await syscallConsumer(instance, NULL_SINK, { pageSize, bufferPages: 64, packetSize: 1 << 16, readTimerUs: 10_000, startReaderThread });
        const t0 = performance.now();
        // Before: start() waited 30 s for the thread, then said only that it "did not start".
        await assert.rejects(consumer.start(), (err: Error) => cause.test(err.message) && !err.message.includes('\n'));
        assert.ok(performance.now() - t0 < 5000, `failed after ${Math.round(performance.now() - t0)} ms`);
        consumer.close();
      });
    }
  } finally {
    tracefs.rmdirInstance(instance);
  }
});

/**
 * A syscall consumer of `instance` (1 MiB rings, 10 ms read timer) whose page reader thread is the real one, started
 * as the consumer starts it, but with handles to kill it by and to its staging.
 */
async function killableReaderConsumer(instance: string, pageSize: number) {
  let thread: Worker | undefined;
  let staging: StagingShared | undefined;
  const consumerModule = new URL(`../../src/consumer/kernel-channel-consumer${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;
  const startReaderThread = (st: StagingShared): Worker => {
    staging = st;
    return (thread = startSiblingWorker(consumerModule, 'kernel-page-reader', { workerData: st }));
  };
  const made = await syscallConsumer(instance, NULL_SINK, { pageSize, bufferPages: (1024 * 1024) / pageSize, packetSize: 1 << 20, readTimerUs: 10_000, startReaderThread });
  return { made, thread: () => thread!, staging: () => staging! };
}

test('a page reader thread killed mid-run: its CPU locks are released, what it staged is decoded, start() then fails with one line', async () => {
  const instance = `ltt-test-rdie-${process.pid}`;
  const pageSize = setUpInstance({ instance, pageSize: 4096, bufferKb: 1024, events: SYSCALLS.map((e) => `syscalls/${e}`) });
  let consumer: KernelChannelConsumer | undefined;
  try {
    const { made, thread, staging } = await killableReaderConsumer(instance, pageSize);
    consumer = made.consumer;
    await consumer.start();
    tracefs.writeText('tracing_on', '1', instance);
    // This thread (the consumer's) is blocked meanwhile: the burst is staged by the reader, not decoded.
    execFileSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=20000'], { stdio: 'ignore' });
    tracefs.writeText('tracing_on', '0', instance);
    const ctl = new Int32Array(staging().control);
    const slots = made.cpus.map((_, i) => i);
    const staged = () => slots.reduce((a, i) => a + ((Atomics.load(ctl, cpuBase(i) + HEAD) - Atomics.load(ctl, cpuBase(i) + TAIL)) | 0), 0);
    assert.ok(staged() > 0, 'the reader staged pages');
    // Killed in the middle of a pass: the CPUs' locks are held (taken here as its pass takes them, then the thread
    // goes). All of them: a thread killed inside its readv(2) loses the pages the kernel had handed it, which no one
    // can count, so the kill must not come in a read (CI: 6,893 records handed out and never written).
    for (const i of slots) lockCpu(ctl, i);
    await thread().terminate();
    for (let waited = 0; waited < 5000 && Atomics.load(ctl, cpuBase(0) + LOCK) !== 0; waited += 20) await sleep(20);
    for (const i of slots) assert.equal(Atomics.load(ctl, cpuBase(i) + LOCK), 0, `CPU slot ${i}'s lock released`);
    assert.equal(staged(), 0, 'every staged page decoded');
    // stop() takes each CPU's lock: it would wait forever on the dead thread's.
    consumer.stop();
    const { handedOut, dropped } = kernelCounts(instance, made.cpus);
    const st = consumer.stats();
    assert.equal(st.reduce((a, x) => a + x.events, 0), handedOut, 'every record the kernel handed out is written');
    assert.equal(st.reduce((a, x) => a + x.discarded, 0), dropped, 'every record the kernel dropped is counted');
    await assert.rejects(consumer.start(), (err: Error) => /page reader thread has ended/.test(err.message) && !err.message.includes('\n'));
    await made.writer.close();
  } finally {
    consumer?.close();
    tracefs.rmdirInstance(instance);
  }
});

test('a timer drain that meets the lock of a page reader thread killed holding it goes on once the thread is gone', async () => {
  const instance = `ltt-test-rlock-${process.pid}`;
  const pageSize = setUpInstance({ instance, pageSize: 4096, bufferKb: 1024, events: SYSCALLS.map((e) => `syscalls/${e}`) });
  let consumer: KernelChannelConsumer | undefined;
  let watchdog: LockWatchdog | undefined;
  try {
    const { made, thread, staging } = await killableReaderConsumer(instance, pageSize);
    consumer = made.consumer;
    await consumer.start();
    tracing(instance, 20_000);
    const ctl = new Int32Array(staging().control);
    // The thread killed in the middle of a pass, the CPUs' locks held (taken here as its pass takes them; all of
    // them, so that the kill does not come inside a read, see the test above).
    for (let i = 0; i < made.cpus.length; i++) lockCpu(ctl, i);
    // On the old code the drain below waited for ever: a second thread frees the lock after 10 s so that it
    // fails instead of hanging.
    watchdog = lockWatchdog(ctl, cpuBase(0) + LOCK, 10_000);
    const ended = thread().terminate();
    // As the switch timer's tick that runs before the thread's exit event is handled (this thread is busy).
    const t0 = performance.now();
    consumer.drain();
    const took = performance.now() - t0;
    assert.equal(watchdog.cancel(), false, `the drain waited until the watchdog freed the lock (${Math.round(took)} ms)`);
    assert.ok(took < 5000, `the drain took ${Math.round(took)} ms`);
    assert.equal(Atomics.load(ctl, cpuBase(0) + LOCK), 0, 'the drain released the lock it took over');
    // Then the exit event: the reader's end is handled as before (stop() completes, every record is counted).
    await ended;
    consumer.stop();
    const { handedOut, dropped } = kernelCounts(instance, made.cpus);
    const st = consumer.stats();
    assert.equal(st.reduce((a, x) => a + x.events, 0), handedOut, 'every record the kernel handed out is written');
    assert.equal(st.reduce((a, x) => a + x.discarded, 0), dropped, 'every record the kernel dropped is counted');
    await assert.rejects(consumer.start(), (err: Error) => /page reader thread has ended/.test(err.message) && !err.message.includes('\n'));
    await made.writer.close();
  } finally {
    watchdog?.cancel();
    consumer?.close();
    tracefs.rmdirInstance(instance);
  }
});

interface LockWatchdog {
  /** Stops the watchdog; whether it had fired (freed the lock). */
  cancel(): boolean;
}

/** A thread that frees the lock word ctl[at] after `ms` unless cancelled first (this thread may be blocked meanwhile). */
function lockWatchdog(ctl: Int32Array, at: number, ms: number): LockWatchdog {
  const flag = new Int32Array(new SharedArrayBuffer(8));
  const w = new Worker(
    `const { workerData: { ctl, flag, at, ms } } = require('node:worker_threads');
    if (Atomics.wait(flag, 0, 0, ms) === 'timed-out') { Atomics.store(flag, 1, 1); Atomics.store(ctl, at, 0); Atomics.notify(ctl, at); }`,
    { eval: true, workerData: { ctl, flag, at, ms } },
  );
  w.unref();
  return {
    cancel() {
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      return Atomics.load(flag, 1) === 1;
    },
  };
}

/**
 * A disk that takes nothing (as a stalled one behind a full staging) until release(), or a few packets at a time
 * (grant()): shared by the heldFileSink()s of the channels that write to it, whichever writes first takes the room.
 */
interface SlowDisk {
  hold(): void;
  release(): void;
  /** Room for `packets` packets, then none again. */
  holdAfter(packets: number): void;
  /** Room for `packets` packets, and the waiters told (a disk that takes a little now and then). */
  grant(packets: number): void;
}

function slowDisk(): SlowDisk & { held(): boolean; take(): void; wait(cb: () => void): void } {
  let held = true;
  /** Packets taken before the output has no room again (holdAfter). */
  let budget = Infinity;
  let waiters: Array<() => void> = [];
  const tell = () => {
    const cbs = waiters;
    waiters = [];
    for (const cb of cbs) cb();
  };
  return {
    held: () => held,
    take() {
      if (held) throw new Error('no room in staging');
      if (--budget <= 0) held = true;
    },
    wait: (cb) => waiters.push(cb),
    hold: () => (held = true),
    holdAfter(packets) {
      held = false;
      budget = packets;
    },
    release() {
      held = false;
      budget = Infinity;
      tell();
    },
    grant(packets) {
      held = false;
      budget = packets;
      tell();
    },
  };
}

/**
 * The real file sink, whose streams have no room (as its staging behind a stalled disk) until the disk has: a
 * packet handed over meanwhile fails as the file sink's does without room, and whenRoom() callbacks wait.
 */
function heldFileSink(dir: string, disk = slowDisk()): { sink: TraceSink } & SlowDisk {
  const inner = FileTraceSink.create(dir);
  const sink: TraceSink = {
    writeMetadata: (packets) => inner.writeMetadata(packets),
    openStream(info): StreamSink {
      const s = inner.openStream(info);
      return {
        writePacket(packet, index, lost) {
          disk.take();
          s.writePacket(packet, index, lost);
        },
        hasRoom: (bytes) => !disk.held() && (s.hasRoom?.(bytes) ?? true),
        whenRoom(cb) {
          if (disk.held()) disk.wait(cb);
          else if (s.whenRoom) s.whenRoom(cb);
          else queueMicrotask(cb);
        },
        settle: () => s.settle?.() ?? Promise.resolve(),
        close: () => s.close(),
      };
    },
    close: () => inner.close(),
  };
  return { sink, hold: disk.hold, holdAfter: disk.holdAfter, release: disk.release, grant: disk.grant };
}

/** A kernel channel of syscall records read by the page reader thread, written through heldFileSink(). */
async function heldChannel(name: string, bufferKb: number, packetSize: number, switchTimerUs = 0, disk?: ReturnType<typeof slowDisk>) {
  const instance = `ltt-test-${name}-${process.pid}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ltt-consumer-${name}-`));
  const pageSize = setUpInstance({ instance, pageSize: 4096, bufferKb, events: SYSCALLS.map((e) => `syscalls/${e}`) });
  try {
    return await heldChannelIn(instance, dir, pageSize, bufferKb, packetSize, switchTimerUs, disk);
  } catch (err) {
    tracefs.rmdirInstance(instance);
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function heldChannelIn(instance: string, dir: string, pageSize: number, bufferKb: number, packetSize: number, switchTimerUs: number, disk?: ReturnType<typeof slowDisk>) {
  const held = heldFileSink(dir, disk);
  const { cpus, writer, streams, consumer } = await syscallConsumer(instance, held.sink, { pageSize, bufferPages: (bufferKb * 1024) / pageSize, packetSize, readTimerUs: 10_000, switchTimerUs });
  const kernelStats = () => kernelCounts(instance, cpus);
  const sum = <K extends 'pages' | 'events' | 'discarded'>(k: K) => consumer.stats().reduce((a, x) => a + x[k], 0);
  const unwritten = () => [...streams.values()].reduce((a, s) => a + s.stats.unwrittenPackets, 0);
  const cleanup = () => {
    consumer.close();
    tracefs.rmdirInstance(instance);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { instance, dir, held, writer, streams, consumer, kernelStats, sum, unwritten, cleanup };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('an output without room holds decoding: pages stay staged, then the kernel discards and counts; nothing is unwritten', async (t) => {
  for (const switchTimerUs of [0, 50_000]) await t.test(switchTimerUs === 0 ? 'no switch timer' : 'a 50 ms switch timer', () => heldOutput(switchTimerUs, 64 * 1024, 0));
  // Room for 4 packets of 8 KiB, then none: room runs out within a batch of pages (32 of them), each page filling
  // at most one packet.
  await t.test('room runs out within a batch of pages', () => heldOutput(0, 8192, 4));
});

async function heldOutput(switchTimerUs: number, packetSize: number, roomFor: number): Promise<void> {
  // 256 KiB ring, 2 MiB staged per CPU; dd makes about 7 MB of records, on one CPU mostly.
  const c = await heldChannel('kback', 256, packetSize, switchTimerUs);
  try {
    if (roomFor > 0) c.held.holdAfter(roomFor);
    await c.consumer.start();
    tracefs.writeText('tracing_on', '1', c.instance);
    execFileSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=50000'], { stdio: 'ignore' });
    tracefs.writeText('tracing_on', '0', c.instance);
    // The reader's notifications come in meanwhile: the consumer must leave the pages where they are.
    await sleep(300);
    assert.equal(c.unwritten(), 0, 'no packet handed to the output while it had no room');
    if (roomFor === 0) assert.equal(c.sum('pages'), 0, 'no page decoded while the output had no room');
    const decodedHeld = c.sum('pages');
    assert.ok(c.kernelStats().dropped > 0, 'the kernel discarded what neither its ring nor the staging held');
    c.held.release();
    // The whenRoom() callback decodes the staged pages, before any stop.
    for (let waited = 0; waited < 5000 && c.sum('pages') === decodedHeld; waited += 50) await sleep(50);
    assert.ok(c.sum('pages') > decodedHeld, 'decoding resumed once the output had room');
    c.consumer.stop();
    await c.writer.close();
    const { handedOut, dropped } = c.kernelStats();
    assert.equal(c.unwritten(), 0, 'no unwritten packet');
    assert.equal(c.sum('events'), handedOut, 'every record the kernel handed out is written');
    assert.equal(c.sum('discarded'), dropped, 'every record the kernel dropped is counted discarded');
    assert.equal(babeltraceLines(path.join(c.dir)).length, handedOut, 'the trace holds every record written');
  } finally {
    c.cleanup();
  }
}

test('a stop() while the output has no room ends the wait: the next run decodes on the reader\'s notifications', async () => {
  // 1 MiB packets, few records before the stop: stop() closes no packet into the held output, as a rule (the
  // instance records every process's reads and writes: a busy machine may fill one, then counted unwritten).
  const c = await heldChannel('kback2', 1024, 1 << 20);
  try {
    await c.consumer.start();
    tracefs.writeText('tracing_on', '1', c.instance);
    execFileSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=2000'], { stdio: 'ignore' });
    tracefs.writeText('tracing_on', '0', c.instance);
    await sleep(300);
    assert.equal(c.sum('pages'), 0, 'the consumer waits for room');
    c.consumer.stop();
    assert.ok(c.sum('events') > 0, 'stop() took the staged pages');
    const unwrittenAtStop = c.unwritten();
    // Room comes back after the stop; the next run fills pages again, with no timer to drain them.
    c.held.release();
    await sleep(50);
    await c.consumer.start();
    tracefs.writeText('tracing_on', '1', c.instance);
    execFileSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=20000'], { stdio: 'ignore' });
    tracefs.writeText('tracing_on', '0', c.instance);
    const pages = c.sum('pages');
    for (let waited = 0; waited < 3000 && c.sum('pages') === pages; waited += 50) await sleep(50);
    assert.ok(c.sum('pages') > pages, 'the reader\'s pages of the second run were decoded before stop()');
    c.consumer.stop();
    await c.writer.close();
    assert.equal(c.unwritten(), unwrittenAtStop, 'no unwritten packet once room was back');
    assert.equal(c.sum('events'), c.kernelStats().handedOut);
  } finally {
    c.cleanup();
  }
});

test('a drain that must take everything (rotation, snapshot) waits for room: nothing is unwritten; a disk that never frees fails it in one line', async (t) => {
  await t.test('room comes back', async () => {
    const c = await heldChannel('kall', 256, 64 * 1024);
    try {
      await c.consumer.start();
      tracing(c.instance, 50_000);
      await sleep(300);
      const drained = c.consumer.drainAll(monotonicNow());
      let done = false;
      void drained.then(() => (done = true), () => (done = true));
      await sleep(500);
      assert.equal(done, false, 'the drain waits while the output has no room');
      assert.equal(c.unwritten(), 0, 'no packet handed to the output while it had no room');
      c.held.release();
      await drained;
      assert.equal(c.unwritten(), 0, 'no unwritten packet');
      const { handedOut, dropped } = c.kernelStats();
      assert.equal(c.sum('events'), handedOut, 'the drain took every record the kernel handed out');
      c.consumer.stop();
      await c.writer.close();
      assert.equal(c.unwritten(), 0);
      assert.equal(c.sum('events'), c.kernelStats().handedOut);
      assert.equal(c.sum('discarded'), dropped, 'every record the kernel dropped is counted discarded');
      assert.equal(babeltraceLines(c.dir).length, c.kernelStats().handedOut, 'the trace holds every record written');
    } finally {
      c.cleanup();
    }
  });
  await t.test('room never comes back', async () => {
    const c = await heldChannel('kall2', 256, 64 * 1024);
    try {
      await c.consumer.start();
      tracing(c.instance, 20_000);
      const t0 = performance.now();
      await assert.rejects(c.consumer.drainAll(monotonicNow(), 300), (err: Error) => /took no packet for 0.3 s/.test(err.message) && !err.message.includes('\n'));
      assert.ok(performance.now() - t0 < 3000);
      assert.equal(c.unwritten(), 0);
      c.held.release();
      c.consumer.stop();
      await c.writer.close();
    } finally {
      c.cleanup();
    }
  });
});

test('a drain that must take everything ends at its time while a producer faster than the disk keeps the staging full', async () => {
  // 256 KiB ring, 2 MiB staged per CPU, 32 KiB packets. The disk takes one packet every 20 ms (1.6 MB/s) while dd
  // makes several times that in records, for as long as the test lets it: staged pages never run out.
  const c = await heldChannel('kuntil', 256, 32 * 1024);
  let dd: ChildProcess | undefined;
  let trickle: NodeJS.Timeout | undefined;
  try {
    await c.consumer.start();
    tracefs.writeText('tracing_on', '1', c.instance);
    dd = spawn('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=10000000000'], { stdio: 'ignore' });
    // The staging fills meanwhile (no room yet).
    await sleep(500);
    trickle = setInterval(() => c.held.grant(1), 20);
    const drained = c.consumer.drainAll(monotonicNow());
    let done = false;
    void drained.then(() => (done = true), () => (done = true));
    // Before: the drain went on while anything was staged, so until dd ended; then, while the reader's
    // notifications decoded the staged pages too, they took each bit of room before the drain could.
    for (let waited = 0; waited < 20_000 && !done; waited += 50) await sleep(50);
    assert.equal(dd.exitCode, null, 'dd still runs');
    assert.ok(done, 'the drain ended while the producer went on');
    await drained;
    assert.equal(c.unwritten(), 0, 'no packet handed to the output while it had no room');
    tracefs.writeText('tracing_on', '0', c.instance);
    dd.kill('SIGKILL');
    clearInterval(trickle);
    c.held.release();
    c.consumer.stop();
    await c.writer.close();
    assert.equal(c.unwritten(), 0);
    assert.equal(c.sum('events'), c.kernelStats().handedOut, 'every record the kernel handed out is written');
  } finally {
    clearInterval(trickle);
    dd?.kill('SIGKILL');
    c.cleanup();
  }
});

test('a drain of two busy channels on one slow disk ends at its time: neither channel\'s decoding takes the other\'s room', async () => {
  // As above, with two channels (two instances recording the same system calls) writing to one disk, as a
  // session's channels share their consumer thread's staging: the drain of one channel, then of the other.
  const disk = slowDisk();
  const a = await heldChannel('kuntil-a', 256, 32 * 1024, 0, disk);
  let b: Awaited<ReturnType<typeof heldChannel>>;
  try {
    b = await heldChannel('kuntil-b', 256, 32 * 1024, 0, disk);
  } catch (err) {
    a.cleanup();
    throw err;
  }
  const both = [a, b];
  let dd: ChildProcess | undefined;
  let trickle: NodeJS.Timeout | undefined;
  try {
    for (const c of both) await c.consumer.start();
    for (const c of both) tracefs.writeText('tracing_on', '1', c.instance);
    dd = spawn('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=10000000000'], { stdio: 'ignore' });
    await sleep(500);
    trickle = setInterval(() => disk.grant(1), 20);
    const drained = KernelChannelConsumer.drainAll(both.map((c) => c.consumer), monotonicNow());
    let done = false;
    void drained.then(() => (done = true), () => (done = true));
    // Before: while one channel drained, the other's reader notifications decoded its staged pages from the same
    // whenRoom() round, before the drain's wait resumed, and took each packet's room: the drain lasted as long as dd.
    for (let waited = 0; waited < 40_000 && !done; waited += 50) await sleep(50);
    assert.equal(dd.exitCode, null, 'dd still runs');
    assert.ok(done, 'the drain of both channels ended while the producer went on');
    await drained;
    for (const c of both) assert.equal(c.unwritten(), 0, 'no packet handed to the output while it had no room');
    for (const c of both) tracefs.writeText('tracing_on', '0', c.instance);
    dd.kill('SIGKILL');
    clearInterval(trickle);
    disk.release();
    for (const c of both) {
      c.consumer.stop();
      await c.writer.close();
      assert.equal(c.unwritten(), 0);
      assert.equal(c.sum('events'), c.kernelStats().handedOut, 'every record the kernel handed out is written');
    }
  } finally {
    clearInterval(trickle);
    dd?.kill('SIGKILL');
    disk.release();
    for (const c of both) c.cleanup();
  }
});

/** Records read/write system calls in `instance` while dd copies `count` bytes one at a time. */
function tracing(instance: string, count: number): void {
  tracefs.writeText('tracing_on', '1', instance);
  execFileSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', `count=${count}`], { stdio: 'ignore' });
  tracefs.writeText('tracing_on', '0', instance);
}

test('stop() drains every record the kernel handed out (read events == written events)', async () => {
  await withSession('drain', async (s, dir) => {
    // A long read timer: everything is read at stop, after tracing_on = 0.
    await s.createChannel('c', { ...KERNEL_CHANNEL_DEFAULTS, readTimerUs: 60_000_000 });
    await s.enableEvent('c', { name: 'sched_switch', type: 'tracepoint' });
    await s.enableEvent('c', { name: '*', type: 'syscall' });
    const inst = s.instanceNames().c!;
    await s.start();
    execFileSync('sh', ['-c', 'for i in 1 2 3 4 5; do ls / >/dev/null; done; sleep 0.05']);
    await s.stop();
    let readByKernel = 0;
    let entries = 0;
    for (const cpu of tracefs.cpuIds()) {
      const st = tracefs.readText(`per_cpu/cpu${cpu}/stats`, inst);
      readByKernel += Number(/read events:\s*(\d+)/.exec(st)![1]);
      entries += Number(/entries:\s*(\d+)/.exec(st)![1]);
    }
    const stats = s.stats()[0]!;
    assert.equal(entries, 0, 'nothing left in the ring buffers');
    assert.equal(stats.discarded, 0);
    assert.ok(stats.events > 100, `events ${stats.events}`);
    assert.equal(stats.events, readByKernel, 'every record read was written');
    assert.equal(babeltraceLines(dir).length, stats.events);
  });
});

test('pid tracker keeps only the tracked process; contexts are filled', async () => {
  await withSession('track', async (s, dir) => {
    await s.createChannel('c', { ...KERNEL_CHANNEL_DEFAULTS });
    await s.enableEvent('c', { name: 'sched_switch', type: 'tracepoint' });
    await s.enableEvent('c', { name: 'nanosleep', type: 'syscall' });
    await s.enableEvent('c', { name: 'clock_nanosleep', type: 'syscall' });
    for (const ctx of ['pid', 'tid', 'procname', 'ppid', 'cpu_id', 'hostname', 'prio']) await s.addContext('c', ctx);
    const child = spawn('sh', ['-c', 'read x; sleep 0.1; sleep 0.1'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const exited = new Promise((r) => child.on('exit', r));
    try {
      await s.track('pid', [child.pid!]);
      await s.start();
      child.stdin!.end('go\n');
      await exited;
      // sleep is a child process (another pid): only the shell's own records pass.
      await s.stop();
    } finally {
      child.kill();
    }
    const lines = babeltraceLines(dir);
    assert.ok(lines.length > 0, 'the tracked shell has records');
    for (const l of lines) {
      assert.match(l, new RegExp(`\\{ cpu_id = (\\d+) \\}, \\{ pid = ${child.pid}, tid = ${child.pid}, procname = "sh", ppid = ${process.pid}, cpu_id = \\1, hostname = "${os.hostname()}", prio = -?\\d+ \\}`), l);
    }
  });
});

test('tracefile size/count: per-CPU files rotate as CHANNEL_CPU_N', async () => {
  await withSession('rotate', async (s, dir) => {
    await s.createChannel('r', { ...KERNEL_CHANNEL_DEFAULTS, subbufSize: 4096, numSubbuf: 4, tracefileSize: 8192, tracefileCount: 2, readTimerUs: 20_000 });
    await s.enableEvent('r', { name: '*', type: 'syscall' });
    await s.start();
    execFileSync('sh', ['-c', 'for i in $(seq 1 30); do ls / >/dev/null; done']);
    await s.stop();
    const files = fs.readdirSync(path.join(dir, 'kernel')).filter((f) => f.startsWith('r_'));
    assert.ok(files.includes('r_0_0') && files.includes('r_0_1'), files.join(' '));
    assert.ok(!files.includes('r_0_2'), 'count 2 keeps two files per stream');
    assert.ok(babeltraceLines(dir).length > 0, 'the kept files are readable');
  });
});

test('switch timer closes packets while tracing (index grows before stop)', async () => {
  await withSession('switch', async (s, dir) => {
    await s.createChannel('w', { ...KERNEL_CHANNEL_DEFAULTS, switchTimerUs: 50_000, readTimerUs: 20_000 });
    await s.enableEvent('w', { name: 'sched_switch', type: 'tracepoint' });
    await s.start();
    // Index entries follow the packets' writes, which go behind the consumer (direct-io.ts): on a loaded
    // machine the device may take a while; the session is still active all along.
    const idx = await untilIndexed(dir, (sizes) => sizes.some((size) => size >= 16 + 2 * 72), 400);
    await s.stop();
    // 16-byte header + 72 bytes per packet: several packets were out while the session was still active.
    assert.ok(idx.some((size) => size >= 16 + 2 * 72), `index sizes ${idx.join(',')}`);
  });
});

test('timer drains take every full page while tracing (no switch timer), the rest at stop', async () => {
  await withSession('fullpages', async (s, dir) => {
    await s.createChannel('c', { ...KERNEL_CHANNEL_DEFAULTS, subbufSize: 4096, numSubbuf: 512, readTimerUs: 20_000 });
    await s.enableEvent('c', { name: 'read', type: 'syscall' });
    await s.enableEvent('c', { name: 'write', type: 'syscall' });
    const inst = s.instanceNames().c!;
    await s.start();
    execFileSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=5000'], { stdio: 'ignore' });
    // Still tracing: packets are out (4 KiB CTF packets close as the pages come in), and no CPU buffer holds a
    // full page the timer left behind.
    const idx = (await untilIndexed(dir, (sizes) => sizes.reduce((a, b) => a + b, 0) > 16 * 2 + 20 * 72, 400)).reduce((a, b) => a + b, 0);
    // The tracer's own reads and writes are traced too, so a page can fill between a drain and this look: a page
    // the timer leaves behind shows in every sample, a page that just filled is gone by the next (20 ms timer).
    const samples: number[][] = [];
    for (let i = 0; i < 8; i++) {
      samples.push(tracefs.cpuIds().map((cpu) => Number(/\nbytes: (\d+)/.exec(tracefs.readText(`per_cpu/cpu${cpu}/stats`, inst))![1])));
      await new Promise((r) => setTimeout(r, 30));
    }
    await s.stop();
    assert.ok(idx > 16 * 2 + 20 * 72, `index bytes while tracing: ${idx}`);
    for (let c = 0; c < samples[0]!.length; c++) {
      const least = Math.min(...samples.map((row) => row[c]!));
      assert.ok(least < 4096, `a full page left unread on CPU ${c}: ${samples.map((row) => row[c]).join(',')} bytes`);
    }
    const st = s.stats()[0]!;
    assert.equal(st.discarded, 0);
    const lines = babeltraceLines(dir);
    assert.equal(lines.length, st.events);
    assert.ok(lines.filter((l) => / syscall_exit_read: /.test(l)).length >= 5000, 'every dd read is there');
  });
});

test('start/stop/start/stop appends to the same streams; loss counters are not counted twice', async () => {
  await withSession('restart', async (s, dir) => {
    await s.createChannel('c', { ...KERNEL_CHANNEL_DEFAULTS, subbufSize: 4096, numSubbuf: 2, readTimerUs: 60_000_000 });
    await s.enableEvent('c', { name: 'chroot', type: 'syscall' });
    await s.enableEvent('c', { name: 'read', type: 'syscall' });
    const inst = s.instanceNames().c!;
    const dropped = (): number => tracefs.cpuIds().reduce((a, cpu) => a + Number(/dropped events:\s*(\d+)/.exec(tracefs.readText(`per_cpu/cpu${cpu}/stats`, inst))![1]), 0);
    for (let run = 0; run < 2; run++) {
      await s.start();
      // chroot first: discard mode drops the newest records once dd has filled the tiny buffer.
      spawnSync('chroot', ['/', 'true']);
      execFileSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=5000'], { stdio: 'ignore' });
      await s.stop();
    }
    const st = s.stats()[0]!;
    assert.ok(st.discarded > 0, 'the tiny buffer overflowed');
    assert.equal(st.discarded, dropped(), 'discarded = the kernel counter, once');
    const lines = babeltraceLines(dir);
    assert.equal(lines.length, st.events);
    assert.equal(lines.filter((l) => / syscall_exit_chroot: .*ret = 0/.test(l)).length, 2, 'one chroot per run');
  });
});

test('pid tracker is also the kernel filter: untracked processes do not fill the buffer', async () => {
  await withSession('kpid', async (s, dir) => {
    await s.createChannel('c', { ...KERNEL_CHANNEL_DEFAULTS, readTimerUs: 60_000_000 });
    await s.enableEvent('c', { name: 'newfstat', type: 'syscall' });
    await s.enableEvent('c', { name: 'statx', type: 'syscall' });
    await s.enableEvent('c', { name: 'newfstatat', type: 'syscall' });
    const inst = s.instanceNames().c!;
    const child = spawn('sh', ['-c', 'read x; for i in 1 2 3; do ls -l / >/dev/null; done'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const exited = new Promise((r) => child.on('exit', r));
    try {
      await s.track('pid', [child.pid!]);
      assert.equal(tracefs.readText('set_event_pid', inst).trim(), String(child.pid));
      assert.equal(tracefs.readText('options/event-fork', inst).trim(), '1');
      await s.start();
      // This process is untracked: its stats must not even reach the ring buffer.
      for (let i = 0; i < 3000; i++) fs.fstatSync(0);
      child.stdin!.end('go\n');
      await exited;
      await s.stop();
    } finally {
      child.kill();
    }
    let readByKernel = 0;
    for (const cpu of tracefs.cpuIds()) readByKernel += Number(/read events:\s*(\d+)/.exec(tracefs.readText(`per_cpu/cpu${cpu}/stats`, inst))![1]);
    // ls (a forked child, added by event-fork) reaches the buffer and the consumer drops it; our 6000 do not.
    assert.ok(readByKernel < 3000, `kernel recorded ${readByKernel} records`);
    const lines = babeltraceLines(dir);
    assert.ok(lines.length > 0 && lines.length <= readByKernel, `${lines.length} written of ${readByKernel}`);
    await s.track('pid', 'all');
    assert.equal(tracefs.readText('set_event_pid', inst).trim(), '', 'track --all clears the kernel filter');
  });
});

test('every stream begins at start and ends at stop: --stream-intersection keeps the statedump', async () => {
  await withSession('intersect', async (s, dir) => {
    await s.createChannel('c', { ...KERNEL_CHANNEL_DEFAULTS });
    await s.enableEvent('c', { name: 'lttng_statedump_*', type: 'tracepoint' });
    await s.enableEvent('c', { name: 'chroot', type: 'syscall' });
    await s.start();
    // Records on one CPU only, after a pause: without aligned packets the intersection starts there.
    await new Promise((r) => setTimeout(r, 50));
    execFileSync('taskset', ['-c', String(tracefs.cpuIds().at(-1)), 'chroot', '/', 'true']);
    await s.stop();
    const r = spawnSync('/usr/bin/babeltrace2', ['--stream-intersection', dir], { encoding: 'utf8', maxBuffer: 1 << 28 });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(/ lttng_statedump_start: /.test(r.stdout), 'statedump inside the intersection');
    assert.ok(/ syscall_exit_chroot: /.test(r.stdout), 'chroot inside the intersection');
  });
});
