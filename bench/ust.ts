// bench/ust: cost per event of ltt/ust tracepoints next to other ways a Node program can record the same event
// (one int and one short string), and LTTng-UST's C tracepoint on this machine.
//
// Usage: npm run build && node dist/bench/ust.js [N]   (N events per run, default 10,000,000)
// Each configuration runs in its own child process (fresh JIT, no cross-talk), measures wall time and the
// emitting thread's own CPU time (/proc/thread-self/schedstat, which leaves out time stolen by other load on
// this shared 2-core VM), and the report prints both plus the ratios to the goals:
//   disabled ltt event <= 2 ns; enabled <= 0.6 x LTTng-UST; >= 20x cheaper than pino; no event lost by the
//   consumer at full speed with 4 x 1 MiB sub-buffers.
// pino is used only if installed somewhere (PINO_DIR, or /tmp/ltt-pino: `npm install --no-save pino` there);
// it is never a dependency. LTTng-UST runs shared/peers/ust-app (built into a temp dir) under a private
// lttng-sessiond in a private mount namespace (as shared/peers/common.sh does), so no other sessiond is
// touched; it is skipped with a note when lttng or the compiler is missing.

import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PEERS } from '../test/repo-paths.js';

interface Result {
  readonly name: string;
  readonly wallNs?: number;
  readonly cpuNs?: number;
  readonly recorded?: number;
  readonly discarded?: number;
  readonly note?: string;
  /** The consumer's per-sub-buffer latencies (LTT_UST_SUBBUF_LOG), summarized. */
  readonly subbufs?: string;
}

const HELLO = 'hello-peer';

function threadCpuNs(): number {
  return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
}

/** Times fn(n) after a warm-up; returns per-iteration wall and thread-CPU ns. */
function time(fn: (n: number) => void, n: number): { wallNs: number; cpuNs: number } {
  fn(Math.min(200_000, n));
  const c0 = threadCpuNs();
  const t0 = process.hrtime.bigint();
  fn(n);
  const t1 = process.hrtime.bigint();
  const c1 = threadCpuNs();
  return { wallNs: Number(t1 - t0) / n, cpuNs: (c1 - c0) / n };
}

