// How fast each CPU runs during a bench run. On this VM the same fixed loop takes 352 µs in some stretches and
// 430-670 µs in others (seconds long, on either vCPU): the host shares the cores. A tracer's CPU seconds for the
// same events move with it (in live runs the kernel consumer's ns per event went from 81-89 at 352 µs to
// 135-140 at 450 µs and more, window by window), so a run's CPU time means little without the speed it ran at.
// It measures the core only: a consumer streaming pages also slows when others share the caches, which this loop
// (4 KiB) does not see.
//
// Contract: `startCpuSpeed()` starts one sampler per CPU (pinned with taskset) and returns `stop()`, which ends
// them and resolves to the median, per CPU, of each second's fastest loop (µs; the fastest of a second drops
// the samples that were preempted, and seconds more than 3x slower than the CPU's best are left out). A sampler runs the loop once per 100 ms (about 0.35% of a CPU) and exits
// when its stdin closes, so it never outlives the bench. `node bench/cpu-speed.mjs [SECONDS]` prints the
// per-second series of each CPU (default 10 s), to watch the machine on its own.

import { spawn } from 'node:child_process';
import * as os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const buf = new Uint32Array(1024);

/** A fixed loop over 4 KiB (L1-resident, ALU-bound): its wall time is the CPU's speed, not the memory's. */
function loopMicros() {
  const t0 = performance.now();
  let h = 1;
  for (let k = 0; k < 300; k++) {
    for (let i = 0; i < 1024; i++) {
      h = Math.imul(h ^ buf[i], 0x9e3779b1) >>> 0;
      buf[i] = h;
    }
  }
  return (performance.now() - t0) * 1000;
}

/** Child: one line per second with that second's fastest loop, until stdin closes or `seconds` pass. */
function sample(seconds) {
  for (let i = 0; i < 30; i++) loopMicros(); // optimized before the first sample counts
  process.stdout.write('ready\n');
  const end = Date.now() + seconds * 1000;
  let best = Infinity;
  let windowEnd = Date.now() + 1000;
  const timer = setInterval(() => {
    best = Math.min(best, loopMicros());
    if (Date.now() >= windowEnd) {
      process.stdout.write(`${best.toFixed(0)}\n`);
      best = Infinity;
      windowEnd += 1000;
    }
    if (Date.now() >= end) process.exit(0);
  }, 100);
  process.stdin.on('end', () => {
    clearInterval(timer);
    // The second under way counts too (a run shorter than a second would have no sample otherwise).
    if (best < Infinity) process.stdout.write(`${best.toFixed(0)}\n`);
    process.exit(0);
  });
  process.stdin.resume();
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[s.length >> 1];
}

/**
 * Starts a sampler per CPU and resolves once each samples (node's start-up takes over a second on a loaded
 * machine: a short run would otherwise get none) or after 10 s; `stop()` resolves to
 * { perCpu: [{ cpu, medianUs, series }] }.
 */
export async function startCpuSpeed(maxSeconds = 900) {
  const samplers = os.cpus().map((_, cpu) => {
    const child = spawn('taskset', ['-c', String(cpu), process.execPath, SELF, '--sample', String(maxSeconds)], { stdio: ['pipe', 'pipe', 'ignore'] });
    const series = [];
    let rest = '';
    let onReady;
    const ready = new Promise((resolve) => { onReady = resolve; });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      const lines = (rest + d).split('\n');
      rest = lines.pop();
      for (const l of lines) {
        if (l === 'ready') onReady();
        else series.push(Number(l));
      }
    });
    child.on('error', () => {}); // no taskset: the CPU reports no samples (NaN)
    const exited = new Promise((resolve) => child.on('close', resolve));
    exited.then(onReady);
    return { cpu, child, series, exited, ready };
  });
  let timer;
  await Promise.race([Promise.all(samplers.map((s) => s.ready)), new Promise((r) => { timer = setTimeout(r, 10_000); })]);
  clearTimeout(timer);
  return {
    async stop() {
      for (const s of samplers) s.child.stdin.end();
      await Promise.all(samplers.map((s) => Promise.race([s.exited, new Promise((r) => setTimeout(r, 2000))])));
      for (const s of samplers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
      // A second whose every loop was preempted (a loaded machine: seen 2.6-5.2 ms) says nothing about the
      // CPU's speed, which varies less than 2x: such seconds (over 3x the CPU's fastest) are left out.
      return {
        perCpu: samplers.map((s) => {
          const best = Math.min(...s.series);
          return { cpu: s.cpu, medianUs: median(s.series.filter((v) => v <= 3 * best)), series: s.series };
        }),
      };
    },
  };
}

/** "cpu0 352 µs, cpu1 471 µs" (median of each second's fastest loop). */
export function formatCpuSpeed(r) {
  return r.perCpu.map((c) => `cpu${c.cpu} ${Number.isNaN(c.medianUs) ? '?' : c.medianUs.toFixed(0)} µs`).join(', ');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] === '--sample') sample(Number(process.argv[3]) || 900);
  else {
    const seconds = Number(process.argv[2] ?? 10);
    if (!(seconds > 0)) {
      process.stderr.write('cpu-speed: usage: node bench/cpu-speed.mjs [SECONDS]\n');
      process.exit(1);
    }
    const s = await startCpuSpeed(seconds + 5);
    setTimeout(async () => {
      const r = await s.stop();
      for (const c of r.perCpu) console.log(`cpu${c.cpu} median ${c.medianUs.toFixed(0)} µs: ${c.series.join(' ')}`);
    }, seconds * 1000 + 200);
  }
}
