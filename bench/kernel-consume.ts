// Replay bench of the kernel consumer's hot path: page decoding, LTTng shaping and CTF writing, without the
// kernel. Captures the raw ring-buffer pages of a syscall-heavy workload once (its own tracefs instance), then
// feeds them through the real KernelChannelConsumer (pages read from files instead of trace_pipe_raw) into a
// real CTF trace, and prints ns per event and events per second of CPU.
//
// Usage (root, after `npx tsc`): node dist/bench/kernel-consume.js [--count N] [--runs R] [--keep]
//   --count N  dd bs=1 count=N while capturing (default 1,000,000: about 4M events)
//   --runs R   replays (default 3; the best is printed with the median)
//   --live     instead: the consumer on a live instance while dd runs (4 x 1 MiB per CPU, 200 ms read timer)
//   --convert  the general path (JS values, then the encoder) instead of transcoding
//   --no-write packets are dropped instead of written (tells writing from the rest)
//   --pages DIR replays the capture that an earlier --keep left in DIR (same pages before and after a change)
// Everything it creates (instance, temp folders) is removed, also on failure.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import * as tracefs from '../src/ftrace/tracefs.js';
import { parseHeaderEvent, parseHeaderPage, readEventFormat } from '../src/ftrace/event-format.js';
import { PageDecoder } from '../src/ftrace/page-decoder.js';
import { lttngNameOf, type FieldReader } from '../src/ftrace/lttng-shaping.js';
import { rawPagesFile, saveRawPages, setUpInstance } from '../src/kernel/raw-capture.js';
import { monotonicClockDef } from '../src/ftrace/trace-clock.js';
import { CtfTraceWriter } from '../src/ctf/writer/trace-writer.js';
import type { StreamWriter } from '../src/ctf/writer/stream-writer.js';
import { eventIdTable, KernelChannelConsumer, kernelEventHandler, type KernelEventHandler } from '../src/consumer/kernel-channel-consumer.js';
import { ThreadTable } from '../src/consumer/thread-table.js';

const PAGE = 64 * 1024;
/** The sub-buffer size the kernel applied (it may keep a smaller one than PAGE). */
let page = PAGE;
/** The events of bench/kernel.mjs: the scheduler's switch and wakeup and every system call. */
const EVENTS = ['sched/sched_switch', 'sched/sched_wakeup', 'syscalls'];

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v <= 0) {
    process.stderr.write(`kernel-consume: ${name} needs a positive integer\n`);
    process.exit(1);
  }
  return v;
}

for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i]!;
  if (a === '--count' || a === '--runs' || a === '--pages') i++;
  else if (!['--live', '--convert', '--no-write', '--keep'].includes(a)) {
    process.stderr.write(`kernel-consume: unknown argument ${a} (usage: [--count N] [--runs R] [--pages DIR] [--live] [--convert] [--no-write] [--keep])\n`);
    process.exit(1);
  }
}
const count = arg('--count', 1_000_000);
const runs = arg('--runs', 3);
/** --convert: the general path (JS values, then the encoder) instead of transcoding, for comparison. */
const transcode = !process.argv.includes('--convert');
const pagesAt = process.argv.indexOf('--pages');
/** --pages DIR: a kept capture (its CAPTURE file says its CPUs and sub-buffer size), not removed afterwards. */
const kept = pagesAt < 0 ? undefined : process.argv[pagesAt + 1];
const tmp = kept ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ltt-kconsume-'));
const CAPTURE = 'capture.json';
const instance = `ltt-bench-consume-${process.pid}`;

