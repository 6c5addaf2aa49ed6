// User-space tracing through the session daemon, end to end: a real ltt-sessiond in a private runtime directory
// (spawned by `ltt create`), real Node processes (main thread + worker) loading ltt/ust from the build, the real
// CLI, and the traces read with our viewer (`ltt view`) and with /usr/bin/babeltrace2.

import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { LttTestEnv, type RunResult } from '../cli/ltt-test-env.js';
import { BT, DEMO, ROOT, discardedEvents, writeScript } from '../ust/helpers.js';
import { drivenAppSource, startDrivenApp } from '../robustness/robustness-env.js';
import { encodeFrame, FrameDecoder } from '../../src/control/framing.js';
import { APP_SOCKET_NAME } from '../../src/ust/app-protocol.js';

const TICK_RE = /demo:tick: \{ cpu_id = (\d+) \}, \{ i = (-?\d+), msg = "([^"]*)" \}$/;

/** Event lines of `demo:tick` grouped by msg (emitting thread), checking each line's shape. */
function ticks(lines: readonly string[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const l of lines) {
    if (!l.includes('demo:tick')) continue;
    const m = TICK_RE.exec(l);
    assert.ok(m, `unexpected line: ${l}`);
    const list = out.get(m[3]!) ?? [];
    list.push(Number(m[2]));
    out.set(m[3]!, list);
  }
  return out;
}

/** lttng-ust's built-in tracepoints as every app lists them (src/ust/builtin-tracepoints.ts), and their fields. */
const LEVELS = ['EMERG', 'ALERT', 'CRIT', 'ERR', 'WARNING', 'NOTICE', 'INFO', 'DEBUG_SYSTEM', 'DEBUG_PROGRAM', 'DEBUG_PROCESS',
  'DEBUG_MODULE', 'DEBUG_UNIT', 'DEBUG_FUNCTION', 'DEBUG_LINE', 'DEBUG'];
const STATEDUMP: Array<[string, string[]]> = [
  ['start', []],
  ['bin_info', ['baddr (integer)', 'memsz (integer)', 'path (string)', 'is_pic (integer)', 'has_build_id (integer)', 'has_debug_link (integer)']],
  ['build_id', ['baddr (integer)', 'build_id (unknown)']],
  ['debug_link', ['baddr (integer)', 'crc (integer)', 'filename (string)']],
  ['procname', ['procname (string)']],
  ['end', []],
];
const BUILTIN_LINES = [
  '      lttng_ust_tracef:event (loglevel: TRACE_DEBUG (14)) (type: tracepoint)\n',
  ...LEVELS.map((l, k) => `      lttng_ust_tracelog:TRACE_${l} (loglevel: TRACE_${l} (${k})) (type: tracepoint)\n`),
  ...STATEDUMP.map(([e]) => `      lttng_ust_statedump:${e} (loglevel: TRACE_DEBUG_LINE (13)) (type: tracepoint)\n`),
];
/** Each line's fields under `list -u -f`; undefined: the tracepoint has none, and -f (as lttng's) lists it not. */
const BUILTIN_FIELDS: Array<string | undefined> = [
  '        field: msg (string)\n',
  ...LEVELS.map(() => '        field: file (string)\n        field: line (integer)\n        field: func (string)\n        field: msg (string)\n'),
  ...STATEDUMP.map(([, fields]) => (fields.length === 0 ? undefined : fields.map((f) => `        field: ${f}\n`).join(''))),
];

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

async function ok(env: LttTestEnv, ...args: string[]): Promise<RunResult> {
  const r = await env.ltt(...args);
  assert.equal(r.code, 0, `ltt ${args.join(' ')}: ${r.stderr}`);
  return r;
}

/** Runs a Node script with the test environment (so it registers with the test's daemon). */
function node(env: LttTestEnv, args: string[], extraEnv: NodeJS.ProcessEnv = {}): RunResult {
  const started = Date.now();
  const p = spawnSync(process.execPath, args, { cwd: ROOT, env: { ...env.env, ...extraEnv }, encoding: 'utf8', timeout: 120_000 });
  return { code: p.status, stdout: p.stdout, stderr: p.stderr, ms: Date.now() - started };
}

function outputOf(create: RunResult): string {
  const line = create.stdout.split('\n').find((l) => l.startsWith('Traces will be written in '));
  assert.ok(line, create.stdout);
  return line.slice('Traces will be written in '.length);
}

function discardedInList(list: string): number {
  const m = /Discarded events: (\d+)/.exec(list);
  assert.ok(m, list);
  return Number(m[1]);
}

function bt2(dir: string): { lines: string[]; stderr: string; stdout: string } {
  const p = spawnSync(BT, [dir], { encoding: 'utf8', maxBuffer: 1 << 30 });
  assert.equal(p.status, 0, p.stderr);
  return { lines: p.stdout.split('\n').filter((l) => l !== ''), stderr: p.stderr, stdout: p.stdout };
}

/**
 * An app whose main thread and one worker emit demo:tick { i, msg: 'main' | 'worker' } without end, `batch`
 * at a time (then `next`, which schedules the next batch); it exits when stdin gets data.
 */
function spinAppSource(batch: number, next: string): string {
  return `
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
const tick = ust.provider('demo').event('tick', [ust.int32('i'), ust.string('msg')], { logLevel: 'TRACE_INFO' });
let i = 0;
const who = isMainThread ? 'main' : 'worker';
const spin = () => { for (let k = 0; k < ${batch}; k++) if (tick.enabled) tick.emit(i++, who); ${next}; };
// "ready" once the worker spins too: a test's first command may come within milliseconds of it.
if (isMainThread) { new Worker(new URL(import.meta.url)).once('message', () => process.stdout.write('ready\\n')); process.stdin.on('data', () => process.exit(0)); }
spin();
if (!isMainThread) parentPort.postMessage('spinning');
`;
}

/** A long-running app: declares events, prints "ready", emits when it reads "go" on stdin, then exits. */
const WAITING_APP = `
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
const demo = ust.provider('demo');
const tick = demo.event('tick', [ust.int32('i'), ust.string('msg')], { logLevel: 'TRACE_INFO' });
const n = Number(isMainThread ? process.argv[2] : workerData.n);
const run = (who) => { for (let i = 0; i < n; i++) if (tick.enabled) tick.emit(i, who); };
if (isMainThread) {
  const w = new Worker(new URL(import.meta.url), { workerData: { n } });
  await new Promise((r) => w.once('online', r));
  process.stdout.write('ready\\n');
  process.stdin.setEncoding('utf8');
  let text = '';
  process.stdin.on('data', (d) => {
    text += d;
    if (!text.includes('go')) return;
    process.stdin.pause();
    w.postMessage('go');
    run('main');
    w.once('exit', () => process.exit(0));
  });
} else {
  parentPort.once('message', () => { run('worker'); parentPort.close(); });
}
`;

interface Waiting {
  readonly pid: number;
  go(): void;
  kill(): void;
  exited: Promise<{ code: number | null; stderr: string }>;
}

function startWaitingApp(env: LttTestEnv, script: string, n: number): Promise<Waiting> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [script, String(n)], { cwd: ROOT, env: env.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<{ code: number | null; stderr: string }>((r) => c.on('exit', (code) => r({ code, stderr: err })));
    const timer = setTimeout(() => {
      c.kill('SIGKILL');
      reject(new Error(`app did not get ready: ${err}`));
    }, 30_000);
    c.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('ready\n')) {
        clearTimeout(timer);
        resolve({ pid: c.pid!, go: () => c.stdin.write('go\n'), kill: () => c.kill('SIGKILL'), exited });
      }
    });
  });
}