async function child(mode: string, n: number, dir: string): Promise<Result> {
  switch (mode) {
    case 'baseline': {
      let sink = 0;
      const r = time((m) => {
        for (let i = 0; i < m; i++) sink += i & 1;
      }, n);
      return { name: 'empty loop', ...r, note: String(sink > 0) };
    }
    case 'ltt-disabled':
    case 'ltt-enabled':
    case 'ltt-blocking': {
      const ust = await import('../src/ust/index.js');
      const tick = ust.provider('prov').event('ev', [ust.int32('n'), ust.string('s')]);
      if (mode !== 'ltt-disabled') {
        ust.startLocalSession({ dir, subbufSize: 1 << 20, numSubbuf: 4, blockingTimeoutMs: mode === 'ltt-blocking' ? Infinity : 0 });
      }
      const r = time((m) => {
        for (let i = 0; i < m; i++) {
          if (tick.enabled) tick.emit(i, HELLO);
        }
      }, n);
      if (mode === 'ltt-disabled') return { name: 'ltt/ust disabled', ...r };
      ust.flush();
      const s = ust.stats();
      // The warm-up events count too; report totals for the whole run.
      const name = mode === 'ltt-blocking' ? 'ltt/ust enabled (4 x 1 MiB, blocking inf)' : 'ltt/ust enabled (4 x 1 MiB, discard)';
      return { name, ...r, recorded: s.recorded + s.pending, discarded: s.discarded };
    }
    case 'pino': {
      const req = createRequire(join(resolve(process.env['PINO_DIR'] ?? '/tmp/ltt-pino'), 'package.json'));
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const pino = req('pino') as any;
      const logger = pino(pino.destination({ dest: '/dev/null', sync: false, minLength: 4096 }));
      const r = time((m) => {
        for (let i = 0; i < m; i++) logger.info({ n: i, s: HELLO });
      }, n);
      logger.flush?.();
      return { name: 'pino (async dest /dev/null)', ...r };
    }
    case 'trace-events': {
      const { createTracing } = await import('node:trace_events');
      const { performance } = await import('node:perf_hooks');
      const t = createTracing({ categories: ['node.perf.usertiming'] });
      t.enable();
      const r = time((m) => {
        for (let i = 0; i < m; i++) {
          performance.mark(HELLO, { detail: i });
          if ((i & 1023) === 0) performance.clearMarks();
        }
      }, n);
      t.disable();
      return { name: 'node:trace_events (performance.mark)', ...r };
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

/** "p50/p99/max" of the pickup and write columns of a sub-buffer log (trace-writer.ts: LTT_UST_SUBBUF_LOG). */
function subbufSummary(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const rows = readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => l.split(' ').map(Number));
  if (rows.length === 0) return undefined;
  const q = (col: number): string => {
    const v = rows.map((r) => r[col]!).sort((a, b) => a - b);
    return [0.5, 0.99, 1].map((p) => v[Math.min(v.length - 1, Math.floor(p * v.length))]!.toFixed(1)).join('/');
  };
  return `${rows.length} sub-buffers, ms p50/p99/max: close->pickup ${q(0)}, write ${q(1)}`;
}

function runChild(mode: string, n: number, root = tmpdir()): Result {
  const dir = mkdtempSync(join(root, `ltt-bench-${mode}-`));
  const log = join(dir, 'subbuf.log');
  try {
    const p = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', mode, String(n), dir], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, LTT_UST_OUTPUT: '', LTT_UST_SUBBUF_LOG: log },
      timeout: 600_000,
    });
    const line = p.stdout.trim().split('\n').pop() ?? '';
    if (p.status !== 0 || !line.startsWith('{')) {
      return { name: mode, note: `failed: ${(p.stderr || p.stdout).trim().split('\n').slice(-1)[0] ?? ''}` };
    }
    const r = JSON.parse(line) as Result;
    return mode === 'ltt-enabled' || mode === 'ltt-blocking' ? { ...r, name: `${r.name} -> ${root}`, subbufs: subbufSummary(log) } : r;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const LTTNG_SCRIPT = `
set -e
W=$1; N=$2; APP=$3
mkdir -p /run/lttng && mount -t tmpfs ltt-bench-run /run/lttng && mount -t tmpfs ltt-bench-shm /dev/shm
export LTTNG_HOME=$W/home; mkdir -p "$LTTNG_HOME"
lttng-sessiond --daemonize >/dev/null 2>&1
PID=$(cat /run/lttng/lttng-sessiond.pid)
trap 'kill $PID 2>/dev/null' EXIT
lttng create b --output="$W/trace" >/dev/null
lttng enable-event -u 'prov:*' >/dev/null
lttng start >/dev/null
"$APP" "$N"
lttng stop >/dev/null
lttng list b | awk '/Discarded events:/{s+=$3} END{print "discarded=" s+0}'
lttng destroy b >/dev/null
`;

function runLttng(n: number): Result {
  const name = 'LTTng-UST C tracepoint (512 KiB x 4 per CPU, discard) -> tmpdir';
  const peers = join(PEERS, 'ust-app');
  for (const bin of ['lttng', 'lttng-sessiond', 'gcc', 'unshare']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return { name, note: `skipped: ${bin} not installed` };
  }
  if (!existsSync(peers)) return { name, note: `skipped: ${peers} not found` };
  const w = mkdtempSync(join(tmpdir(), 'ltt-bench-lttng-'));
  try {
    cpSync(peers, join(w, 'app'), { recursive: true });
    execFileSync('bash', [join(w, 'app', 'build.sh')], { stdio: 'ignore' });
    writeFileSync(join(w, 'run.sh'), LTTNG_SCRIPT);
    const p = spawnSync('unshare', ['-m', '--propagation', 'private', 'bash', join(w, 'run.sh'), w, String(n), join(w, 'app', 'app')], {
      encoding: 'utf8',
      timeout: 600_000,
    });
    const m = /ns_per_iter=([\d.]+) cpu_ns=\d+ cpu_ns_per_iter=([\d.]+)/.exec(p.stdout);
    const d = /discarded=(\d+)/.exec(p.stdout);
    if (p.status !== 0 || !m) return { name, note: `failed: ${(p.stderr || p.stdout).trim().split('\n').slice(-1)[0] ?? ''}` };
    return { name, wallNs: Number(m[1]), cpuNs: Number(m[2]), discarded: d ? Number(d[1]) : undefined };
  } catch (err) {
    return { name, note: `failed: ${(err as Error).message.split('\n')[0]}` };
  } finally {
    rmSync(w, { recursive: true, force: true });
  }
}

function fmt(v: number | undefined, d = 2): string {
  return v === undefined ? '-' : v.toFixed(d);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    const r = await child(argv[1]!, Number(argv[2]), argv[3]!);
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  const n = Number(argv[0] ?? 10_000_000);
  if (!Number.isInteger(n) || n <= 0) {
    process.stderr.write('usage: node dist/bench/ust.js [N]\n');
    process.exitCode = 2;
    return;
  }
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  process.stdout.write(`# bench/ust: N=${n} per run; load average ${load}; ${new Date().toISOString()}\n`);
  const res: Record<string, Result> = {};
  res['baseline'] = runChild('baseline', Math.max(n, 100_000_000));
  res['disabled'] = runChild('ltt-disabled', Math.max(n, 100_000_000));
  // The trace goes to a file system: ext4 under tmpdir, where the kernel's page-cache allocation for a new file
  // is most of the consumer's cost, and tmpfs (/dev/shm) when present, which shows the consumer's own limit.
  res['enabled'] = runChild('ltt-enabled', n);
  if (existsSync('/dev/shm')) res['enabled-shm'] = runChild('ltt-enabled', n, '/dev/shm');
  res['blocking'] = runChild('ltt-blocking', n);
  res['lttng'] = runLttng(n);
  const pinoDir = resolve(process.env['PINO_DIR'] ?? '/tmp/ltt-pino');
  res['pino'] = existsSync(join(pinoDir, 'node_modules', 'pino'))
    ? runChild('pino', Math.min(n, 2_000_000))
    : { name: 'pino', note: `skipped: pino not installed (cd ${pinoDir} && npm install --no-save pino)` };
  res['trace-events'] = runChild('trace-events', Math.min(n, 2_000_000));

  process.stdout.write(`${'configuration'.padEnd(66)} ${'wall ns/ev'.padStart(10)} ${'cpu ns/ev'.padStart(10)}  notes\n`);
  for (const r of Object.values(res)) {
    const notes = [
      r.recorded !== undefined ? `recorded=${r.recorded}` : '',
      r.discarded !== undefined ? `discarded=${r.discarded}` : '',
      r.note && !/^(true|false)$/.test(r.note) ? r.note : '',
    ].filter(Boolean).join(' ');
    process.stdout.write(`${r.name.padEnd(66)} ${fmt(r.wallNs).padStart(10)} ${fmt(r.cpuNs).padStart(10)}  ${notes}\n`);
  }
  const en = res['enabled']!;
  const ratio = (a: Result, b: Result): string =>
    a.cpuNs !== undefined && b.cpuNs !== undefined ? `${(a.cpuNs / b.cpuNs).toFixed(2)}x (cpu), ${(a.wallNs! / b.wallNs!).toFixed(2)}x (wall)` : 'n/a';
  process.stdout.write('\nratios and goals:\n');
  process.stdout.write(`  disabled: ${fmt(res['disabled']!.cpuNs)} ns cpu (goal <= 2 ns; empty loop ${fmt(res['baseline']!.cpuNs)} ns)\n`);
  process.stdout.write(`  enabled / LTTng-UST: ${ratio(en, res['lttng']!)} (goal <= 0.6x)\n`);
  process.stdout.write(`  pino / enabled: ${ratio(res['pino']!, en)} (goal >= 20x)\n`);
  process.stdout.write(`  trace_events / enabled: ${ratio(res['trace-events']!, en)}\n`);
  for (const k of ['enabled', 'enabled-shm', 'blocking']) {
    const e = res[k];
    if (e?.recorded === undefined) continue;
    const lost = e.discarded ?? 0;
    process.stdout.write(
      `  consumer kept up, one thread at full speed, ${e.name.replace('ltt/ust enabled ', '')}: ` +
        `${lost === 0 ? 'yes, 0 events discarded' : `NO, ${lost} of ${e.recorded + lost} discarded (${((100 * lost) / (e.recorded + lost)).toFixed(2)}%)`}\n`,
    );
    if (e.subbufs !== undefined) process.stdout.write(`    ${e.subbufs}\n`);
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(`bench/ust: ${(err as Error).message}\n`);
  process.exitCode = 1;
});

