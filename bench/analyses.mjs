// ltt analyze vs lttng-analyses on the same kernel trace, side by side in one run.
//
// Contract: `node bench/analyses.mjs [--events N] [--trace DIR] [--runs R]` (root, after `npx tsc`).
// Records (or reuses, from /tmp/ltt-bench-analyses-N) a kernel trace with ltt itself and a private daemon
// (LTT_RUNDIR in a temp folder): sched_switch, sched_waking/wakeup*, sched_process_*, irq_*, every syscall,
// around `dd bs=1` (4 events per byte: read and write entry/exit) plus a few short processes, sized for about
// N events (default 10,000,000). --trace DIR uses an existing trace instead. Then, R times each (default 1):
//   lttng-cputop / lttng-syscallstats (/usr/bin/python3, --no-progress), as a user runs them;
//   ltt analyze cputop / syscallstats cold (a fresh LTT_CACHE: import + tables + analysis) and warm (cached).
// First the import alone (`ltt query` on a fresh LTT_CACHE: decoding, the tables, the cache file written) with
// its rate in events per wall second and per CPU second, against the goal (2 M events/s). Prints wall and CPU
// (user+sys of the process and its children) seconds and ratios to lttng-analyses. Every child is time-bound;
// the daemon and temp folders are removed.

import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDaemonPid, stopProcess } from '../scripts/private-daemon.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LTT = path.join(ROOT, 'bin', 'ltt');
const PYTHON = '/usr/bin/python3';