/** The dd workload's raw pages, in DIR/cpuN.raw (or those of --pages DIR). */
function capture(): number[] {
  if (kept !== undefined) {
    let c: { cpus: number[]; pageSize: number };
    try {
      c = JSON.parse(fs.readFileSync(path.join(kept, CAPTURE), 'utf8'));
    } catch (err) {
      process.stderr.write(`kernel-consume: ${kept} holds no capture kept by --keep (${(err as Error).message})\n`);
      process.exit(1);
    }
    page = c.pageSize;
    return c.cpus;
  }
  const raw = saveRawPages(
    {
      instance,
      pageSize: PAGE,
      bufferKb: Math.ceil((count * 160) / 1024),
      events: EVENTS,
      workload: () => execFileSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', `count=${count}`], { stdio: 'ignore' }),
    },
    tmp,
  );
  page = raw.pageSize;
  fs.writeFileSync(path.join(tmp, CAPTURE), JSON.stringify({ cpus: raw.cpus, pageSize: raw.pageSize }));
  return raw.cpus;
}

async function makeConsumer(cpus: number[], name: string, bufferPages: number, readTimerUs: number, openPages?: (cpu: number) => number) {
  const decoder = new PageDecoder(parseHeaderPage(tracefs.readText('events/header_page')), parseHeaderEvent(tracefs.readText('events/header_event')));
  const dir = path.join(tmp, `trace-${name}`);
  // --no-write: packets go nowhere, to tell the cost of writing the trace from the rest.
  const nullSink = { writeMetadata() {}, openStream: () => ({ writePacket() {}, async close() {} }), async close() {} };
  const writer = await CtfTraceWriter.create({
    ...(process.argv.includes('--no-write') ? { sink: nullSink } : { dir }),
    env: { domain: 'kernel', tracer_name: 'lttng-modules' },
    clock: monotonicClockDef(),
    streamClasses: [{ id: 0, header: 'large' }], // over 31 event classes: LTTng's large header
  });
  const streams = new Map<number, StreamWriter>();
  for (const cpu of cpus) streams.set(cpu, writer.openStream({ streamClassId: 0, fileName: `channel0_${cpu}`, cpuId: cpu, packetSize: 1 << 20 }));
  const handlers = eventIdTable<KernelEventHandler>();
  const threads = new ThreadTable();
  const trackers: number[] = [];
  // As the session daemon's consumer: sched_switch feeds the thread table (a hook reading the record's bytes).
  const commHook = (read: (field: string) => FieldReader | undefined): KernelEventHandler['hook'] => {
    const pc = read('prev_comm')!;
    const pt = read('prev_tid')!;
    return (dv, buf, off) => threads.setComm(pt(dv, buf, off) as number, pc(dv, buf, off) as string);
  };
  const events = [
    { system: 'sched', name: 'sched_switch' },
    { system: 'sched', name: 'sched_wakeup' },
    ...tracefs.listDir('events/syscalls').filter((n) => n.startsWith('sys_')).map((name) => ({ system: 'syscalls', name })),
  ];
  for (const e of events) {
    const format = readEventFormat(e.system, e.name);
    const kind = e.system === 'syscalls' ? 'syscall' : 'tracepoint';
    const { handler } = kernelEventHandler(writer, 0, format, kind, lttngNameOf(e.system, e.name), e.name === 'sched_switch' ? commHook : undefined);
    if (!transcode) handler.transcoder = undefined;
    handlers[format.id] = handler;
  }
  const consumer = new KernelChannelConsumer({
    instance,
    cpus,
    pageSize: page,
    bufferPages,
    decoder,
    handlers,
    streams,
    overwrite: false,
    readTimerUs,
    switchTimerUs: 0,
    commonPidOffset: 4,
    threads,
    // As the session daemon's consumer: trackers are looked up per record (none set here).
    tracked: () => trackers.length === 0,
    contextCount: 0,
    ...(openPages ? { openPages } : {}),
  });
  return { consumer, streams, writer, dir };
}