test('walkthrough: create, enable-event -u, start, ust-demo 1000, stop, view, destroy', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const out = outputOf(await ok(env, 'create', 'demo'));
    await ok(env, 'enable-event', '-u', 'demo:*');
    await ok(env, 'start');
    const app = node(env, [DEMO, '1000']);
    assert.equal(app.code, 0, app.stderr);
    assert.equal(app.stderr, '');
    await ok(env, 'stop');
    const list = await ok(env, 'list', 'demo');
    assert.equal(discardedInList(list.stdout), 0);
    const view = await ok(env, 'view');
    const lines = view.stdout.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 2000);
    const byThread = ticks(lines);
    assert.deepEqual(byThread.get('main'), range(1000));
    assert.deepEqual(byThread.get('worker'), range(1000));
    // LTTng's default per-UID layout, and babeltrace2 prints exactly what ltt view prints.
    assert.deepEqual(readdirSync(join(out, 'ust')), ['uid']);
    assert.deepEqual(readdirSync(join(out, 'ust', 'uid')), [String(process.getuid!())]);
    const files = readdirSync(join(out, 'ust', 'uid', String(process.getuid!()), '64-bit')).sort();
    assert.deepEqual(files.filter((f) => !/^channel0_\d+$/.test(f)), ['index', 'metadata']);
    assert.equal(files.length, 4, files.join(' '));
    const bt = bt2(out);
    assert.equal(bt.stdout, view.stdout);
    await ok(env, 'destroy');
  } finally {
    await env.cleanup();
  }
});

test('tiny buffers: recorded + discarded == emitted, and the daemon statistics agree with the trace', { timeout: 180_000 }, async () => {
  const env = new LttTestEnv();
  try {
    // The app must outrun its consumer for anything to be discarded: a slow stretch of this VM's CPUs can let the
    // consumer keep up with one run, so up to three, each four times longer than the one before.
    let attempt = 0;
    let n = 50_000;
    let out: string;
    let discarded: number;
    for (;;) {
      const name = `tiny${attempt}`;
      out = outputOf(await ok(env, 'create', name));
      await ok(env, 'enable-channel', '-u', '--subbuf-size=4096', '--num-subbuf=2', '--buffers-pid', 'small');
      await ok(env, 'enable-event', '-u', '-c', 'small', 'demo:*');
      await ok(env, 'start');
      const app = node(env, [DEMO, String(n)]);
      assert.equal(app.code, 0, app.stderr);
      await ok(env, 'stop');
      discarded = discardedInList((await ok(env, 'list', name)).stdout);
      if (discarded > 0 || ++attempt === 3) break;
      await ok(env, 'destroy', name);
      n *= 4;
    }
    const bt = bt2(out);
    const recorded = bt.lines.filter((l) => l.includes('demo:tick')).length;
    assert.ok(discarded > 0, 'tiny buffers must discard');
    assert.equal(recorded + discarded, 2 * n, `recorded ${recorded} + discarded ${discarded}`);
    assert.equal(discardedEvents(bt.stderr), discarded, 'babeltrace2 sees the same losses');
    // Each thread's recorded events are in order (losses are whole runs, never reordering).
    for (const list of ticks(bt.lines).values()) for (let k = 1; k < list.length; k++) assert.ok(list[k]! > list[k - 1]!);
    const view = await ok(env, 'view');
    assert.equal(view.stdout, bt.stdout);
    await ok(env, 'destroy');
  } finally {
    await env.cleanup();
  }
});

test('--tracefile-size/--tracefile-count: each thread\'s stream is a ring of CHANNEL_N_K files, the newest kept, read by babeltrace2', { timeout: 180_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const out = outputOf(await ok(env, 'create', 'tfs'));
    // Lossless (the writer keeps up), so the kept files end with each thread's last tick.
    await ok(env, 'enable-channel', '-u', '--buffers-pid', '--subbuf-size=4096', '--num-subbuf=4', '--blocking-timeout=inf', '--tracefile-size=8192', '--tracefile-count=3', 'ring');
    await ok(env, 'enable-event', '-u', '-c', 'ring', 'demo:*');
    await ok(env, 'start');
    const n = 20_000;
    const app = node(env, [DEMO, String(n)]);
    assert.equal(app.code, 0, app.stderr);
    await ok(env, 'stop');
    const [pidDir, ...others] = readdirSync(join(out, 'ust', 'pid'));
    assert.equal(others.length, 0);
    const dir = join(out, 'ust', 'pid', pidDir!);
    const files = readdirSync(dir).filter((f) => f !== 'metadata' && f !== 'index').sort();
    // Two threads (main, worker), each CHANNEL_TID_0..2 as lttng-consumerd names a tracefile ring.
    const byStream = new Map<string, number[]>();
    for (const f of files) {
      const m = /^(ring_\d+)_(\d+)$/.exec(f);
      assert.ok(m, `unexpected file ${f} in ${files.join(' ')}`);
      byStream.set(m[1]!, [...(byStream.get(m[1]!) ?? []), Number(m[2])].sort());
      const size = statSync(join(dir, f)).size;
      assert.ok(size > 0 && size <= 8192, `${f}: ${size} bytes`);
      assert.ok(existsSync(join(dir, 'index', `${f}.idx`)), `${f} has its index`);
    }
    assert.equal(byStream.size, 2, files.join(' '));
    for (const ks of byStream.values()) assert.deepEqual(ks, [0, 1, 2], 'the ring wrapped: three files per stream');
    assert.deepEqual(readdirSync(join(dir, 'index')).sort(), files.map((f) => `${f}.idx`));
    // babeltrace2 reads what the ring kept: each thread's newest ticks, in order, up to its last one.
    const bt = bt2(out);
    const byThread = ticks(bt.lines);
    assert.deepEqual([...byThread.keys()].sort(), ['main', 'worker']);
    for (const [who, list] of byThread) {
      assert.ok(list.length > 0 && list.length < n, `${who}: ${list.length} ticks kept of ${n}`);
      assert.equal(list[list.length - 1], n - 1, `${who} ends with its last tick`);
      for (let k = 1; k < list.length; k++) assert.ok(list[k]! > list[k - 1]!, `${who}: in order`);
    }
    await ok(env, 'destroy');
  } finally {
    await env.cleanup();
  }
});

