// Per-command time of `ltt` against LTTng's own `lttng` (the C client): LTTng's regression scripts and users'
// scripts run hundreds of short commands in a row, where each one's start-up is most of its time.
//
// Usage (after `npm run build`: bin/ltt runs its bundles): node bench/startup.mjs [--runs N] [--ltt TREE]...
//   --runs N    runs of each command per tool (default 20); the median and the 90th percentile are printed
//   --ltt TREE  an ltt checkout to time (bin/ltt, bin/ltt-sessiond of TREE, built); repeat it to compare trees
//               side by side (an old build against the new one), default: this checkout
// Each tool gets its own daemon in private folders: ltt-sessiond --no-kernel with its own LTT_HOME and
// LTT_RUNDIR; lttng-sessiond --no-kernel with its own LTTNG_HOME, and, as root, in a private mount namespace
// (tmpfs on /run/lttng and /dev/shm, as test/relay/lttng-stream.sh), so no other LTTng on the machine sees it.
// The tools run alternately, command by command, so a change of machine load weighs on all of them alike.
// `create (daemon start)` is a create with no daemon running: the client starts one and waits for it (each
// such daemon is stopped again). Every command must succeed; the load average is printed before and after.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 20;
// A missing or bad count (NaN ran no command and printed nothing) is said in one line.
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`startup.mjs: --runs takes a whole number of runs, 1 or more (got ${args[runsAt + 1] ?? 'nothing'})`);
  process.exit(2);
}
const trees = args.flatMap((a, i) => (args[i - 1] === '--ltt' ? [resolve(a)] : []));
if (trees.length === 0) trees.push(root);

// As root, lttng-sessiond's sockets and shared memory are global (/run/lttng, /dev/shm): run in a private mount
// namespace with both on a tmpfs of its own.
if (process.getuid?.() === 0 && !process.env.LTT_STARTUP_BENCH_NS) {
  const r = spawnSync(
    'unshare',
    ['-m', '--propagation', 'private', 'bash', '-c', 'mkdir -p /run/lttng && mount -t tmpfs startup-lttng /run/lttng && mount -t tmpfs startup-shm /dev/shm && exec "$@"', 'bash', process.execPath, fileURLToPath(import.meta.url), ...args],
    { stdio: 'inherit', env: { ...process.env, LTT_STARTUP_BENCH_NS: '1' } },
  );
  process.exit(r.status ?? 1);
}

if (process.env.NODE_EXTRA_CA_CERTS) console.log('note: NODE_EXTRA_CA_CERTS is set here; the timed runs leave it out (Node would read that file at each start)');
const baseEnv = { ...process.env };
delete baseEnv.NODE_EXTRA_CA_CERTS;
const work = mkdtempSync(join(tmpdir(), 'ltt-startup-bench-'));

/** One tool: its client command line and its daemon's start and stop. */
function lttTool(tree, n) {
  const home = join(work, `ltt${n}`, 'home');
  const rundir = join(work, `ltt${n}`, 'run');
  mkdirSync(home, { recursive: true });
  const env = { ...baseEnv, LTT_HOME: home, LTT_RUNDIR: rundir };
  const pidFile = join(rundir, 'ltt-sessiond.pid');
  return {
    name: trees.length > 1 ? `ltt ${n} (${tree})` : 'ltt',
    file: process.execPath,
    prefix: [join(tree, 'bin', 'ltt')],
    env,
    // ltt-sessiond --no-kernel, as lttng-sessiond below: the commands timed are the same on both sides.
    startDaemon: () => run(process.execPath, [join(tree, 'bin', 'ltt-sessiond'), '--daemonize', '--no-kernel'], env),
    stopDaemon: () => stop(pidFile),
  };
}

function lttngTool() {
  const home = join(work, 'lttng', 'home');
  mkdirSync(home, { recursive: true });
  const env = { ...baseEnv, LTTNG_HOME: home };
  const pidFile = process.getuid?.() === 0 ? '/run/lttng/lttng-sessiond.pid' : join(home, '.lttng', 'lttng-sessiond.pid');
  return {
    name: 'lttng',
    file: 'lttng',
    prefix: [],
    env,
    startDaemon: () => run('lttng-sessiond', ['--daemonize', '--no-kernel'], env),
    stopDaemon: () => stop(pidFile),
  };
}

