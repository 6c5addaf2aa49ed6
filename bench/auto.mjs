// ltt/auto vs OpenTelemetry on a real HTTP server under load, side by side in one run.
//
// Contract: `node bench/auto.mjs [--seconds S] [--rounds R] [--connections C] [--variants a,b,...]` (root for the
// kernel variant, after `npx tsc`). Each variant's server (bench/auto-app.mjs: a JSON endpoint with one await)
// and a `none` twin of it run at once, all pinned to CPU 0; the load generator (autocannon, C connections,
// default 20, in this process) is pinned to CPU 1, loopback only. Each round (R, default 12) runs, for every
// variant in a rotated order, one pair of S-second loads (default 1): the variant and its twin back to back,
// which goes first alternating between rounds, so that the load other jobs put on the machine hits both sides
// of a pair alike; the twin is loaded exactly as often and left idle as long as its variant (one `none` loaded
// four times as often as its peers keeps its caches warmer on a busy machine, and looks cheaper for it).
// A variant is judged by its per-pair ratios to its twin (req/s, and the server's CPU time per request: all its
// threads, from /proc/PID/task/*/schedstat, in ns), not by its raw numbers: their median, and a distribution-free
// 95% confidence interval of that median (order statistics of the pairs), which says whether the 3% goal holds,
// fails, or is hidden in this machine's noise. Bounded: about 3 minutes with the defaults.
//   none        no tracing;
//   auto-idle   --import ltt/auto, no session daemon (what loading it costs);
//   auto        --import ltt/auto, registered with a private daemon whose session records `node:*` (vpid, vtid);
//   auto+kernel the same with a second daemon whose session also records the kernel (sched_switch,
//               sched_waking, sched_wakeup, every system call: of the whole machine, so it is started only
//               around this variant's runs; its daemon's CPU, which consumes the kernel buffers, is shown apart);
//   otel        --import bench/auto-otel.mjs: OpenTelemetry's Node SDK, HTTP instrumentation, batch span
//               processor exporting JSON lines to a file.
// Every child is time-bound; daemons and temp folders are removed.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { readDaemonPid, stopProcess } from '../scripts/private-daemon.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LTT = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
const AUTO = path.join(ROOT, 'dist', 'src', 'auto', 'index.js');
const APP = path.join(ROOT, 'bench', 'auto-app.mjs');
const OTEL = path.join(ROOT, 'bench', 'auto-otel.mjs');
const ALL_VARIANTS = ['none', 'auto-idle', 'auto', 'auto+kernel', 'otel'];
const GOAL = 0.03;
const WARM_UP = 20_000;