test('an app started before `start` joins the session; list -u shows its tracepoints', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  const scripts = join(env.root, 'scripts');
  mkdirSync(scripts, { recursive: true });
  try {
    const out = outputOf(await ok(env, 'create', 'before'));
    await ok(env, 'enable-event', '-u', 'demo:*');
    const script = writeScript(scripts, 'waiting-app.mjs', WAITING_APP);
    const app = await startWaitingApp(env, script, 500);
    try {
      const listU = await ok(env, 'list', '-u');
      assert.equal(
        listU.stdout,
        // lttng shows the first word of the app's command line.
        `UST events:\n-------------\n\nPID: ${app.pid} - Name: ${process.execPath}\n${BUILTIN_LINES.join('')}      demo:tick (loglevel: TRACE_INFO (6)) (type: tracepoint)\n\n`,
      );
      // -f: each tracepoint's fields, as lttng-ust classes them; the same in LTTng's MI.
      assert.equal(
        (await ok(env, 'list', '-u', '-f')).stdout,
        `UST events:\n-------------\n\nPID: ${app.pid} - Name: ${process.execPath}\n${BUILTIN_LINES.map((l, k) => (BUILTIN_FIELDS[k] === undefined ? '' : l + BUILTIN_FIELDS[k])).join('')}` +
          '      demo:tick (loglevel: TRACE_INFO (6)) (type: tracepoint)\n        field: i (integer)\n        field: msg (string)\n\n',
      );
      assert.ok(
        (await ok(env, '--mi', 'xml', 'list', '-u', '-f')).stdout.includes(
          `<pid><id>${app.pid}</id><name>${process.execPath}</name><events><event><name>lttng_ust_tracef:event</name>`,
        ) && (await ok(env, '--mi', 'xml', 'list', '-u', '-f')).stdout.includes(
          '<event_field><name>procname</name><type>STRING</type><nowrite>0</nowrite></event_field></event_fields></event><event><name>demo:tick</name><type>TRACEPOINT</type><enabled>true</enabled>' +
            '<loglevel>TRACE_INFO</loglevel><loglevel_type>ALL</loglevel_type><exclusions/><event_fields>' +
            '<event_field><name>i</name><type>INTEGER</type><nowrite>0</nowrite></event_field>' +
            '<event_field><name>msg</name><type>STRING</type><nowrite>0</nowrite></event_field></event_fields></event></events></pid>',
        ),
      );
      await ok(env, 'start');
      app.go();
      const done = await app.exited;
      assert.equal(done.code, 0, done.stderr);
    } finally {
      // It exits by itself once it emitted; not when a check above failed first (it would wait forever).
      app.kill();
    }
    await ok(env, 'stop');
    const byThread = ticks(bt2(out).lines);
    assert.deepEqual(byThread.get('main'), range(500));
    assert.deepEqual(byThread.get('worker'), range(500));
    // The app is gone: list -u is empty again.
    assert.equal((await ok(env, 'list', '-u')).stdout, 'UST events:\n-------------\nNone\n\n');
    await ok(env, 'destroy');
  } finally {
    await env.cleanup();
  }
});

test('no session daemon: the app runs untraced, silently and without waiting', { timeout: 60_000 }, async () => {
  const env = new LttTestEnv();
  try {
    mkdirSync(env.rundir, { recursive: true });
    const app = node(env, [DEMO, '1000']);
    assert.equal(app.code, 0);
    assert.equal(app.stdout, '');
    assert.equal(app.stderr, '');
    assert.deepEqual(readdirSync(env.rundir), []);
    // A daemon that is running but has no session: registration, no trace.
    await ok(env, 'create', 'idle');
    const idle = node(env, [DEMO, '100']);
    assert.equal(idle.code, 0, idle.stderr);
    assert.equal(idle.stderr, '');
    assert.equal(existsSync(join(env.home, 'ltt-traces')), false);
    // A daemon that died (stale app socket): still fine.
    const pid = env.daemonPid()!;
    process.kill(pid, 'SIGKILL');
    while (existsSync(`/proc/${pid}`) && !/\) Z/.test(spawnSync('cat', [`/proc/${pid}/stat`], { encoding: 'utf8' }).stdout)) await new Promise((r) => setTimeout(r, 20));
    const stale = node(env, [DEMO, '100']);
    assert.equal(stale.code, 0, stale.stderr);
    assert.equal(stale.stderr, '');
  } finally {
    await env.cleanup();
  }
});

const RULES_APP = `
const p = ust.provider('prov');
const a = p.event('a', [ust.int32('i')], { logLevel: 'TRACE_INFO' });
const b = p.event('b', [ust.int32('i')], { logLevel: 'TRACE_DEBUG' });
const noisy = p.event('noisy', [ust.int32('i')], { logLevel: 'TRACE_INFO' });
const crit = p.event('crit', [ust.int32('i')], { logLevel: 'TRACE_CRIT' });
const warn = ust.provider('other').event('warn', [ust.int32('i')], { logLevel: 'TRACE_WARNING' });
const err = ust.provider('other').event('err', [ust.int32('i')], { logLevel: 'TRACE_ERR' });
const f = ust.provider('flt').event('ev', [ust.int32('i'), ust.string('msg')]);
for (let i = 0; i < 10; i++) {
  a.emit(i); b.emit(i); noisy.emit(i); crit.emit(i); warn.emit(i); err.emit(i);
  f.emit(i, i % 2 ? 'keep-odd' : 'drop');
}
`;

test('log level, glob, exclusion and filter rules; contexts', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  const scripts = join(env.root, 'scripts');
  mkdirSync(scripts, { recursive: true });
  try {
    const out = outputOf(await ok(env, 'create', 'rules'));
    await ok(env, 'enable-event', '-u', 'prov:*', '-x', 'prov:noisy', '--loglevel=TRACE_INFO');
    await ok(env, 'enable-event', '-u', 'other:*', '--loglevel-only=TRACE_WARNING');
    await ok(env, 'enable-event', '-u', 'flt:ev', '--filter', 'i >= 4 && msg == "keep*"');
    await ok(env, 'add-context', '-u', '-t', 'vpid', '-t', 'vtid', '-t', 'procname', '-t', '$app.node:async_id');
    await ok(env, 'start');
    const app = node(env, [writeScript(scripts, 'rules-app.mjs', RULES_APP)]);
    assert.equal(app.code, 0, app.stderr);
    await ok(env, 'stop');
    const lines = bt2(out).lines;
    const names = new Map<string, number>();
    for (const l of lines) {
      const m = / ([a-z]+:[a-z]+): \{/.exec(l);
      assert.ok(m, l);
      names.set(m[1]!, (names.get(m[1]!) ?? 0) + 1);
    }
    // prov:a (INFO) and prov:crit (CRIT) pass "at least INFO"; prov:b (DEBUG) does not; prov:noisy is excluded;
    // only other:warn has exactly WARNING; flt:ev passes for odd i >= 4: 5, 7, 9.
    assert.deepEqual(Object.fromEntries([...names].sort()), { 'flt:ev': 3, 'other:warn': 10, 'prov:a': 10, 'prov:crit': 10 });
    const flt = lines.filter((l) => l.includes('flt:ev'));
    assert.match(flt[0]!, /\{ vpid = \d+, vtid = \d+, procname = "node", async_id = \d+ \}, \{ i = 5, msg = "keep-odd" \}$/);
    await ok(env, 'destroy');
  } finally {
    await env.cleanup();
  }
});

test('kernel and user space in one session: one trace folder, one merged timeline', { timeout: 180_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const out = outputOf(await ok(env, 'create', 'both'));
    await ok(env, 'enable-event', '-k', 'sched_switch');
    await ok(env, 'enable-event', '-u', 'demo:*');
    await ok(env, 'start');
    const app = node(env, [DEMO, '2000']);
    assert.equal(app.code, 0, app.stderr);
    await ok(env, 'stop');
    assert.deepEqual(readdirSync(out).sort(), ['kernel', 'ust']);
    const view = await ok(env, 'view');
    const lines = view.stdout.split('\n').filter((l) => l !== '');
    const isTick = lines.map((l) => l.includes('demo:tick'));
    const first = isTick.indexOf(true);
    const last = isTick.lastIndexOf(true);
    assert.equal(isTick.filter(Boolean).length, 4000);
    assert.ok(lines.some((l) => l.includes('sched_switch')));
    // Merged on one clock: the kernel saw the app's threads switch while it emitted, so sched_switch records sit
    // between its first and last tick.
    assert.ok(lines.slice(first, last).some((l) => l.includes('sched_switch')), 'kernel events interleave with the app events');
    const bt = bt2(out);
    assert.equal(bt.stdout, view.stdout);
    await ok(env, 'destroy');
  } finally {
    await env.cleanup();
  }
});


/** Lets the app's threads reach their event loop after a control command (LTTng: within the read-timer period). */
const settle = () => new Promise((r) => setTimeout(r, 300));