function run(file, argv, env) {
  const r = spawnSync(file, argv, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${file} ${argv.join(' ')} exited with ${r.status}: ${r.stderr}${r.error ?? ''}`);
  return r;
}

function stop(pidFile) {
  let pid;
  try {
    pid = Number(readFileSync(pidFile, 'utf8'));
  } catch {
    return;
  }
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      return;
    }
    spawnSync('sleep', ['0.05']);
  }
}

/** Wall time of one client run, in ms. */
function timed(tool, argv) {
  const t0 = process.hrtime.bigint();
  run(tool.file, [...tool.prefix, ...argv], tool.env);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const tools = [...trees.map((t, i) => lttTool(t, i + 1)), lttngTool()];
for (const tree of trees) if (!existsSync(join(tree, 'dist'))) throw new Error(`${tree} is not built (npm run build)`);

// One round: the commands of a short session, as a script runs them.
const ROUND = [
  ['version'],
  ['create', 'bench'],
  ['enable-channel', '-u', 'ch', '-s', 'bench'],
  ['enable-event', '-u', 'app:*', '-c', 'ch', '-s', 'bench'],
  ['start', 'bench'],
  ['list'],
  ['list', 'bench'],
  ['status'],
  ['stop', 'bench'],
  ['destroy', 'bench'],
];
const label = (argv) => argv.join(' ').replaceAll('-s bench', '').replaceAll('bench', 'S').trim();
const times = new Map(); // label -> tool name -> ms[]
const add = (what, tool, ms) => {
  if (!times.has(what)) times.set(what, new Map());
  const byTool = times.get(what);
  if (!byTool.has(tool.name)) byTool.set(tool.name, []);
  byTool.get(tool.name).push(ms);
};

const loadBefore = loadavg();
try {
  // The daemons' start, with the first command: a create with no daemon (runs / 4 times, at least 3).
  for (let i = 0; i < Math.max(3, Math.ceil(runs / 4)); i++) {
    for (const tool of tools) {
      add('create (daemon start)', tool, timed(tool, ['create', 'bench']));
      run(tool.file, [...tool.prefix, 'destroy', 'bench'], tool.env);
      tool.stopDaemon();
    }
  }
  for (const tool of tools) tool.startDaemon();
  // Node's own start, the floor of any ltt command: `node -e 0` in the ltt columns.
  const bareNode = { file: process.execPath, prefix: [], env: baseEnv };
  for (let i = 0; i < runs; i++) {
    for (const argv of ROUND) for (const tool of tools) add(label(argv), tool, timed(tool, argv));
    for (const tool of tools.slice(0, -1)) add('(node -e 0)', tool, timed(bareNode, ['-e', '0']));
  }
} finally {
  for (const tool of tools) tool.stopDaemon();
  rmSync(work, { recursive: true, force: true });
}
const loadAfter = loadavg();

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const names = tools.map((t) => t.name);
console.log(`runs per command: ${runs} (daemon starts: ${Math.max(3, Math.ceil(runs / 4))}); wall time per command, ms: median (90th percentile)`);
names.forEach((n, i) => console.log(`  [${i + 1}] ${n}`));
const width = 26;
const last = names.length - 1; // the last ltt tree given
console.log(`${'command'.padEnd(width)}${names.map((_, i) => `[${i + 1}]`.padStart(16)).join('')}${`[${last}]/lttng`.padStart(12)}`);
for (const [what, byTool] of times) {
  const cells = names.map((n) => {
    const xs = byTool.get(n);
    return (xs ? `${quantile(xs, 0.5).toFixed(1)} (${quantile(xs, 0.9).toFixed(0)})` : '-').padStart(16);
  });
  const ours = byTool.get(names[last - 1]);
  const theirs = byTool.get('lttng');
  const ratio = ours && theirs ? (quantile(ours, 0.5) / quantile(theirs, 0.5)).toFixed(1) : '-';
  console.log(`${what.padEnd(width)}${cells.join('')}${ratio.padStart(12)}`);
}
console.log(`load average: before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