function fail(msg) {
  process.stderr.write(`bench/auto: ${msg}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const o = { seconds: 1, connections: 20, rounds: 12, variants: ALL_VARIANTS };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = argv[++i];
    if (a === '--variants') {
      const vs = String(value ?? '').split(',').filter(Boolean);
      const bad = vs.find((v) => !ALL_VARIANTS.includes(v));
      if (bad !== undefined || vs.length === 0) fail(`--variants takes a comma-separated list of ${ALL_VARIANTS.join(', ')}`);
      o.variants = ['none', ...vs.filter((v) => v !== 'none')];
      continue;
    }
    const v = Number(value);
    if (!Number.isInteger(v) || v <= 0) fail(`${a} needs a positive integer`);
    if (a === '--seconds') o.seconds = v;
    else if (a === '--connections') o.connections = v;
    else if (a === '--rounds') o.rounds = v;
    else fail(`unknown option ${a}`);
  }
  if (o.variants.length < 2) fail('--variants needs a variant besides none');
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
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** CPU time (ns) a process's threads have run, the live ones (schedstat: exact, not in clock ticks). */
function cpuNs(pid) {
  let ns = 0;
  let tids = [];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  for (const t of tids) {
    try {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended in between.
    }
  }
  return ns;
}

const autocannon = createRequire(path.join(ROOT, 'package.json'))('autocannon');

/**
 * One load of the server (this process, pinned to CPU 1, is the load generator): S seconds, or `amount`
 * requests (a warm-up).
 */
async function load(port, o, pids, amount) {
  const cpu0 = pids.map(cpuNs);
  const t0 = performance.now();
  const opts = { url: `http://127.0.0.1:${port}/`, connections: o.connections, ...(amount ? { amount } : { duration: o.seconds }) };
  const r = await new Promise((resolve, reject) => {
    const run = autocannon(opts, (err, res) => (clearTimeout(bound), err ? reject(err) : resolve(res)));
    // A warm-up on a very busy machine stops at 30 s, whatever it served.
    const bound = setTimeout(() => run.stop(), 30_000);
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = pids.map((p, i) => cpuNs(p) - cpu0[i]);
  if (r.errors > 0 || r.non2xx > 0) throw new Error(`autocannon: ${r.errors} errors, ${r.non2xx} non-2xx`);
  const n = r.requests.total || 1;
  return { rps: r.requests.total / (amount ? seconds : o.seconds), p99: r.latency.p99, appUs: cpu[0] / n / 1e3, daemonUs: (cpu[1] ?? 0) / n / 1e3 };
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

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * A distribution-free confidence interval of the median of xs: the k-th smallest and k-th largest, k the
 * largest rank whose binomial tail P(Bin(n, 1/2) < k) stays under 2.5% on each side (95% or more in all).
 */
function medianInterval(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  let k = 0;
  let tail = 0;
  let c = 1; // C(n, j)
  for (let j = 0; j < n; j++) {
    tail += c / 2 ** n;
    if (tail > 0.025) break;
    k = j + 1;
    c = (c * (n - j)) / (j + 1);
  }
  if (k === 0) return undefined;
  let cover = 0;
  c = 1;
  for (let j = 0; j < k; j++) {
    cover += c / 2 ** n;
    c = (c * (n - j)) / (j + 1);
  }
  return { lo: s[k - 1], hi: s[n - k], confidence: 1 - 2 * cover };
}

const o = parseArgs(process.argv.slice(2));
const VARIANTS = o.variants;
if (process.getuid?.() !== 0 && VARIANTS.includes('auto+kernel')) fail('run as root: the auto+kernel variant records the kernel (tracefs)');
for (const f of [LTT, AUTO]) if (!fs.existsSync(f)) fail(`missing ${f} (npx tsc -p tsconfig.json)`);
if (os.cpus().length < 2) fail('needs 2 CPUs: the server on CPU 0, the load generator on CPU 1');
if ((await run('taskset', ['-V'])).code !== 0) fail('needs taskset (util-linux) to pin the server and the load generator to different CPUs');

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

const results = Object.fromEntries(VARIANTS.map((v) => [v, []]));
/** Per variant, its pairs with none: [variant run, none run]. */
const pairs = Object.fromEntries(VARIANTS.map((v) => [v, []]));
const servers = {};
let kernelDaemon;
const started = Date.now();
const loadBefore = os.loadavg()[0];
try {
  const daemons = [];
  if (VARIANTS.includes('auto')) daemons.push([lttU, 'u', false]);
  if (VARIANTS.includes('auto+kernel')) daemons.push([lttK, 'k', true]);
  for (const [ltt, name, kernel] of daemons) {
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
  if (VARIANTS.includes('auto')) await lttU('start');
  kernelDaemon = readDaemonPid(envK.LTT_RUNDIR);
  const setups = {
    none: [undefined, process.env],
    'auto-idle': [AUTO, { ...process.env, LTT_RUNDIR: path.join(work, 'no-daemon') }],
    auto: [AUTO, envU],
    'auto+kernel': [AUTO, envK],
    otel: [OTEL, { ...process.env, OTEL_BENCH_FILE: path.join(work, 'otel-spans.jsonl') }],
  };
  // The load generator from here on: this process's threads (and the ltt commands it runs) on CPU 1.
  await must('taskset', ['-a', '-p', '-c', '1', String(process.pid)]);
  /** Loads server `key`: a variant's, or `none:VARIANT` (that variant's own none). */
  const measure = async (key, amount) => {
    const v = key.startsWith('none:') ? 'none' : key;
    if (v === 'auto+kernel') await lttK('start');
    const r = await load(servers[key].port, o, [servers[key].child.pid, v === 'auto+kernel' ? (kernelDaemon ?? 0) : 0], amount);
    if (v === 'auto+kernel') await lttK('stop');
    return r;
  };
  const others = VARIANTS.filter((v) => v !== 'none');
  for (const v of others) {
    for (const key of [v, `none:${v}`]) {
      servers[key] = await startServer(...setups[key === v ? v : 'none']);
      // Warm-up by requests, not time: until V8 optimized the code, a request costs several times its CPU, and
      // on a busy machine a second may serve only a few thousand of them.
      await measure(key, WARM_UP);
    }
  }
  // Round 0 is not recorded: after the warm-ups, each server has been idle for a different time.
  for (let round = 0; round <= o.rounds; round++) {
    for (let i = 0; i < others.length; i++) {
      const v = others[(i + round) % others.length];
      const order = round % 2 === 0 ? [v, 'none'] : ['none', v];
      const got = {};
      for (const w of order) got[w] = await measure(w === 'none' ? `none:${v}` : w);
      if (round === 0) continue;
      results[v].push(got[v]);
      results.none.push(got.none);
      pairs[v].push([got[v], got.none]);
      process.stderr.write(
        `round ${String(round).padStart(2)} ${v.padEnd(12)} ${got[v].rps.toFixed(0).padStart(6)} req/s ${got[v].appUs.toFixed(2).padStart(6)} us/req` +
          `   none ${got.none.rps.toFixed(0).padStart(6)} req/s ${got.none.appUs.toFixed(2).padStart(6)} us/req\n`,
      );
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

const pct = (x) => `${(x * 100).toFixed(1)}%`;
const span = (iv) => (iv === undefined ? 'n/a (too few rounds)' : `${pct(iv.lo)} .. ${pct(iv.hi)}`);
console.log(
  `bench/auto: ${o.rounds} rounds x ${o.seconds} s pairs (variant, its none twin; after a warm-up of ${WARM_UP} requests each and an unrecorded round), ${o.connections} connections, servers on CPU 0, ` +
    `load generator on CPU 1, ${((Date.now() - started) / 1000).toFixed(0)} s, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`,
);
console.log(
  `${'variant'.padEnd(12)} ${'req/s'.padStart(7)} ${'p99 ms'.padStart(6)} ${'us/req'.padStart(7)} ${'daemon'.padStart(7)} ${'MB'.padStart(6)}` +
    `  ${'req/s overhead (95% CI)'.padEnd(30)} CPU/req overhead (95% CI)`,
);
const overhead = {};
const cpuOverhead = {};
const intervals = {};
for (const v of VARIANTS) {
  const rs = results[v];
  let cols = '';
  if (v !== 'none') {
    const rpsLoss = pairs[v].map(([a, b]) => 1 - a.rps / b.rps);
    const cpuGain = pairs[v].map(([a, b]) => a.appUs / b.appUs - 1);
    overhead[v] = median(rpsLoss);
    cpuOverhead[v] = median(cpuGain);
    intervals[v] = { rps: medianInterval(rpsLoss), cpu: medianInterval(cpuGain) };
    cols = `  ${`${pct(overhead[v])} (${span(intervals[v].rps)})`.padEnd(30)} ${pct(cpuOverhead[v])} (${span(intervals[v].cpu)})`;
  }
  console.log(
    `${v.padEnd(12)} ${median(rs.map((r) => r.rps)).toFixed(0).padStart(7)} ${median(rs.map((r) => r.p99)).toFixed(0).padStart(6)} ` +
      `${median(rs.map((r) => r.appUs)).toFixed(2).padStart(7)} ${(v === 'auto+kernel' ? median(rs.map((r) => r.daemonUs)).toFixed(2) : '-').padStart(7)} ` +
      `${(bytes[v] !== undefined ? (bytes[v] / 1e6).toFixed(1) : '-').padStart(6)}${cols}`,
  );
}
console.log('Overheads are medians of per-pair ratios to none (1 - req/s ratio; CPU us per request ratio - 1).');
// The bench's own two busy processes (a server, the load generator) make a load average of about 2.
const busy = Math.max(loadBefore, os.loadavg()[0]);
if (busy > os.cpus().length + 1) {
  console.log(`Warning: load average ${busy.toFixed(1)} on ${os.cpus().length} CPUs: other jobs share the servers' CPU, which inflates and skews CPU per request (less batching per loop turn); measure again on a quiet machine.`);
}
const verdict = (iv, m) => {
  if (iv === undefined) return `median ${pct(m)}; too few rounds for a confidence interval`;
  const c = `${(iv.confidence * 100).toFixed(0)}%`;
  if (iv.hi <= GOAL) return `holds (median ${pct(m)}; with ${c} confidence at most ${pct(iv.hi)})`;
  if (iv.lo > GOAL) return `FAILS (median ${pct(m)}; with ${c} confidence at least ${pct(iv.lo)})`;
  return `undecided, this machine's noise spans the goal (median ${pct(m)}; ${c} interval ${span(iv)})`;
};
for (const v of ['auto', 'auto+kernel']) {
  if (!VARIANTS.includes(v)) continue;
  console.log(`Goal: ${v} at most ${pct(GOAL)} overhead. By req/s: ${verdict(intervals[v].rps, overhead[v])}.`);
  console.log(`Goal: ${v} at most ${pct(GOAL)} overhead. By CPU per request: ${verdict(intervals[v].cpu, cpuOverhead[v])}.`);
}
if (VARIANTS.includes('otel')) {
  const ratio = (table, a, b) => (table[b] > 0 ? `${(table[a] / table[b]).toFixed(1)}x` : `inf (${b} at or under none)`);
  for (const v of ['auto', 'auto+kernel']) {
    if (!VARIANTS.includes(v)) continue;
    console.log(`OpenTelemetry's overhead / ${v}'s (goal at least 5x): by req/s ${ratio(overhead, 'otel', v)}, by CPU per request ${ratio(cpuOverhead, 'otel', v)}`);
  }
}