test('rule changes, stop and start reach a running app; each run gets its own per-pid folder', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  const scripts = join(env.root, 'scripts');
  mkdirSync(scripts, { recursive: true });
  try {
    const out = outputOf(await ok(env, 'create', 'live'));
    await ok(env, 'enable-channel', '-u', '--buffers-pid', 'channel0');
    await ok(env, 'enable-event', '-u', 'demo:tick');
    const app = await startDrivenApp(env, writeScript(scripts, 'driven-app.mjs', drivenAppSource(true)));
    await app.emit('before-start', 10);
    await ok(env, 'start');
    await settle();
    await app.emit('run1', 100);
    await ok(env, 'enable-event', '-u', 'demo:other');
    await settle();
    await app.emit('both', 5);
    await ok(env, 'disable-event', '-u', 'demo:tick');
    await settle();
    await app.emit('tick-off', 7);
    await ok(env, 'stop');
    await settle();
    await app.emit('stopped', 10);
    await ok(env, 'start');
    await settle();
    await app.emit('run2', 20);
    await ok(env, 'stop');
    assert.equal(await app.quit(), 0);
    const dirs = readdirSync(join(out, 'ust', 'pid')).sort();
    assert.equal(dirs.length, 2, dirs.join(', '));
    const count = (lines: string[]) => {
      const m = new Map<string, number>();
      for (const l of lines) {
        const k = /demo:tick: .*msg = "([^"]+)"/.exec(l)?.[1] ?? (l.includes('demo:other') ? 'other' : l);
        m.set(k, (m.get(k) ?? 0) + 1);
      }
      return Object.fromEntries([...m].sort());
    };
    const [first, second] = dirs.map((d) => bt2(join(out, 'ust', 'pid', d)).lines);
    // run 1: ticks of run1 and both; demo:other from "both" (5) and "tick-off" (7); nothing before start.
    assert.deepEqual(count(first!), { both: 5, other: 12, run1: 100 });
    // run 2 (demo:tick is disabled, demo:other enabled): 20 others; nothing while stopped.
    assert.deepEqual(count(second!), { other: 20 });
    await ok(env, 'destroy');
  } finally {
    await env.cleanup();
  }
});

test('the vpid inclusion set decides which processes record', { timeout: 60_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const out = outputOf(await ok(env, 'create', 'tracked'));
    await ok(env, 'enable-event', '-u', 'demo:*');
    await ok(env, 'track', '-u', '--vpid=1');
    await ok(env, 'start');
    const app = node(env, [DEMO, '100']);
    assert.equal(app.code, 0, app.stderr);
    await ok(env, 'stop');
    assert.equal(existsSync(join(out, 'ust')), false, 'an untracked process writes nothing');
    await ok(env, 'destroy');
  } finally {
    await env.cleanup();
  }
});

test('--blocking-timeout=inf: tiny buffers lose nothing (threads wait for the writer)', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const out = outputOf(await ok(env, 'create', 'lossless'));
    await ok(env, 'enable-channel', '-u', '--subbuf-size=4096', '--num-subbuf=2', '--blocking-timeout=inf', 'small');
    await ok(env, 'enable-event', '-u', '-c', 'small', 'demo:*');
    await ok(env, 'start');
    const app = node(env, [DEMO, '20000']);
    assert.equal(app.code, 0, app.stderr);
    await ok(env, 'stop');
    assert.equal(discardedInList((await ok(env, 'list', 'lossless')).stdout), 0);
    const byThread = ticks(bt2(out).lines);
    assert.deepEqual(byThread.get('main'), range(20000));
    assert.deepEqual(byThread.get('worker'), range(20000));
    await ok(env, 'destroy');
  } finally {
    await env.cleanup();
  }
});

test('several channels in one session and several sessions record the same process', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const out1 = outputOf(await ok(env, 'create', 'multi'));
    await ok(env, 'enable-channel', '-u', '--buffers-pid', 'all');
    await ok(env, 'enable-channel', '-u', 'few');
    await ok(env, 'enable-channel', '-u', 'none');
    await ok(env, 'enable-event', '-u', '-c', 'all', 'demo:*');
    await ok(env, 'enable-event', '-u', '-c', 'few', 'demo:tick', '--filter', 'i < 10');
    await ok(env, 'enable-event', '-u', '-c', 'none', 'nothing:*');
    await ok(env, 'start');
    const out2 = outputOf(await ok(env, 'create', 'second'));
    await ok(env, 'enable-event', '-u', '-s', 'second', 'demo:tick', '--filter', 'msg == "worker"');
    await ok(env, 'start', 'second');
    const app = node(env, [DEMO, '1000']);
    assert.equal(app.code, 0, app.stderr);
    await ok(env, 'stop', 'multi');
    await ok(env, 'stop', 'second');
    // One per-pid trace per session; in the first, one stream per channel and thread, one metadata.
    const dir1 = join(out1, 'ust', 'pid', readdirSync(join(out1, 'ust', 'pid'))[0]!);
    assert.deepEqual(readdirSync(dir1).sort(), ['all_0', 'all_2', 'few_0', 'few_2', 'index', 'metadata', 'none_0', 'none_2']);
    const first = bt2(out1);
    const byThread = ticks(first.lines);
    // Each event is recorded once per channel whose rules take it: 1000 + 10 per thread.
    assert.deepEqual(byThread.get('main'), [...range(10), ...range(1000)].sort((x, y) => x - y));
    assert.deepEqual(byThread.get('worker'), [...range(10), ...range(1000)].sort((x, y) => x - y));
    const second = ticks(bt2(out2).lines);
    assert.deepEqual([...second.keys()], ['worker']);
    assert.deepEqual(second.get('worker'), range(1000));
    const view = await env.ltt('view', out1);
    assert.equal(view.stdout, first.stdout);
    await ok(env, 'destroy', '-a');
  } finally {
    await env.cleanup();
  }
});

/** An app that traces a round of ticks from its main thread and a worker on each "go" line, until "exit". */
const ROUNDS_APP = `
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { createInterface } from 'node:readline';
const tick = ust.provider('demo').event('tick', [ust.int32('i'), ust.string('msg')], { logLevel: 'TRACE_INFO' });
const emit = (msg) => { for (let i = 0; i < 100; i++) tick.emit(i, msg); };
if (isMainThread) {
  const w = new Worker(new URL(import.meta.url));
  await new Promise((r) => w.once('online', r));
  process.stdout.write('ready\\n');
  let round = 0;
  createInterface({ input: process.stdin }).on('line', (l) => {
    if (l === 'exit') {
      w.once('exit', () => process.exit(0));
      w.postMessage('exit');
      return;
    }
    round++;
    emit('r' + round + '-main');
    w.once('message', () => process.stdout.write('done\\n'));
    w.postMessage('r' + round + '-worker');
  });
} else {
  parentPort.on('message', (m) => {
    if (m === 'exit') parentPort.close();
    else { emit(m); parentPort.postMessage('ok'); }
  });
}
`;

test("lttng-ust's built-in tracepoints: tracef() and tracelog() record when enabled, with the caller's place", { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  const scripts = join(env.root, 'scripts');
  mkdirSync(scripts, { recursive: true });
  try {
    const out = outputOf(await ok(env, 'create', 'builtin'));
    await ok(env, 'enable-event', '-u', 'lttng_ust_trace*');
    await ok(env, 'start');
    // report() is on line 3: writeScript puts the import first, then the template's empty first line.
    const script = writeScript(scripts, 'builtin-app.mjs', `
function report(n) { ust.tracelog('TRACE_WARNING', 'warned %d', n); }
ust.tracef('hello %s %d', 'world', 42);
report(7);
ust.tracef('caf\\u00e9');
`);
    const r = node(env, [script]);
    assert.equal(r.code, 0, r.stderr);
    await ok(env, 'stop');
    const lines = bt2(out).lines;
    assert.equal(lines.length, 3, lines.join('\n'));
    assert.match(lines[0]!, /lttng_ust_tracef:event: \{ cpu_id = \d+ \}, \{ _msg_length = 14, msg = "hello world 42" \}$/);
    assert.match(lines[1]!, new RegExp(`lttng_ust_tracelog:TRACE_WARNING: \\{ cpu_id = \\d+ \\}, \\{ file = "${script}", line = 3, func = "report", _msg_length = 8, msg = "warned 7" \\}$`));
    assert.match(lines[2]!, /lttng_ust_tracef:event: .*msg = "café" \}$/);
    await ok(env, 'destroy');
  } finally {
    await env.cleanup();
  }
});

