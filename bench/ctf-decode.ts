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

interface Timing {
  s: number;
  cpu: number;
  events: number;
}

async function timeOurs(materialize: boolean, eager = false): Promise<Timing> {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const opened = await openTrace([DIR], { eager, batchSize: Number(process.env.BATCH ?? 1024) });
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
  const c = process.cpuUsage(c0);
  // CPU seconds (user + system, all threads): robust on a shared machine where wall time is not.
  return { s: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (c.user + c.system) / 1e6, events };
}

function timeBt2(): Timing | undefined {
  const probe = spawnSync('babeltrace2', ['--version']);
  if (probe.status !== 0) return undefined;
  const t0 = process.hrtime.bigint();
  const before = process.resourceUsage();
  const r = spawnSync('babeltrace2', ['-c', 'sink.utils.dummy', DIR], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`babeltrace2 failed with status ${r.status}`);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  // Children's CPU time is not in resourceUsage(); read it from /proc/self/stat (cutime + cstime).
  const stat = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  void before;
  const ticks = Number(stat[13]) + Number(stat[14]);
  return { s, cpu: ticks / 100, events: N };
}

await makeTrace();
const best = async (f: () => Promise<Timing>): Promise<Timing> => {
  let b: Timing | undefined;
  for (let i = 0; i < RUNS; i++) {
    const r = await f();
    if (!b || r.cpu < b.cpu) b = r;
  }
  return b!;
};
const rate = (t: Timing): string =>
  `${t.s.toFixed(3)} s wall = ${(N / t.s / 1e6).toFixed(2)} M events/s; ${t.cpu.toFixed(3)} s CPU = ${(N / t.cpu / 1e6).toFixed(2)} M events/s`;
const dummy = await best(() => timeOurs(false));
const full = await best(() => timeOurs(true));
const fullEager = await best(() => timeOurs(true, true));
console.log(`trace ${DIR}: ${N} events`);
console.log(`ltt decode-only (dummy, ${dummy.events} messages): ${rate(dummy)}`);
console.log(`ltt decode + all payloads (lazy): ${rate(full)}`);
console.log(`ltt decode + all payloads (eager): ${rate(fullEager)}`);
// maxRSS is in KiB (whole process: trace generation included when it ran in this process).
console.log(`ltt peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
// One babeltrace2 run per measurement: cutime accumulates over children, so measure deltas.
let bt: Timing | undefined;
let prevCpu = 0;
for (let i = 0; i < Math.min(RUNS, 2); i++) {
  const t = timeBt2();
  if (t === undefined) break;
  const cpu = t.cpu - prevCpu;
  prevCpu = t.cpu;
  if (bt === undefined || cpu < bt.cpu) bt = { ...t, cpu };
}
if (bt !== undefined) {
  console.log(`babeltrace2 -c sink.utils.dummy: ${rate(bt)}`);
  console.log(`ratio ltt/babeltrace2 decode-only: wall ${(bt.s / dummy.s).toFixed(2)}x, CPU ${(bt.cpu / dummy.cpu).toFixed(2)}x`);
}