function fail(msg) {
  process.stderr.write(`bench/analyses: ${msg}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const o = { events: 10_000_000, trace: undefined, runs: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v <= 0) fail(`${a} needs a positive integer`);
      return v;
    };
    if (a === '--events') o.events = num();
    else if (a === '--runs') o.runs = num();
    else if (a === '--trace') o.trace = argv[++i] ?? fail('--trace needs a folder');
    else fail(`unknown argument ${a} (usage: node bench/analyses.mjs [--events N] [--trace DIR] [--runs R])`);
  }
  return o;
}

/** Runs a shell command line; wall time, and user+sys CPU time of it and its children (the shell's `times`). */
function runTimed(quoted, env, timeoutMs) {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => {
    // `times` prints the shell's own times, then its children's: the last line is the command's.
    execFile('/bin/sh', ['-c', `${quoted} >/dev/null 2>/tmp/ltt-bench-analyses.err; rc=$?; times; exit $rc`], {
      env, timeout: timeoutMs, killSignal: 'SIGKILL',
    }, (err, stdout) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      const lines = String(stdout).trim().split('\n');
      const secs = (lines[lines.length - 1] ?? '').split(/\s+/).map((t) => {
        const m = /^(\d+)m([\d.]+)s$/.exec(t);
        return m ? Number(m[1]) * 60 + Number(m[2]) : 0;
      });
      const code = err ? (typeof err.code === 'number' ? err.code : 'timeout') : 0;
      if (code !== 0) process.stderr.write(`${quoted} failed (${code}): ${fs.readFileSync('/tmp/ltt-bench-analyses.err', 'utf8').slice(-1000)}\n`);
      resolve({ wall, cpu: secs.reduce((a, b) => a + b, 0), code });
    });
  });
}

function ltt(env, args, timeoutMs = 120_000) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [LTT, ...args], { env, timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`ltt ${args.join(' ')}: ${stderr || err.message}`));
      else resolve(String(stdout));
    });
  });
}

async function record(dir, events) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ltt-bench-analyses-'));
  const env = { ...process.env, LTT_RUNDIR: path.join(tmp, 'run'), LTT_HOME: path.join(tmp, 'home') };
  const session = `bench-analyses-${process.pid}`;
  const out = `${dir}.part`;
  fs.rmSync(out, { recursive: true, force: true });
  // dd bs=1: a read and a write per byte, entry and exit each; the rest (scheduler, irqs, the short processes)
  // adds a little.
  const bytes = Math.max(1000, Math.round(events / 4));
  let created = false;
  try {
    await ltt(env, ['create', session, '-o', out]);
    created = true;
    await ltt(env, ['enable-channel', '-k', '--subbuf-size=8M', '--num-subbuf=8', 'chan1']);
    await ltt(env, ['enable-event', '-k', '-c', 'chan1', 'sched_switch,sched_waking,sched_wakeup*,sched_process_*']);
    await ltt(env, ['enable-event', '-k', '-c', 'chan1', 'irq_handler_entry,irq_handler_exit,irq_softirq_entry,irq_softirq_exit']);
    await ltt(env, ['enable-event', '-k', '-c', 'chan1', '--syscall', '-a']);
    await ltt(env, ['start']);
    await new Promise((resolve, reject) => {
      const sh = spawn('/bin/sh', ['-c', `for i in 1 2 3 4 5; do ls / >/dev/null; sleep 0.01; done & dd if=/dev/zero of=/dev/null bs=1 count=${bytes} 2>/dev/null; wait`], { stdio: 'ignore' });
      const timer = setTimeout(() => sh.kill('SIGKILL'), 600_000);
      sh.once('exit', (code) => (clearTimeout(timer), code === 0 ? resolve() : reject(new Error(`workload exited ${code}`))));
    });
    await ltt(env, ['stop'], 300_000);
    const list = await ltt(env, ['list', session]);
    const lost = [...list.matchAll(/Discarded events:\s*(\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
    if (lost > 0) process.stderr.write(`note: the tracer discarded ${lost} events (a loaded machine)\n`);
    await ltt(env, ['destroy', session]);
    created = false;
    fs.renameSync(out, dir);
  } finally {
    if (created) await ltt(env, ['destroy', session]).catch(() => {});
    const pid = readDaemonPid(env.LTT_RUNDIR);
    if (pid) await stopProcess(pid);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function countEvents(trace, env) {
  const out = await ltt(env, ['query', trace, '-c', 'SELECT count(*) FROM events', '--format', 'csv'], 1_800_000);
  return Number(out.trim().split('\n').pop());
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js'))) fail('not built: run `npx tsc -p tsconfig.json` first');
  for (const f of [PYTHON, '/usr/bin/lttng-cputop', '/usr/bin/lttng-syscallstats']) if (!fs.existsSync(f)) fail(`${f} is not installed`);
  let trace = o.trace;
  if (!trace) {
    if (process.getuid?.() !== 0) fail('recording a kernel trace needs root (or pass --trace DIR)');
    trace = `/tmp/ltt-bench-analyses-${o.events}`;
    if (!fs.existsSync(trace)) {
      process.stderr.write(`recording ${trace} ...\n`);
      await record(trace, o.events);
    }
  }
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'ltt-bench-cache-'));
  try {
    const env = { ...process.env, LTT_CACHE: cache };
    const imported = await runTimed([process.execPath, LTT, 'query', trace, '-c', '"SELECT 1"'].join(' '), env, 3_600_000);
    const events = await countEvents(trace, env);
    const du = fs.readdirSync(trace, { recursive: true }).reduce((a, f) => {
      const st = fs.statSync(path.join(trace, String(f)));
      return a + (st.isFile() ? st.size : 0);
    }, 0);
    console.log(`trace ${trace}: ${(events / 1e6).toFixed(2)} M events, ${(du / 2 ** 20).toFixed(0)} MiB`);
    const fmt = (r) => `wall ${r.wall.toFixed(2).padStart(7)} s  cpu ${r.cpu.toFixed(2).padStart(7)} s`;
    console.log(`${'ltt import (query)'.padEnd(20)} ${fmt(imported)}  ${(events / imported.wall / 1e6).toFixed(2)} M events/s, ${(events / imported.cpu / 1e6).toFixed(2)} M per CPU-second (goal 2 M/s: ${events / imported.wall >= 2e6 ? 'met' : 'missed'})`);
    for (const [peer, ours] of [['lttng-cputop', 'cputop'], ['lttng-syscallstats', 'syscallstats']]) {
      for (let run = 0; run < o.runs; run++) {
        const p = await runTimed([PYTHON, `/usr/bin/${peer}`, '--no-progress', trace].join(' '), process.env, 3_600_000);
        fs.rmSync(cache, { recursive: true, force: true });
        const cold = await runTimed([process.execPath, LTT, 'analyze', ours, trace].join(' '), env, 1_800_000);
        const warm = await runTimed([process.execPath, LTT, 'analyze', ours, trace].join(' '), env, 1_800_000);
        console.log(`${peer.padEnd(20)} ${fmt(p)}`);
        console.log(`${`ltt analyze ${ours} cold`.padEnd(20)} ${fmt(cold)}  x${(p.wall / cold.wall).toFixed(1)} wall, x${(p.cpu / cold.cpu).toFixed(1)} cpu (goal x20 wall: ${p.wall / cold.wall >= 20 ? 'met' : 'missed'})`);
        console.log(`${`ltt analyze ${ours} warm`.padEnd(20)} ${fmt(warm)}  x${(p.wall / warm.wall).toFixed(1)} wall, x${(p.cpu / warm.cpu).toFixed(1)} cpu (goal < 1 s: ${warm.wall < 1 ? 'met' : 'missed'})`);
      }
    }
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
}

main().catch((err) => fail(err.message));