test("lttng-ust's state dump: at the session's start in an app and on regenerate statedump, only where a rule takes it", { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  const scripts = join(env.root, 'scripts');
  mkdirSync(scripts, { recursive: true });
  let app: Awaited<ReturnType<typeof startDrivenApp>> | undefined;
  try {
    const out = outputOf(await ok(env, 'create', 'dump'));
    await ok(env, 'enable-event', '-u', 'lttng_ust_statedump:*');
    await ok(env, 'start');
    const plain = outputOf(await ok(env, 'create', 'plain'));
    await ok(env, 'enable-event', '-u', '-s', 'plain', 'demo:*');
    await ok(env, 'start', 'plain');
    app = await startDrivenApp(env, writeScript(scripts, 'dump-app.mjs', drivenAppSource()));
    await app.emit('a', 3);
    await ok(env, 'regenerate', 'statedump', '-s', 'dump');
    // The request reaches the app's main thread through its agent: give it a moment, then a round trip.
    await new Promise((r) => setTimeout(r, 1000));
    await app.emit('b', 3);
    assert.equal(await app.quit(), 0);
    app = undefined;
    await ok(env, 'stop', 'dump');
    await ok(env, 'stop', 'plain');
    const lines = bt2(out).lines;
    const names = lines.map((l) => / (lttng_ust_statedump:\w+): /.exec(l)?.[1] ?? l);
    // Two dumps (the app joining the active session, then the regenerate), each start ... procname end.
    assert.deepEqual(names.filter((n) => n.endsWith(':start') || n.endsWith(':end')), ['lttng_ust_statedump:start', 'lttng_ust_statedump:end', 'lttng_ust_statedump:start', 'lttng_ust_statedump:end']);
    const firstEnd = names.indexOf('lttng_ust_statedump:end');
    assert.equal(names[firstEnd - 1], 'lttng_ust_statedump:procname');
    assert.match(lines[firstEnd - 1]!, /procname = "node" \}$/);
    // node itself: its path, its type (Debian's node is not position-independent), the span of its loadable
    // segments, its GNU build id, all as readelf gives them.
    const exe = realpathSync(process.execPath);
    const bin = lines.find((l) => l.includes(`path = "${exe}"`));
    assert.ok(bin, lines.slice(0, 20).join('\n'));
    const m = /baddr = (0x[0-9A-Fa-f]+), memsz = (\d+), path = "[^"]*", is_pic = (\d), has_build_id = (\d), has_debug_link = (\d) \}$/.exec(bin);
    assert.ok(m, bin);
    const header = spawnSync('readelf', ['-hlnW', exe], { encoding: 'utf8' }).stdout;
    assert.equal(m[3], /Type:\s+DYN/.test(header) ? '1' : '0');
    const loads = [...header.matchAll(/^\s*LOAD\s+0x[0-9a-f]+ (0x[0-9a-f]+) 0x[0-9a-f]+ 0x[0-9a-f]+ (0x[0-9a-f]+)/gm)].map((x) => [BigInt(x[1]!), BigInt(x[1]!) + BigInt(x[2]!)] as const);
    assert.ok(loads.length > 0, header);
    const span = loads.reduce((a, [, e]) => (e > a ? e : a), 0n) - loads.reduce((a, [v]) => (v < a ? v : a), loads[0]![0]);
    assert.equal(m[2], String(span));
    if (m[3] === '0') assert.equal(BigInt(m[1]!), loads[0]![0], 'an executable is where its first segment says');
    const buildId = /Build ID: ([0-9a-f]+)/.exec(header)?.[1];
    assert.equal(m[4], buildId ? '1' : '0');
    if (buildId) {
      const idLine = lines.find((l) => l.includes('lttng_ust_statedump:build_id') && l.includes(`baddr = ${m[1]},`));
      assert.ok(idLine, 'build_id event of node');
      const bytes = [...idLine.matchAll(/\[\d+\] = 0x([0-9A-Fa-f]+)/g)].map((x) => parseInt(x[1]!, 16).toString(16).padStart(2, '0')).join('');
      assert.equal(bytes, buildId);
    }
    // libc: a shared object with a build id.
    assert.ok(lines.some((l) => /bin_info: .*path = "[^"]*\/libc\.so\.6", is_pic = 1, has_build_id = 1/.test(l)), 'libc in the dump');
    // The other session's rules take no state dump event: it records none.
    const other = bt2(plain).lines;
    assert.equal(other.filter((l) => l.includes('demo:tick')).length, 6);
    assert.equal(other.length, 6, other.join('\n'));
    await ok(env, 'destroy', '-a');
  } finally {
    await app?.kill();
    await env.cleanup();
  }
});