async function replay(cpus: number[], run: number): Promise<{ events: number; cpuNs: number; bytes: number }> {
  const { consumer, streams, writer, dir } = await makeConsumer(cpus, String(run), 64, 0, (cpu) => fs.openSync(rawPagesFile(tmp, cpu), 'r'));
  await consumer.start();
  const t0 = process.cpuUsage();
  consumer.stop();
  for (const s of streams.values()) s.flushPacket();
  const t = process.cpuUsage(t0);
  await writer.close();
  let bytes = 0;
  if (fs.existsSync(dir)) for (const f of fs.readdirSync(dir)) if (f.startsWith('channel0_')) bytes += fs.statSync(path.join(dir, f)).size;
  fs.rmSync(dir, { recursive: true, force: true });
  const evs = consumer.stats().reduce((a, s) => a + s.events, 0);
  return { events: evs, cpuNs: (t.user + t.system) * 1000, bytes };
}

/**
 * The same consumer on the live instance while dd runs (LTTng's kernel channel defaults: 4 x 1 MiB per CPU,
 * 200 ms read timer): what tracing costs this process, kernel reads included.
 */
async function live(): Promise<void> {
  const cpus = tracefs.cpuIds();
  page = setUpInstance({ instance, pageSize: PAGE, bufferKb: 4096, events: EVENTS });
  try {
    const { consumer: consumerLive, streams, writer, dir } = await makeConsumer(cpus, 'live', 64, 200_000);
    await consumerLive.start();
    tracefs.writeText('tracing_on', '1', instance);
    const t0 = process.cpuUsage();
    const w0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const child = spawn('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', `count=${count}`], { stdio: 'ignore' });
      child.on('error', reject);
      child.on('exit', () => resolve());
    });
    tracefs.writeText('tracing_on', '0', instance);
    consumerLive.stop();
    for (const s of streams.values()) s.flushPacket();
    const t = process.cpuUsage(t0);
    const wall = performance.now() - w0;
    await writer.close();
    fs.rmSync(dir, { recursive: true, force: true });
    const st = consumerLive.stats();
    const events = st.reduce((a, x) => a + x.events, 0);
    const pages = st.reduce((a, x) => a + x.pages, 0);
    const lost = st.reduce((a, x) => a + x.discarded, 0);
    process.stdout.write(
      `live: ${events} events, ${lost} discarded, ${pages} reads, ${(wall / 1e3).toFixed(2)} s wall, CPU user ${(t.user / 1e6).toFixed(3)} s ` +
        `sys ${(t.system / 1e6).toFixed(3)} s, ${(((t.user + t.system) * 1000) / events).toFixed(1)} ns/event\n`,
    );
  } finally {
    try {
      tracefs.writeText('tracing_on', '0', instance);
    } catch {
      // Removed below either way.
    }
    tracefs.rmdirInstance(instance);
  }
}

try {
  if (process.argv.includes('--live')) {
    await live();
    process.exit(0);
  }
  const cpus = capture();
  const rawBytes = cpus.reduce((a, c) => a + fs.statSync(path.join(tmp, `cpu${c}.raw`)).size, 0);
  process.stdout.write(`# ${new Date().toISOString()} ${os.hostname()} ${os.release()}, dd count=${count}, raw pages ${(rawBytes / 1e6).toFixed(1)} MB in ${page / 1024} KiB sub-buffers\n`);
  const results = [];
  for (let r = 0; r < runs; r++) {
    const x = await replay(cpus, r);
    results.push(x);
    process.stdout.write(`run ${r + 1}: ${x.events} events, ${(x.cpuNs / 1e9).toFixed(3)} s CPU, ${(x.cpuNs / x.events).toFixed(1)} ns/event, CTF ${(x.bytes / 1e6).toFixed(1)} MB\n`);
  }
  const per = results.map((x) => x.cpuNs / x.events).sort((a, b) => a - b);
  process.stdout.write(`best ${per[0]!.toFixed(1)} ns/event, median ${per[Math.floor(per.length / 2)]!.toFixed(1)} ns/event (${(1e3 / per[0]!).toFixed(2)} M events/s of CPU)\n`);
} finally {
  if (kept === undefined && !process.argv.includes('--keep')) fs.rmSync(tmp, { recursive: true, force: true });
  else process.stdout.write(`kept ${tmp}\n`);
}
