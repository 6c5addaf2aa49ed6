// Micro benchmark of the CTF reader: decode-only (sink.utils.dummy) events/s on a big synthetic LTTng-kernel-like
// trace (sched_switch-shaped events: two 16-byte text arrays, five integers, compact headers, 2 per-CPU
// streams), next to `babeltrace2 -c sink.utils.dummy` on the same trace, plus ours with every payload decoded.
//
// Usage: node dist/bench/ctf-decode.js [EVENTS=2000000] [TRACE_DIR=/tmp/ltt-bench-ctf]
// Prints one line per measurement (best of RUNS, default 3) and the peak RSS of our runs.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CtfTraceWriter } from '../src/ctf/writer/index.js';
import { openTrace } from '../src/ctf/index.js';
import { runDummy } from '../src/graph/sinks.js';

const N = Number(process.argv[2] ?? process.env.EVENTS ?? 2_000_000);
const DIR = process.argv[3] ?? process.env.TRACE_DIR ?? '/tmp/ltt-bench-ctf';
const RUNS = Number(process.env.RUNS ?? 3);

async function makeTrace(): Promise<void> {
  const stamp = join(DIR, '.events');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === String(N)) return;
  rmSync(DIR, { recursive: true, force: true });
  const w = await CtfTraceWriter.create({
    dir: DIR,
    env: { hostname: 'bench', domain: 'kernel', tracer_name: 'lttng-modules', tracer_major: 2, tracer_minor: 13, tracer_patchlevel: 0 },
    clock: { name: 'monotonic', frequency: 1e9, offsetSeconds: 1_700_000_000n, offsetCycles: 0n },
  });
  const id = w.addEventClass({
    name: 'sched_switch',
    fields: [
      { name: 'prev_comm', kind: 'text', length: 16 },
      { name: 'prev_tid', kind: 'int', size: 32, signed: true },
      { name: 'prev_prio', kind: 'int', size: 32, signed: true },
      { name: 'prev_state', kind: 'int', size: 64, signed: true },
      { name: 'next_comm', kind: 'text', length: 16 },
      { name: 'next_tid', kind: 'int', size: 32, signed: true },
      { name: 'next_prio', kind: 'int', size: 32, signed: true },
    ],
  });
  const streams = [0, 1].map((cpu) => w.openStream({ fileName: `channel0_${cpu}`, cpuId: cpu, packetSize: 1 << 20 }));
  let ts = 1_000_000_000;
  const payloadA = ['swapper/0', 0, 120, 0, 'kworker/u4:2', 1234, 120];
  const payloadB = ['kworker/u4:2', 1234, 120, 1, 'swapper/0', 0, 120];
  for (let i = 0; i < N; i++) {
    ts += 100 + (i % 7) * 37;
    streams[i & 1]!.write(id, ts, i % 3 === 0 ? payloadA : payloadB);
  }
  await w.close();
  writeFileSync(stamp, String(N));
}

async function timeOurs(materialize: boolean): Promise<{ s: number; events: number }> {
  const t0 = process.hrtime.bigint();
  const opened = await openTrace([DIR]);
  let events = 0;
  if (materialize) {
    for await (const batch of opened.messages) {
      for (const m of batch) {
        if (m.type === 'event') {
          events++;
          if (m.payload === undefined) throw new Error('no payload');
        }
      }
    }
  } else {
    const all = await runDummy(opened.messages);
    events = all;
  }
  return { s: Number(process.hrtime.bigint() - t0) / 1e9, events };
}

function timeBt2(): number | undefined {
  const probe = spawnSync('babeltrace2', ['--version']);
  if (probe.status !== 0) return undefined;
  const t0 = process.hrtime.bigint();
  const r = spawnSync('babeltrace2', ['-c', 'sink.utils.dummy', DIR], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`babeltrace2 failed with status ${r.status}`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

await makeTrace();
let peak = 0;
const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
const best = async (f: () => Promise<{ s: number; events: number }>): Promise<{ s: number; events: number }> => {
  let b: { s: number; events: number } | undefined;
  for (let i = 0; i < RUNS; i++) {
    const r = await f();
    if (!b || r.s < b.s) b = r;
  }
  return b!;
};
const dummy = await best(() => timeOurs(false));
const full = await best(() => timeOurs(true));
clearInterval(sample);
console.log(`trace ${DIR}: ${N} events`);
console.log(`ltt decode-only (dummy): ${dummy.s.toFixed(3)} s for ${dummy.events} messages = ${(N / dummy.s / 1e6).toFixed(2)} M events/s`);
console.log(`ltt decode + all payloads: ${full.s.toFixed(3)} s = ${(N / full.s / 1e6).toFixed(2)} M events/s`);
console.log(`ltt peak RSS: ${(peak / 1048576).toFixed(0)} MiB`);
let bt: number | undefined;
for (let i = 0; i < Math.min(RUNS, 2); i++) {
  const t = timeBt2();
  if (t !== undefined && (bt === undefined || t < bt)) bt = t;
}
if (bt !== undefined) {
  console.log(`babeltrace2 -c sink.utils.dummy: ${bt.toFixed(3)} s = ${(N / bt / 1e6).toFixed(2)} M events/s`);
  console.log(`ratio ltt/babeltrace2 (decode-only): ${(bt / dummy.s).toFixed(2)}x`);
}