test('an app started before any daemon registers once one starts, and again after the daemon restarts', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  const scripts = join(env.root, 'scripts');
  mkdirSync(scripts, { recursive: true });
  const app = spawn(process.execPath, [writeScript(scripts, 'rounds-app.mjs', ROUNDS_APP)], { cwd: ROOT, env: env.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  app.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  app.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((r) => app.on('exit', (code) => r(code)));
  const waitFor = async (what: () => boolean | Promise<boolean>, label: string, ms = 20_000) => {
    const deadline = Date.now() + ms;
    while (!(await what())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${label} (app stderr: ${err})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const round = async (n: number) => {
    const before = out.split('done\n').length;
    app.stdin.write('go\n');
    await waitFor(() => out.split('done\n').length > before, `round ${n}`);
  };
  try {
    await waitFor(() => out.includes('ready\n'), 'the app');
    for (const n of [1, 2]) {
      // A daemon the app did not know when it started (n = 1), then a new one after the first went away.
      const trace = outputOf(await ok(env, 'create', `late${n}`));
      await ok(env, 'enable-event', '-u', 'demo:*');
      await ok(env, 'start');
      await waitFor(async () => (await ok(env, 'list', '-u')).stdout.includes(`PID: ${app.pid} `), `registration ${n}`);
      await round(n);
      await ok(env, 'stop');
      const byThread = ticks(bt2(trace).lines);
      assert.deepEqual([...byThread.keys()].sort(), [`r${n}-main`, `r${n}-worker`]);
      assert.deepEqual(byThread.get(`r${n}-main`), range(100));
      assert.deepEqual(byThread.get(`r${n}-worker`), range(100));
      await ok(env, 'destroy');
      const pid = env.daemonPid()!;
      process.kill(pid, 'SIGTERM');
      await waitFor(() => !existsSync(`/proc/${pid}`) || /\) Z/.test(spawnSync('cat', [`/proc/${pid}/stat`], { encoding: 'utf8' }).stdout), 'the daemon to exit');
    }
    app.stdin.write('exit\n');
    assert.equal(await exited, 0);
    assert.equal(err, '');
  } finally {
    app.kill('SIGKILL');
    await env.cleanup();
  }
});

test('a daemon that refuses the app: the app does not wait, and asks again only a daemon that restarted', { timeout: 60_000 }, async () => {
  const env = new LttTestEnv();
  const scripts = join(env.root, 'scripts');
  mkdirSync(scripts, { recursive: true });
  mkdirSync(env.rundir, { recursive: true });
  const socketPath = join(env.rundir, APP_SOCKET_NAME);
  let registrations = 0;
  /** A stand-in app socket that refuses every registration, as a daemon of another protocol version would. */
  const listen = (): Promise<Server> =>
    new Promise((resolve) => {
      const server = createServer((socket) => {
        const decoder = new FrameDecoder(1 << 20);
        socket.on('data', (chunk) => {
          for (const f of decoder.push(chunk)) {
            if (f.ok && (f.body as { type?: string }).type === 'register') {
              registrations++;
              socket.end(encodeFrame({ type: 'refused', reason: 'test' }));
            }
          }
        });
        socket.on('error', () => undefined);
      });
      server.listen(socketPath, () => resolve(server));
    });
  let server = await listen();
  const script = writeScript(scripts, 'lingering-app.mjs', `ust.provider('demo').event('tick', [ust.int32('i')]);\nprocess.stdout.write('up\\n');\nsetTimeout(() => {}, 7000);\n`);
  const app = spawn(process.execPath, [script], { cwd: ROOT, env: { ...env.env, LTT_UST_REGISTER_TIMEOUT: 'inf' }, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const started = Date.now();
    await new Promise<void>((resolve, reject) => {
      app.stdout.once('data', () => resolve());
      app.once('exit', (code) => reject(new Error(`app exited ${code}`)));
    });
    // Refused at start: the bounded (here unbounded) registration wait ends with the refusal.
    assert.ok(Date.now() - started < 5000, `the app waited ${Date.now() - started} ms`);
    assert.equal(registrations, 1);
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(registrations, 1, 'the same daemon is not asked again');
    await new Promise<void>((r) => server.close(() => r()));
    server = await listen();
    const deadline = Date.now() + 5000;
    while (registrations < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(registrations, 2, 'a restarted daemon is asked again');
  } finally {
    app.kill('SIGKILL');
    server.close();
    await env.cleanup();
  }
});

test('snapshot session: an app keeps its newest packets in memory; snapshots overlap, survive stop, and babeltrace2 reads them', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  let running: { kill(): Promise<void> } | undefined;
  const scripts = join(env.root, 'scripts');
  mkdirSync(scripts, { recursive: true });
  try {
    const out = join(env.root, 'snaps');
    await ok(env, 'create', 'usnap', '--snapshot', '-o', out);
    // 2 x 4 KiB per thread: a flood keeps only its newest records.
    await ok(env, 'enable-channel', '-u', '--buffers-pid', '--subbuf-size', '4k', '--num-subbuf', '2', 'tiny');
    await ok(env, 'enable-event', '-u', '-c', 'tiny', 'demo:tick');
    await ok(env, 'enable-channel', '-u', 'big');
    await ok(env, 'enable-event', '-u', '-c', 'big', 'demo:other');
    const app = await startDrivenApp(env, writeScript(scripts, 'driven-app.mjs', drivenAppSource(true)));
    running = app;
    await ok(env, 'start');
    await settle();
    await app.emit('first', 5);
    await app.emit('flood', 3000);
    await app.emit('last', 3);
    assert.ok(!existsSync(out), 'nothing is written before a snapshot');
    assert.equal((await ok(env, 'snapshot', 'record')).stdout, 'Snapshot recorded successfully for session usnap\n');
    const [snap1] = readdirSync(out);
    assert.match(snap1!, /^snapshot-1-\d{8}-\d{6}-0$/);
    const [appDir] = readdirSync(join(out, snap1!, 'ust', 'pid'));
    assert.match(appDir!, new RegExp(`^node-${app.pid}-\\d{8}-\\d{6}$`));
    const s1 = bt2(join(out, snap1!));
    const tags1 = ticks(s1.lines);
    assert.equal(tags1.has('first'), false, 'the oldest ticks were overwritten in the 8 KiB ring');
    assert.deepEqual(tags1.get('last'), [0, 1, 2], 'the newest ticks are there, the open packet included');
    const others1 = s1.lines.filter((l) => l.includes('demo:other')).length;
    assert.equal(others1, 5 + 3000 + 3, 'the big channel holds every demo:other');
    assert.equal((await ok(env, 'view', join(out, snap1!))).stdout, s1.stdout, 'ltt view prints what babeltrace2 prints');

    await app.emit('after', 2);
    await ok(env, 'stop');
    // Stopped: the app still holds its packets; the next snapshot overlaps the first.
    await ok(env, 'snapshot', 'record', '-n', 'stopped');
    const snap2 = readdirSync(out).find((n) => n.startsWith('stopped-'))!;
    const tags2 = ticks(bt2(join(out, snap2)).lines);
    assert.deepEqual(tags2.get('last'), [0, 1, 2]);
    assert.deepEqual(tags2.get('after'), [0, 1]);
    assert.equal(bt2(join(out, snap2)).lines.filter((l) => l.includes('demo:other')).length, others1 + 2);
    // A size too small for one packet per stream is refused with lttng's words.
    const tiny = await env.ltt('snapshot', 'record', '-m', '1k');
    assert.equal(tiny.code, 1);
    assert.match(tiny.stderr, /^Error: Invalid snapshot size\. Cannot fit at least one packet per stream/);
    assert.equal(readdirSync(out).length, 2, `a refused snapshot leaves no folder: ${readdirSync(out).join(' ')}`);
    await ok(env, 'destroy');
    assert.equal(await app.quit(), 0);
    running = undefined;
  } finally {
    // A failed assertion must not leave the app running: the test runner would wait for it forever.
    await running?.kill();
    await env.cleanup();
  }
});

/** Runs ust-demo N in `mode` ('sigterm': killed by SIGTERM once it has emitted); resolves with how it ended. */
async function demoApp(env: LttTestEnv, n: number, mode: '' | 'throw' | 'sigterm'): Promise<{ pid: number; end: number | string; stderr: string }> {
  const c = spawn(process.execPath, [DEMO, String(n), ...(mode ? [mode] : [])], { cwd: ROOT, env: env.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => c.kill('SIGKILL'), 60_000);
  if (mode === 'sigterm') c.stdout.setEncoding('utf8').on('data', (d: string) => d.includes('ready') && c.kill('SIGTERM'));
  const end = await new Promise<number | string>((r) => c.once('exit', (code, signal) => r(code ?? signal ?? -1)));
  clearTimeout(timer);
  return { pid: c.pid!, end, stderr };
}

/** The demo:tick lines of each app folder of a snapshot, by pid. */
function ticksByApp(snapshot: string): Map<number, Map<string, number[]>> {
  const out = new Map<number, Map<string, number[]>>();
  const pidDir = join(snapshot, 'ust', 'pid');
  for (const name of existsSync(pidDir) ? readdirSync(pidDir) : []) {
    out.set(Number(/^node-(\d+)-\d{8}-\d{6}$/.exec(name)?.[1]), ticks(bt2(join(pidDir, name)).lines));
  }
  return out;
}

test('snapshot session: apps that exited (at their end, by an uncaught exception, by SIGTERM) are in the snapshots', { timeout: 180_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const out = join(env.root, 'snaps');
    await ok(env, 'create', 'fl', '--snapshot', '-o', out);
    await ok(env, 'enable-channel', '-u', '--buffers-pid', 'channel0');
    await ok(env, 'enable-event', '-u', 'demo:*');
    await ok(env, 'start');
    const ended = await demoApp(env, 2000, '');
    assert.deepEqual([ended.end, ended.stderr], [0, '']);
    await ok(env, 'snapshot', 'record');
    const first = ticksByApp(join(out, readdirSync(out)[0]!));
    assert.deepEqual([...first.keys()], [ended.pid], 'the app that ran to its end is in the snapshot');
    assert.deepEqual(first.get(ended.pid)!.get('main'), range(2000));
    assert.deepEqual(first.get(ended.pid)!.get('worker'), range(2000));

    const threw = await demoApp(env, 1500, 'throw');
    assert.equal(threw.end, 1);
    assert.match(threw.stderr, /deliberate uncaught exception/);
    const killed = await demoApp(env, 1200, 'sigterm');
    assert.equal(killed.end, 'SIGTERM', 'the app still dies of the signal');
    // Stopped, the session still has every app it holds; snapshots overlap.
    await ok(env, 'stop');
    await ok(env, 'snapshot', 'record', '-n', 'all');
    const all = ticksByApp(join(out, readdirSync(out).find((n) => n.startsWith('all-'))!));
    for (const [app, n] of [[ended, 2000], [threw, 1500], [killed, 1200]] as const) {
      assert.deepEqual(all.get(app.pid)?.get('main'), range(n), `app ${app.pid} (${app.end}): every main tick`);
      assert.deepEqual(all.get(app.pid)?.get('worker'), range(n), `app ${app.pid} (${app.end}): every worker tick`);
    }
    assert.equal((await ok(env, 'view', join(out, readdirSync(out).find((n) => n.startsWith('all-'))!))).stdout.split('\n').length, 2 * (2000 + 1500 + 1200) + 1);
    // `clear` empties what the session holds, exited apps' packets included.
    await ok(env, 'clear');
    await ok(env, 'snapshot', 'record', '-n', 'cleared');
    assert.equal(ticksByApp(join(out, readdirSync(out).find((n) => n.startsWith('cleared-'))!)).size, 0);
    await ok(env, 'destroy');
  } finally {
    await env.cleanup();
  }
});

test('snapshot session: what exited apps hand over is bounded per user and channel (oldest packets go, counted)', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const out = join(env.root, 'snaps');
    await ok(env, 'create', 'bound', '--snapshot', '-o', out);
    // 2 x 4 KiB: each app hands over 2 threads x 2 packets, and a user's per-UID buffers would hold 2 x 4 KiB per CPU.
    // Overwrite mode: the oldest go (in discard mode the newest would: per-uid.test.ts).
    await ok(env, 'enable-channel', '-u', '--buffers-pid', '--overwrite', '--subbuf-size', '4k', '--num-subbuf', '2', 'tiny');
    await ok(env, 'enable-event', '-u', '-c', 'tiny', 'demo:tick');
    await ok(env, 'start');
    const apps = [];
    for (let k = 0; k < 3; k++) apps.push(await demoApp(env, 1000, ''));
    await ok(env, 'snapshot', 'record');
    const snap = join(out, readdirSync(out)[0]!);
    const held = ticksByApp(snap);
    // 4 packets of 4 KiB per app; the bound keeps availableParallelism() x 2 packets: the newest ones.
    const keptPackets = 2 * availableParallelism();
    const keptApps = Math.min(3, Math.floor(keptPackets / 4));
    assert.deepEqual([...held.keys()].sort(), apps.slice(3 - keptApps).map((a) => a.pid).sort(), 'the newest apps are kept whole');
    for (const pid of held.keys()) assert.deepEqual(held.get(pid)!.get('main')!.slice(-1), [999], `app ${pid}: its newest tick`);
    // Counted as lost packets (`list` prints no statistics for snapshot sessions, as lttng; its MI has them).
    // The apps' own rings may have lost packets too (a thread lapping the agent): at least the bound's count.
    const mi = (await ok(env, '--mi', 'json', 'list', 'bound')).stdout;
    const lost = Number(/"lost_packets":(\d+)/.exec(mi)?.[1]);
    assert.ok(lost >= 3 * 4 - keptApps * 4, mi);
    await ok(env, 'destroy');
  } finally {
    await env.cleanup();
  }
});

test('snapshot session: snapshots taken while threads emit are whole traces (open packets copied untorn)', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  const scripts = join(env.root, 'scripts');
  mkdirSync(scripts, { recursive: true });
  let app: ReturnType<typeof spawn> | undefined;
  try {
    const out = join(env.root, 'snaps');
    await ok(env, 'create', 'spin', '--snapshot', '-o', out);
    await ok(env, 'enable-channel', '-u', '--subbuf-size', '4k', '--num-subbuf', '4', 'c');
    await ok(env, 'enable-event', '-u', '-c', 'c', 'demo:tick');
    const script = writeScript(scripts, 'spin-app.mjs', spinAppSource(2000, 'setImmediate(spin)'));
    app = spawn(process.execPath, [script], { cwd: ROOT, env: env.env, stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise((r) => app!.once('exit', r));
    await new Promise<void>((r) => app!.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && r()));
    await ok(env, 'start');
    for (let n = 0; n < 5; n++) {
      await new Promise((r) => setTimeout(r, 150));
      await ok(env, 'snapshot', 'record', '-n', `s${n}`);
    }
    for (const snap of readdirSync(out)) {
      const { lines } = bt2(join(out, snap));
      const byThread = ticks(lines);
      assert.ok(byThread.get('main')?.length && byThread.get('worker')?.length, `${snap}: both threads' newest ticks`);
      for (const [who, list] of byThread) {
        for (let k = 1; k < list.length; k++) assert.ok(list[k]! > list[k - 1]!, `${snap}: ${who} ticks in order`);
      }
    }
    app.stdin!.write('q');
    await exited;
    await ok(env, 'destroy');
  } finally {
    if (app && app.exitCode === null && app.signalCode === null) app.kill('SIGKILL');
    await env.cleanup();
  }
});

test('rotate: an app goes on writing in the next trace chunk; each archive holds its own ticks, whole', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  let running: { kill(): Promise<void> } | undefined;
  const scripts = join(env.root, 'scripts');
  mkdirSync(scripts, { recursive: true });
  try {
    const out = join(env.root, 'chunks');
    await ok(env, 'create', 'urot', '-o', out);
    await ok(env, 'enable-channel', '-u', '--buffers-pid', 'channel0');
    await ok(env, 'enable-event', '-u', 'demo:tick');
    const app = await startDrivenApp(env, writeScript(scripts, 'driven-app.mjs', drivenAppSource(false)));
    running = app;
    await ok(env, 'start');
    await settle();
    await app.emit('a', 10);
    const r0 = await ok(env, 'rotate');
    await app.emit('b', 20);
    await ok(env, 'rotate');
    await app.emit('c', 5);
    await ok(env, 'stop');
    const destroyed = await ok(env, 'destroy');
    assert.match(destroyed.stdout, /^Trace chunk archive for session urot is now readable at .*-2\nSession urot destroyed\n$/);
    assert.equal(await app.quit(), 0);
    running = undefined;
    const archives = readdirSync(join(out, 'archives')).sort((x, y) => Number(x.split('-').pop()) - Number(y.split('-').pop()));
    assert.equal(archives.length, 3, archives.join(' '));
    assert.ok(r0.stdout.includes(join(out, 'archives', archives[0]!)), r0.stdout);
    const expected = [['a', 10], ['b', 20], ['c', 5]] as const;
    archives.forEach((a, k) => {
      const [appDir] = readdirSync(join(out, 'archives', a, 'ust', 'pid'));
      assert.match(appDir!, new RegExp(`^node-${app.pid}-\\d{8}-\\d{6}$`), 'the same per-pid folder name in every chunk');
      const got = ticks(bt2(join(out, 'archives', a)).lines);
      assert.deepEqual([...got.keys()], [expected[k]![0]], `${a}: its own ticks only (the open packet was flushed at the rotation)`);
      assert.deepEqual(got.get(expected[k]![0]), range(expected[k]![1]));
    });
    const all = bt2(out);
    assert.deepEqual([...ticks(all.lines).keys()], ['a', 'b', 'c'], 'the chunks read as one trace');
  } finally {
    // A failed assertion must not leave the app running: the test runner would wait for it forever.
    await running?.kill();
    await env.cleanup();
  }
});

