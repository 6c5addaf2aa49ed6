// Micro-benchmark of the CTF writer's hot path: events/s encoded for a sched_switch-like event (two 16-byte
// comm text arrays, five 32-bit integers, a 64-bit enum; compact header) into 1 MiB packets, with the packets
// going to (a) a sink that drops them (pure encoding) and (b) real files in a temp folder (encoding + write
// syscalls). Run after `npx tsc`: `node bench/writer.mjs [events]`.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CtfTraceWriter } from '../dist/src/ctf/writer/index.js';

const N = Number(process.argv[2] ?? 5_000_000);

const SCHED_SWITCH = [
  { name: 'prev_comm', kind: 'text', length: 16 },
  { name: 'prev_tid', kind: 'int', size: 32, signed: true },
  { name: 'prev_prio', kind: 'int', size: 32, signed: true },
  { name: 'prev_state', kind: 'enum', container: { kind: 'int', size: 64, signed: true }, mappings: [{ label: 'TASK_RUNNING', value: 0 }, { label: 'TASK_INTERRUPTIBLE', value: 1 }] },
  { name: 'next_comm', kind: 'text', length: 16 },
  { name: 'next_tid', kind: 'int', size: 32, signed: true },
  { name: 'next_prio', kind: 'int', size: 32, signed: true },
];

const nullSink = {
  bytes: 0,
  writeMetadata() {},
  openStream() {
    return { writePacket: (p) => { nullSink.bytes += p.length; }, close: async () => {} };
  },
  async close() {},
};

async function run(label, opts) {
  const trace = await CtfTraceWriter.create({
    ...opts,
    env: { hostname: 'bench', domain: 'kernel', tracer_name: 'lttng-modules', tracer_major: 2, tracer_minor: 13 },
    clock: { name: 'monotonic', frequency: 1e9, offsetSeconds: 0n, offsetCycles: 0n },
  });
  const id = trace.addEventClass({ name: 'sched_switch', fields: SCHED_SWITCH });
  const s = trace.openStream({ fileName: 'channel0_0', cpuId: 0, packetSize: 1 << 20 });
  const comms = ['swapper/0', 'kworker/0:1', 'node', 'bash'];
  const payload = ['', 0, 20, 0, '', 0, 20];
  let ts = 1_000_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    // Values change per event, as they would in the consumer, but without allocating.
    payload[0] = comms[i & 3];
    payload[1] = i;
    payload[3] = i & 1;
    payload[4] = comms[(i + 1) & 3];
    payload[5] = i + 1;
    ts += 300 + (i & 255);
    s.write(id, ts, payload);
  }
  await trace.close();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const mb = s.stats.bytes / 1e6;
  console.log(`${label}: ${N} events in ${secs.toFixed(3)} s = ${(N / secs / 1e6).toFixed(2)} M events/s, ${(mb / secs).toFixed(0)} MB/s (${mb.toFixed(0)} MB, ${s.stats.packets} packets)`);
}

await run('warm-up (null sink)', { sink: nullSink });
await run('encode only (null sink)', { sink: nullSink });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ltt-bench-writer-'));
try {
  await run('encode + files', { dir });
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
