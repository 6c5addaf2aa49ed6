// ltt/auto vs OpenTelemetry on a real HTTP server under load, side by side in one run.
//
// Contract: `node bench/auto.mjs [--duration S] [--connections C] [--rounds R]` (root for the kernel variant,
// after `npx tsc`). Five copies of bench/auto-app.mjs (a JSON endpoint with one await) run at once, pinned to
// CPU 0, and autocannon (C connections, default 20) on CPU 1 loads one at a time for S seconds (default 2),
// loopback only, in R rounds (default 10) over the five, the order rotated each round: interleaving short
// runs spreads the load of other jobs on the machine evenly over the variants. Medians are reported.
//   none        no tracing;
//   auto-idle   --import ltt/auto, no session daemon (what loading it costs);
//   auto        --import ltt/auto, registered with a private daemon whose session records `node:*` (vpid, vtid);
//   auto+kernel the same with a second daemon whose session also records the kernel (sched_switch,
//               sched_waking, sched_wakeup, every system call: of the whole machine, so it is started only
//               around this variant's runs);
//   otel        --import bench/auto-otel.mjs: OpenTelemetry's Node SDK, HTTP instrumentation, batch span
//               processor exporting JSON lines to a file.
// Prints requests/s and p99 latency per variant, the overhead (1 - rps / rps of none), the server's CPU time
// per request (all its threads: ltt/ust's consumer and OpenTelemetry's exporter included; the kernel session's
// daemon, which consumes the kernel buffers, beside it) and its overhead, bytes written, and the ratios of
// OpenTelemetry's overhead to ltt/auto's. Every child is time-bound; daemons and temp folders are removed.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDaemonPid, stopProcess } from '../scripts/private-daemon.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LTT = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
const AUTO = path.join(ROOT, 'dist', 'src', 'auto', 'index.js');
const APP = path.join(ROOT, 'bench', 'auto-app.mjs');
const OTEL = path.join(ROOT, 'bench', 'auto-otel.mjs');
const AUTOCANNON = path.join(ROOT, 'node_modules', 'autocannon', 'autocannon.js');

function fail(msg) {
  process.stderr.write(`bench/auto: ${msg}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const o = { duration: 2, connections: 20, rounds: 10 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = Number(argv[++i]);
    if (!Number.isInteger(v) || v <= 0) fail(`${a} needs a positive integer`);
    if (a === '--duration') o.duration = v;
    else if (a === '--connections') o.connections = v;
    else if (a === '--rounds') o.rounds = v;
    else fail(`unknown option ${a}`);
  }
  return o;
}

/** Runs a command to its end (bounded); resolves with its output. */
function run(file, args, { env = process.env, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const c = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('error', reject);
    c.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function must(file, args, opts) {
  const r = await run(file, args, opts);
  if (r.code !== 0) throw new Error(`${path.basename(file)} ${args.join(' ')}: ${r.stderr || r.stdout}`);
  return r;
}

/** Starts the server pinned to CPU 0; resolves once it listens. */
function startServer(preload, env) {
  const args = ['-c', '0', process.execPath, ...(preload ? ['--import', preload] : []), APP, '0'];
  const child = spawn('taskset', args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error('the server did not start'))), 60_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.on('exit', () => reject(new Error(`the server exited: ${out}`)));
  });
}

function stopServer(child) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** CPU seconds (user + system) a process has used, all its threads; 0 once it is gone. */
function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}
const CLK_TCK = 100;

async function load(port, o, pids, seconds = o.duration) {
  const url = `http://127.0.0.1:${port}/`;
  const cpu0 = pids.map(cpuSeconds);
  const r = await must('taskset', ['-c', '1', process.execPath, AUTOCANNON, '-c', String(o.connections), '-d', String(seconds), '-j', url], {
    timeoutMs: (seconds + 60) * 1000,
  });
  const cpu = pids.map((p, i) => cpuSeconds(p) - cpu0[i]);
  const j = JSON.parse(r.stdout);
  if (j.errors > 0 || j.non2xx > 0) throw new Error(`autocannon: ${j.errors} errors, ${j.non2xx} non-2xx`);
  // CPU per request: what throughput would be on an idle machine, less at the mercy of other jobs' load.
  const n = j.requests.total || 1;
  return { rps: j.requests.average, p99: j.latency.p99, total: j.requests.total, appUs: (cpu[0] / n) * 1e6, daemonUs: ((cpu[1] ?? 0) / n) * 1e6 };
}

function dirBytes(p) {
  let n = 0;
  const walk = (q) => {
    const st = fs.statSync(q);
    if (st.isDirectory()) for (const e of fs.readdirSync(q)) walk(path.join(q, e));
    else n += st.size;
  };
  if (fs.existsSync(p)) walk(p);
  return n;
}

const o = parseArgs(process.argv.slice(2));
if (process.getuid?.() !== 0) fail('run as root: the auto+kernel variant records the kernel (tracefs)');
for (const f of [LTT, AUTO, AUTOCANNON]) if (!fs.existsSync(f)) fail(`missing ${f} (npx tsc -p tsconfig.json; npm ci)`);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ltt-bench-auto-'));
/** A private daemon's environment (its own run and home folders). */
function daemonEnv(name) {
  const home = path.join(work, `${name}-home`);
  fs.mkdirSync(home);
  return { ...process.env, LTT_RUNDIR: path.join(work, `${name}-run`), LTT_HOME: home, LTT_UST_REGISTER_TIMEOUT: '20000' };
}
const envU = daemonEnv('ust');
const envK = daemonEnv('kernel');
const lttIn = (env) => (...args) => must(process.execPath, [LTT, ...args], { env });
const lttU = lttIn(envU);
const lttK = lttIn(envK);

const VARIANTS = ['none', 'auto-idle', 'auto', 'auto+kernel', 'otel'];
const results = Object.fromEntries(VARIANTS.map((v) => [v, []]));
const servers = {};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
let kernelDaemon;
try {
  for (const [ltt, name, kernel] of [[lttU, 'u', false], [lttK, 'k', true]]) {
    await ltt('create', name, '-o', path.join(work, `trace-${name}`));
    if (kernel) {
      await ltt('enable-channel', '-k', '--subbuf-size=4M', 'k');
      await ltt('enable-event', '-k', '-c', 'k', 'sched_switch,sched_waking,sched_wakeup');
      await ltt('enable-event', '-k', '-c', 'k', '--syscall', '-a');
    }
    await ltt('enable-channel', '-u', '--subbuf-size=1M', 'u');
    await ltt('enable-event', '-u', '-c', 'u', 'node:*');
    await ltt('add-context', '-u', '-c', 'u', '-t', 'vpid', '-t', 'vtid');
  }
  await lttU('start');
  kernelDaemon = readDaemonPid(envK.LTT_RUNDIR);
  const setups = {
    none: [undefined, process.env],
    'auto-idle': [AUTO, { ...process.env, LTT_RUNDIR: path.join(work, 'no-daemon') }],
    auto: [AUTO, envU],
    'auto+kernel': [AUTO, envK],
    otel: [OTEL, { ...process.env, OTEL_BENCH_FILE: path.join(work, 'otel-spans.jsonl') }],
  };
  for (const v of VARIANTS) {
    servers[v] = await startServer(...setups[v]);
    // Warm-up: JIT, connections.
    if (v === 'auto+kernel') await lttK('start');
    await load(servers[v].port, o, [servers[v].child.pid], 1);
    if (v === 'auto+kernel') await lttK('stop');
  }
  for (let round = 0; round < o.rounds; round++) {
    const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]);
    for (const v of order) {
      if (v === 'auto+kernel') await lttK('start');
      const r = await load(servers[v].port, o, [servers[v].child.pid, kernelDaemon ?? 0]);
      if (v === 'auto+kernel') await lttK('stop');
      else r.daemonUs = 0;
      results[v].push(r);
      process.stderr.write(`round ${round + 1} ${v.padEnd(12)} ${r.rps.toFixed(0).padStart(7)} req/s  p99 ${String(r.p99).padStart(4)} ms  app ${r.appUs.toFixed(0)} us/req\n`);
    }
  }
} finally {
  for (const s of Object.values(servers)) await stopServer(s.child);
  for (const env of [envU, envK]) {
    const pid = readDaemonPid(env.LTT_RUNDIR);
    if (pid) {
      await run(process.execPath, [LTT, 'destroy', '-a'], { env, timeoutMs: 60_000 });
      await stopProcess(pid);
    }
  }
}
const bytes = { auto: dirBytes(path.join(work, 'trace-u')), 'auto+kernel': dirBytes(path.join(work, 'trace-k')), otel: dirBytes(path.join(work, 'otel-spans.jsonl')) };
fs.rmSync(work, { recursive: true, force: true });