test('clear: an app empties its files (or its snapshot memory) and goes on recording', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  const apps: Array<{ kill(): Promise<void> }> = [];
  const scripts = join(env.root, 'scripts');
  mkdirSync(scripts, { recursive: true });
  try {
    const out = join(env.root, 'cleared');
    await ok(env, 'create', 'uclr', '-o', out);
    await ok(env, 'enable-event', '-u', 'demo:tick');
    const snaps = join(env.root, 'snaps');
    await ok(env, 'create', 'uclrs', '--snapshot', '-o', snaps);
    await ok(env, 'enable-event', '-u', 'demo:tick', '-s', 'uclrs');
    const app = await startDrivenApp(env, writeScript(scripts, 'driven-app.mjs', drivenAppSource(false)));
    apps.push(app);
    await ok(env, 'start', 'uclr');
    await ok(env, 'start', 'uclrs');
    await settle();
    await app.emit('before', 10);
    assert.equal((await ok(env, 'clear', 'uclr')).stdout, 'Waiting for clear of session "uclr"..\nSession "uclr" cleared\n');
    await ok(env, 'clear', 'uclrs');
    await app.emit('after', 4);
    await ok(env, 'stop', 'uclr');
    await ok(env, 'snapshot', 'record', '-s', 'uclrs');
    for (const dir of [out, snaps]) {
      const got = ticks(bt2(dir).lines);
      assert.deepEqual([...got.keys()], ['after'], `${dir}: only what came after the clear`);
      assert.deepEqual(got.get('after'), range(4));
    }
    await ok(env, 'destroy', '-a');
    assert.equal(await app.quit(), 0);
    apps.length = 0;
  } finally {
    // A failed assertion must not leave the app running: the test runner would wait for it forever.
    for (const a of apps) await a.kill();
    await env.cleanup();
  }
});