const base = median(results.none.map((r) => r.rps));
const baseUs = median(results.none.map((r) => r.appUs));
console.log(`bench/auto: ${o.rounds} rounds x ${o.duration} s per variant, ${o.connections} connections, servers on CPU 0, autocannon on CPU 1; medians`);
console.log(`${'variant'.padEnd(12)} ${'req/s'.padStart(9)} ${'p99 ms'.padStart(7)} ${'overhead'.padStart(9)} ${'app us/req'.padStart(11)} ${'CPU overhead'.padStart(13)} ${'daemon us/req'.padStart(14)} ${'MB written'.padStart(11)}`);
const overhead = {};
const cpuOverhead = {};
for (const v of VARIANTS) {
  const rps = median(results[v].map((r) => r.rps));
  const us = median(results[v].map((r) => r.appUs));
  overhead[v] = 1 - rps / base;
  cpuOverhead[v] = us / baseUs - 1;
  console.log(
    `${v.padEnd(12)} ${rps.toFixed(0).padStart(9)} ${median(results[v].map((r) => r.p99)).toFixed(0).padStart(7)} ${`${(overhead[v] * 100).toFixed(1)}%`.padStart(9)} ` +
      `${us.toFixed(1).padStart(11)} ${`${(cpuOverhead[v] * 100).toFixed(1)}%`.padStart(13)} ${median(results[v].map((r) => r.daemonUs)).toFixed(1).padStart(14)} ` +
      `${((bytes[v] ?? 0) / 1e6).toFixed(1).padStart(11)}`,
  );
}
const ratio = (table, a, b) => (table[b] > 0 ? `${(table[a] / table[b]).toFixed(1)}x` : 'inf (ltt/auto within noise of none)');
console.log(`OpenTelemetry overhead / ltt/auto overhead, by req/s: ${ratio(overhead, 'otel', 'auto')} (ust), ${ratio(overhead, 'otel', 'auto+kernel')} (with the kernel)`);
console.log(`OpenTelemetry overhead / ltt/auto overhead, by app CPU per request: ${ratio(cpuOverhead, 'otel', 'auto')} (ust), ${ratio(cpuOverhead, 'otel', 'auto+kernel')} (with the kernel)`);