test('per-PID snapshot after a clear: a live app with empty buffers is in the snapshot (its metadata), which readers parse as an empty trace', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  const apps: Array<{ kill(): Promise<void> }> = [];
  const scripts = join(env.root, 'scripts');
  mkdirSync(scripts, { recursive: true });
  try {
    const snaps = join(env.root, 'pid-snaps');
    await ok(env, 'create', 'pclr', '--snapshot', '-o', snaps);
    await ok(env, 'enable-channel', '-u', '--buffers-pid', 'c');
    await ok(env, 'enable-event', '-u', '-c', 'c', 'demo:tick');
    const app = await startDrivenApp(env, writeScript(scripts, 'driven-app.mjs', drivenAppSource(false)));
    apps.push(app);
    await ok(env, 'start');
    await settle();
    await app.emit('before', 5);
    await ok(env, 'clear');
    await ok(env, 'snapshot', 'record', '-n', 'cleared');
    const cleared = join(snaps, readdirSync(snaps).find((n) => n.startsWith('cleared-'))!);
    // Before: nothing was written (no packet held), and LTTng's scripts' babeltrace found no trace to open.
    const traces = readdirSync(join(cleared, 'ust', 'pid'));
    assert.equal(traces.length, 1, `the app's trace: ${traces.join(', ')}`);
    assert.ok(existsSync(join(cleared, 'ust', 'pid', traces[0]!, 'metadata')));
    assert.deepEqual(bt2(cleared).lines, []);
    if (existsSync('/usr/bin/babeltrace')) {
      const bt1 = spawnSync('/usr/bin/babeltrace', [cleared], { encoding: 'utf8' });
      assert.equal(bt1.status, 0, `babeltrace 1: ${bt1.stderr}`);
      assert.equal(bt1.stdout, '');
    }
    await app.emit('after', 3);
    await ok(env, 'snapshot', 'record', '-n', 'later');
    const later = join(snaps, readdirSync(snaps).find((n) => n.startsWith('later-'))!);
    assert.deepEqual(ticks(bt2(later).lines).get('after'), range(3));
    await ok(env, 'destroy', '-a');
    assert.equal(await app.quit(), 0);
    apps.length = 0;
  } finally {
    for (const a of apps) await a.kill();
    await env.cleanup();
  }
});

test('rotate while threads spin: each record in exactly one chunk, in order across chunks', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  const scripts = join(env.root, 'scripts');
  mkdirSync(scripts, { recursive: true });
  let app: ReturnType<typeof spawn> | undefined;
  try {
    const out = join(env.root, 'spin-chunks');
    await ok(env, 'create', 'srot', '-o', out);
    await ok(env, 'enable-channel', '-u', '--blocking-timeout=inf', 'c');
    await ok(env, 'enable-event', '-u', '-c', 'c', 'demo:tick');
    const script = writeScript(scripts, 'spin-app.mjs', spinAppSource(500, 'setTimeout(spin, 1)'));
    app = spawn(process.execPath, [script], { cwd: ROOT, env: env.env, stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise((r) => app!.once('exit', r));
    await new Promise<void>((r) => app!.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && r()));
    await ok(env, 'start');
    for (let n = 0; n < 3; n++) {
      await new Promise((r) => setTimeout(r, 150));
      const t0 = Date.now();
      await ok(env, 'rotate');
      assert.ok(Date.now() - t0 < 4000, 'spinning threads do not hold a rotation up (an app answers within its 1 s flush wait)');
    }
    await ok(env, 'stop');
    app.stdin!.write('q');
    await exited;
    await ok(env, 'destroy');
    const archives = readdirSync(join(out, 'archives')).sort((x, y) => Number(x.split('-').pop()) - Number(y.split('-').pop()));
    assert.equal(archives.length, 4);
    const seen = new Map<string, number[]>();
    for (const a of archives) {
      for (const [who, list] of ticks(bt2(join(out, 'archives', a)).lines)) seen.set(who, [...(seen.get(who) ?? []), ...list]);
    }
    for (const [who, list] of seen) {
      assert.ok(list.length > 1000, `${who}: ${list.length} ticks`);
      for (let k = 1; k < list.length; k++) assert.equal(list[k], list[k - 1]! + 1, `${who}: tick ${list[k - 1]} then ${list[k]}: none lost, none twice`);
    }
  } finally {
    if (app && app.exitCode === null && app.signalCode === null) app.kill('SIGKILL');
    await env.cleanup();
  }
});

test('the apps of a session state the session\'s one clock offset (snapshots merging exited apps agree on times)', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const out = outputOf(await ok(env, 'create', 'offsets'));
    await ok(env, 'enable-channel', '-u', '--buffers-pid', 'channel0');
    await ok(env, 'enable-event', '-u', 'demo:*');
    await ok(env, 'start');
    for (let i = 0; i < 2; i++) {
      const app = node(env, [DEMO, '10']);
      assert.equal(app.code, 0, app.stderr);
    }
    await ok(env, 'stop');
    const offsets = readdirSync(join(out, 'ust', 'pid')).map((d) =>
      /offset = (-?\d+);/.exec(readFileSync(join(out, 'ust', 'pid', d, 'metadata'), 'utf8'))?.[1]);
    assert.equal(offsets.length, 2);
    assert.ok(offsets[0] !== undefined && offsets[0] === offsets[1], `clock offsets ${offsets.join(', ')}`);
    await ok(env, 'destroy');
  } finally {
    await env.cleanup();
  }
});
