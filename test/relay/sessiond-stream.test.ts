// ltt-sessiond streaming to relays, all real processes: a kernel + ltt/ust session recorded through the relay
// sink to the real lttng-relayd and to ltt-relayd (the kernel consumer and the app each on their own relay
// connections; babeltrace2 reads both stored traces with the exec events and app events the test caused;
// `ltt view` prints what babeltrace2 prints); a live session followed by babeltrace2's lttng-live while it
// records; `create --live` without a URL starting ltt-relayd once (in a private network namespace); a relay
// killed mid-stream (the daemon stays up, list/status say the relay is gone in one line, the stored part reads
// cleanly, a new session works once a relay is back); a stuck relay given up by stop after the settle timeout;
// bad URLs refused with LTTng's words, one line.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { alive, CLI_MAIN, EXEC_ARGV, LttTestEnv, sleep } from '../cli/ltt-test-env.js';
import { REPO_ROOT } from '../repo-paths.js';
import { BT2, freePorts, startRelay, type Relay } from './relay-helpers.js';
import { ChrootRuns } from './chroot-runs.js';

const skipKernel = process.getuid?.() !== 0 ? 'needs root (kernel tracing)' : !existsSync('/usr/bin/lttng-relayd') ? 'lttng-relayd not installed' : false;
const EXEC_COUNT = 12;

const chroots = new ChrootRuns();

/** Runs `chroot / true` n times: n sched_process_exec events with filename .../chroot. */
function execChroot(n: number): void {
  chroots.run(n);
}

/** This test's own chroot execs in babeltrace2's text. */
function chrootExecs(text: string): number {
  return chroots.count(text);
}

/** Every chroot exec (a shell script's, whose pids this test does not know). */
function anyChrootExecs(text: string): number {
  return text.split('\n').filter((l) => / sched_process_exec: .*filename = "\/usr\/s?bin\/chroot"/.test(l)).length;
}

/** The one session folder (OUTPUT/HOST/SESSION-DATE) a session stored under `output`. */
function storedSession(output: string, folderPattern: RegExp): string {
  const hostDir = join(output, hostname());
  const found = readdirSync(hostDir).filter((d) => folderPattern.test(d));
  assert.equal(found.length, 1, `one folder matching ${folderPattern} in ${readdirSync(hostDir).join(', ')}`);
  return join(hostDir, found[0]!);
}

function storedKernelTrace(output: string, folderPattern: RegExp): string {
  return join(storedSession(output, folderPattern), 'kernel');
}

const APP_EVENTS = 150;

/** examples/ust-demo.mjs: APP_EVENTS demo:tick events from its main thread and as many from a worker. */
function runDemoApp(env: LttTestEnv): void {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'examples', 'ust-demo.mjs'), String(APP_EVENTS)], { env: env.env, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
}

function bt2(dir: string): { out: string; err: string; code: number | null } {
  const r = spawnSync(BT2, [dir], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return { out: r.stdout, err: r.stderr, code: r.status };
}

/** `ltt ARGS`' output, which must succeed (the first create's "Spawning a session daemon" line left out). */
async function ok(env: LttTestEnv, ...args: string[]): Promise<string> {
  const r = await env.ltt(...args);
  assert.equal(r.code, 0, `ltt ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.replace(/^Spawning a session daemon\n/, '');
}

async function withRelays<T>(kinds: Array<'ltt' | 'lttng'>, env: LttTestEnv, body: (relays: Relay[]) => Promise<T>): Promise<T> {
  const relays: Relay[] = [];
  try {
    for (const [i, kind] of kinds.entries()) relays.push(await startRelay(kind, join(env.root, `relay${i}`, 'out')));
    return await body(relays);
  } finally {
    await env.cleanup().catch(() => undefined);
    for (const r of relays) await r.stop();
  }
}

test('a kernel + ltt/ust session streamed to lttng-relayd and to ltt-relayd: babeltrace2 reads both, ltt view prints the same', { skip: skipKernel, timeout: 300_000 }, async () => {
  const env = new LttTestEnv();
  await withRelays(['lttng', 'ltt'], env, async ([lttngRelay, lttRelay]) => {
    const url = (r: Relay, path = '') => `net://127.0.0.1:${r.ports.control}:${r.ports.data}${path}`;
    const created = await ok(env, 'create', 'tolttng', '-U', url(lttngRelay!, '/fleet/a'));
    assert.equal(created, `Session tolttng created.\nTraces will be written in tcp4://127.0.0.1:${lttngRelay!.ports.control}/fleet/a [data: ${lttngRelay!.ports.data}]\n`);
    await ok(env, 'enable-event', '-k', 'sched_process_exec', '-s', 'tolttng');
    await ok(env, 'enable-event', '-u', 'demo:tick', '-s', 'tolttng');
    // tcp:// control and data URLs, as lttng takes them with -C/-D.
    await ok(env, 'create', 'toltt', '-C', `tcp://127.0.0.1:${lttRelay!.ports.control}`, '-D', `tcp://127.0.0.1:${lttRelay!.ports.data}`);
    await ok(env, 'enable-event', '-k', 'sched_process_exec', '-s', 'toltt');
    await ok(env, 'enable-event', '-u', 'demo:tick', '-s', 'toltt');
    const listed = await ok(env, 'list', 'toltt');
    assert.match(listed, new RegExp(`^Recording session toltt: \\[inactive\\]\\n    Trace output: tcp4://127\\.0\\.0\\.1:${lttRelay!.ports.control}/ \\[data: ${lttRelay!.ports.data}\\]\\n`));
    await ok(env, 'start', 'tolttng');
    await ok(env, 'start', 'toltt');
    execChroot(EXEC_COUNT);
    runDemoApp(env);
    await ok(env, 'stop', 'tolttng');
    await ok(env, 'stop', 'toltt');
    await ok(env, 'destroy', '-a');

    // lttng-relayd: OUTPUT/HOSTNAME/URL-PATH/{kernel,ust/uid/UID/64-bit} (the URL's path replaces SESSION-DATE;
    // per-UID buffers, the default: the daemon streams the user's trace).
    const theirs = join(lttngRelay!.output, hostname(), 'fleet', 'a');
    const ours = storedSession(lttRelay!.output, /^toltt-\d{8}-\d{6}$/);
    for (const dir of [theirs, ours]) {
      assert.ok(existsSync(join(dir, 'kernel', 'metadata')), `${dir}/kernel/metadata`);
      assert.ok(readdirSync(join(dir, 'kernel', 'index')).length >= 1, `${dir}/kernel/index`);
      assert.deepEqual(readdirSync(join(dir, 'ust')), ['uid'], `${dir}: per-UID`);
      assert.deepEqual(readdirSync(join(dir, 'ust', 'uid')), [String(process.getuid?.() ?? 0)], `${dir}: one user`);
      assert.ok(existsSync(join(dir, 'ust', 'uid', String(process.getuid?.() ?? 0), '64-bit', 'metadata')), `${dir}: the user's metadata`);
      const r = bt2(dir);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.err, '');
      assert.equal(chrootExecs(r.out), EXEC_COUNT, `${dir}: every exec of the workload`);
      assert.equal(r.out.split('\n').filter((l) => / demo:tick: /.test(l)).length, 2 * APP_EVENTS, `${dir}: every app event`);
      const view = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'ltt'), 'view', dir], { encoding: 'utf8', maxBuffer: 1 << 28 });
      assert.equal(view.status, 0, view.stderr);
      assert.equal(view.stdout, r.out, `${dir}: ltt view prints what babeltrace2 prints`);
    }
  });
});

test('--live: babeltrace2 follows the session on ltt-relayd while it records', { skip: skipKernel, timeout: 300_000 }, async () => {
  const env = new LttTestEnv();
  await withRelays(['ltt'], env, async ([relay]) => {
    const created = await ok(env, 'create', 'livek', '--live=100000', '-U', `net://127.0.0.1:${relay!.ports.control}:${relay!.ports.data}`);
    assert.match(created, /^Live session livek created\.\n.*\nLive timer interval set to 100000 us\n$/);
    await ok(env, 'enable-event', '-k', 'sched_process_exec');
    await ok(env, 'start');
    const viewer = spawn(BT2, ['-i', 'lttng-live', `net://127.0.0.1:${relay!.ports.live}/host/${hostname()}/livek`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = '';
    let err = '';
    viewer.stdout.setEncoding('utf8').on('data', (t: string) => (seen += t));
    viewer.stderr.setEncoding('utf8').on('data', (t: string) => (err += t));
    try {
      const deadline = Date.now() + 60_000;
      while (chrootExecs(seen) === 0) {
        assert.ok(Date.now() < deadline, `no live event within 60 s: ${err}`);
        assert.equal(viewer.exitCode, null, `babeltrace2 ended: ${err}`);
        execChroot(1);
        await sleep(200);
      }
      // Seen while the session records: nothing stopped it yet.
      assert.match(await ok(env, 'list', 'livek'), /^Recording session livek: \[active\]/);
      await ok(env, 'stop');
      await ok(env, 'destroy');
    } finally {
      viewer.kill('SIGKILL');
    }
  });
});

test('--live: babeltrace2 attached before an ltt/ust app started follows it', { skip: existsSync(BT2) ? false : 'babeltrace2 not installed', timeout: 300_000 }, async () => {
  const env = new LttTestEnv();
  await withRelays(['ltt'], env, async ([relay]) => {
    await ok(env, 'create', 'lateapp', '--live=100000', '-U', `net://127.0.0.1:${relay!.ports.control}:${relay!.ports.data}`);
    await ok(env, 'enable-channel', '-u', 'chan', '--buffers-uid');
    await ok(env, 'enable-event', '-u', 'tp:tptest', '-c', 'chan');
    await ok(env, 'start');
    const liveUrl = `net://127.0.0.1:${relay!.ports.live}`;
    const list = (): string => spawnSync(BT2, ['-i', 'lttng-live', liveUrl], { encoding: 'utf8' }).stdout;
    const viewer = spawn(BT2, ['-i', 'lttng-live', `${liveUrl}/host/${hostname()}/lateapp`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = '';
    let err = '';
    viewer.stdout.setEncoding('utf8').on('data', (t: string) => (seen += t));
    viewer.stderr.setEncoding('utf8').on('data', (t: string) => (err += t));
    const ended = new Promise<number | null>((resolve) => viewer.once('exit', (code) => resolve(code)));
    try {
      for (const deadline = Date.now() + 30_000; !/1 client\(s\) connected/.test(list()); await sleep(200)) {
        assert.ok(Date.now() < deadline, `the viewer did not attach: ${err}`);
      }
      // LTTng's test app (one thread), kept alive until the viewer saw its events, as clear/test_ust's live
      // viewer case runs it.
      const sync = join(env.root, 'sync-before-exit');
      const app = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'test', 'lttng-regression', 'gen-ust-events.js'), '-i', String(APP_EVENTS), '--sync-before-exit', sync], { env: env.env, stdio: 'ignore' });
      const appEnded = new Promise<number | null>((resolve) => app.once('exit', (code) => resolve(code)));
      const ticks = (): number => seen.split('\n').filter((l) => / tp:tptest: /.test(l)).length;
      for (const deadline = Date.now() + 60_000; ticks() < APP_EVENTS; await sleep(200)) {
        assert.ok(Date.now() < deadline, `babeltrace2 saw ${ticks()} of the app's ${APP_EVENTS} events: ${err}`);
      }
      await ok(env, 'destroy');
      writeFileSync(sync, '');
      assert.equal(await appEnded, 0);
      assert.equal(await ended, 0, err);
      assert.equal(ticks(), APP_EVENTS);
    } finally {
      viewer.kill('SIGKILL');
    }
  });
});

test('create --live without a URL starts ltt-relayd when nothing listens on 127.0.0.1:5344, once (private network namespace)', { skip: skipKernel || (!existsSync('/usr/bin/unshare') || !existsSync('/usr/bin/ss') ? 'needs unshare and ss' : false), timeout: 300_000 }, async () => {
  const env = new LttTestEnv();
  try {
    // The default ports are the namespace's own: no system relay is disturbed, none is mistaken for ours.
    const ltt = [process.execPath, ...EXEC_ARGV, CLI_MAIN].map((w) => `'${w}'`).join(' ');
    const script = `set -e
ip link set lo up
${ltt} create lv --live=200000
${ltt} create lv2 --live
${ltt} enable-event -k sched_process_exec -s lv > /dev/null
${ltt} start lv > /dev/null
for i in 1 2 3 4 5; do chroot / true; done
echo ---
${BT2} -i lttng-live net://localhost
echo ---
${ltt} stop lv > /dev/null
${ltt} destroy -a > /dev/null
ss -ltnH | awk '{print $4}' | sort | tr '\n' ' '
echo
kill $(ss -ltnpH 'sport = :5342' | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)`;
    const r = spawnSync('unshare', ['-n', 'bash', '-c', script], { encoding: 'utf8', env: env.env, timeout: 200_000 });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const [created, listed, listening] = r.stdout.split('---\n');
    assert.equal(
      created,
      'Spawning a session daemon\nSpawning a relayd daemon\nLive session lv created.\nTraces will be written in tcp4://127.0.0.1:5342/ [data: 5343]\nLive timer interval set to 200000 us\n' +
        'Live session lv2 created.\nTraces will be written in tcp4://127.0.0.1:5342/ [data: 5343]\nLive timer interval set to 1000000 us\n',
      'the relay is started once',
    );
    assert.match(listed!, new RegExp(`^net://localhost/host/${hostname()}/lv \\(timer = 200000, \\d+ stream\\(s\\), 0 client\\(s\\) connected\\)$`, 'm'));
    assert.deepEqual(listening!.trim().split(' ').sort(), ['0.0.0.0:5342', '0.0.0.0:5343', '127.0.0.1:5344']);
    // The spawned relay wrote where ltt-relayd writes by default: $LTT_HOME/ltt-traces.
    const stored = storedKernelTrace(join(env.home, 'ltt-traces'), /^lv-\d{8}-\d{6}$/);
    assert.equal(anyChrootExecs(bt2(stored).out), 5);
  } finally {
    await env.cleanup();
  }
});

test('the relay killed mid-stream: ltt-sessiond stays up and says so, the stored part reads, a new session works', { skip: skipKernel, timeout: 300_000 }, async () => {
  const env = new LttTestEnv();
  await withRelays(['ltt'], env, async ([relay]) => {
    const url = `net://127.0.0.1:${relay!.ports.control}:${relay!.ports.data}`;
    // A live timer makes packets leave every 100 ms: something is stored before the relay dies.
    await ok(env, 'create', 'cut', '--live=100000', '-U', url);
    await ok(env, 'enable-event', '-k', 'sched_process_exec');
    await ok(env, 'start');
    const stored = storedKernelTrace(relay!.output, /^cut-\d{8}-\d{6}$/);
    // Until an exec event is stored (the relay writes a packet's index entry once its data is in).
    const deadline = Date.now() + 60_000;
    while (chrootExecs(bt2(stored).out) === 0) {
      assert.ok(Date.now() < deadline, 'events reach the relay');
      execChroot(1);
      await sleep(200);
    }
    relay!.child.kill('SIGKILL');
    await relay!.stop();
    execChroot(2);

    const daemon = env.daemonPid()!;
    let listed = '';
    for (const until = Date.now() + 30_000; !listed.includes('Output error'); await sleep(200)) {
      assert.ok(Date.now() < until, `list never said the relay is gone: ${listed}`);
      listed = await ok(env, 'list');
    }
    const gone = listed.split('\n').filter((l) => l.includes('Output error'));
    assert.equal(gone.length, 1);
    assert.match(gone[0]!, new RegExp(`^    Output error: The relay at 127\\.0\\.0\\.1:${relay!.ports.control} is gone \\(.+\\)$`));
    assert.match(await ok(env, 'status'), /\n {4}Output error: The relay at .* is gone/);
    // stop reports the loss once, in one line, and does not hang.
    const stop = await env.ltt('stop');
    assert.equal(stop.code, 1);
    assert.match(stop.stderr, /^Error: Tracing stopped for session cut, but trace data was lost: The relay at .* is gone: .+\n$/);
    // Its consumers' connections are gone: the session does not stream again, and says so.
    const restart = await env.ltt('start');
    assert.equal(restart.code, 1);
    assert.match(restart.stderr, /^Error: The relay at 127\.0\.0\.1:\d+ is gone \(.+\): create a new session to stream again\n$/);
    await ok(env, 'destroy');
    assert.ok(alive(daemon), 'ltt-sessiond is still up');

    // What the relay stored before it died reads cleanly.
    const r = bt2(stored);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    assert.ok(chrootExecs(r.out) >= 1, 'the events stored before the kill');

    // A relay back on the same ports: a new session streams whole.
    const back = await startRelay('ltt', relay!.output, ['-C', `tcp://127.0.0.1:${relay!.ports.control}`, '-D', `tcp://127.0.0.1:${relay!.ports.data}`]);
    try {
      await ok(env, 'create', 'again', '-U', url);
      await ok(env, 'enable-event', '-k', 'sched_process_exec');
      await ok(env, 'start');
      execChroot(EXEC_COUNT);
      await ok(env, 'stop');
      await ok(env, 'destroy');
      const again = bt2(storedKernelTrace(relay!.output, /^again-\d{8}-\d{6}$/));
      assert.equal(again.err, '');
      assert.equal(chrootExecs(again.out), EXEC_COUNT);
      assert.equal(env.daemonPid(), daemon);
    } finally {
      await back.stop();
    }
  });
});

test('a stuck relay (SIGSTOP): stop gives it up after the settle timeout and says so, nothing hangs', { skip: skipKernel, timeout: 300_000 }, async () => {
  const env = new LttTestEnv();
  await withRelays(['ltt'], env, async ([relay]) => {
    await ok(env, 'create', 'stuck', '--live=100000', '-U', `net://127.0.0.1:${relay!.ports.control}:${relay!.ports.data}`);
    await ok(env, 'enable-event', '-k', 'sched_switch');
    await ok(env, 'start');
    await sleep(1000);
    relay!.child.kill('SIGSTOP');
    try {
      await sleep(500);
      const started = Date.now();
      const stop = await env.ltt('stop');
      assert.equal(stop.code, 1, stop.stdout);
      assert.match(stop.stderr, /^Error: Tracing stopped for session stuck, but trace data was lost: The relay at 127\.0\.0\.1:\d+ is gone: no answer within 20 s(; \d+ packets? \(\d+ bytes\) not delivered)?\n$/);
      assert.ok(Date.now() - started < 60_000, 'stop returns after the settle timeout');
      await ok(env, 'destroy');
    } finally {
      relay!.child.kill('SIGCONT');
    }
  });
});

test('save and load keep a network session\'s relay as lttng saves it (net_output control and data URIs)', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const [ctrl, data] = await freePorts(2);
    await ok(env, 'create', 'netsaved', '--live=300000', '-U', `net://127.0.0.1:${ctrl}:${data}/fleet/x`);
    const before = await ok(env, 'list', 'netsaved');
    await ok(env, 'save', 'netsaved', '-o', env.root);
    const xml = readFileSync(join(env.root, 'netsaved.lttng'), 'utf8');
    assert.ok(
      xml.includes(`<net_output><control_uri>tcp4://127.0.0.1:${ctrl}/fleet/x</control_uri><data_uri>tcp4://127.0.0.1:${data}/</data_uri></net_output>`),
      xml,
    );
    await ok(env, 'destroy', 'netsaved');
    await ok(env, 'load', '-i', env.root, 'netsaved');
    assert.equal(await ok(env, 'list', 'netsaved'), before);
  } finally {
    await env.cleanup();
  }
});

test('bad URLs: LTTng\'s error, one line, exit 1', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const [free] = await freePorts(1);
    for (const [args, message] of [
      [['-U', 'foo://bar'], 'URI parse unknown protocol foo://bar'],
      [['-U', 'net://'], 'No address or hostname detected.'],
      [['-U', 'net://host:99999'], 'Invalid port number 99999'],
      [['-U', 'net://127.0.0.1:abc'], 'Invalid port number 0'],
      [['-U', 'net://127.0.0.1:1:2:3'], 'Trailing characters not recognized: :3'],
      [['-U', 'net://[::1'], 'Broken IPv6 address ::1'],
      [['-U', 'net://[::1]x'], 'Unknown symbol after IPv6 address: x'],
      [['-U', 'net6://127.0.0.1'], 'URI parse bad hostname 127.0.0.1 for af 10'],
      [['-U', 'net://no-such-host.invalid'], 'URI parse bad hostname no-such-host.invalid for af 2'],
      [['-U', 'tcp://127.0.0.1'], 'Unrecognized URL format.'],
      [['-U', 'file://rel'], 'Missing destination full path.'],
      [['-C', 'tcp://127.0.0.1'], 'Both control and data URLs must be specified.'],
      [['-C', 'net://127.0.0.1', '-D', 'tcp://127.0.0.1'], 'Control URL uses the net:// protocol and the data URL is different. Not allowed.'],
      [['-C', 'tcp://127.0.0.1', '-D', 'net://127.0.0.1'], 'Data URL can not be set with the net[4|6]:// protocol'],
      [['-C', 'tcp://127.0.0.1', '-D', 'tcp://127.0.0.2'], 'Control and data destination mismatch'],
      [['-C', 'file:///tmp', '-D', 'tcp://127.0.0.1'], 'Cannot have a data URL when destination is file://'],
      [['-U', 'net://127.0.0.1', '-o', '/tmp/x'], 'Only one of the --set-url, --ctrl-url/data-url, or --output options may be used at once.'],
      [['--live', '-U', 'file:///tmp/x'], 'Unsupported output type specified for live session.'],
    ] as const) {
      const r = await env.ltt('create', 'bad', ...args);
      assert.deepEqual([r.code, r.stderr, r.stdout], [1, `Error: ${message}\n`, ''], args.join(' '));
    }
    assert.equal(env.daemonPid(), undefined, 'no daemon started for a refused command line');
    // A good URL whose relay does not answer: the session exists, start says why, in one line.
    if (process.getuid?.() !== 0) return;
    await ok(env, 'create', 'norelay', '-U', `net://127.0.0.1:${free}:${free}`);
    await ok(env, 'enable-event', '-k', 'sched_switch');
    const start = await env.ltt('start');
    assert.deepEqual([start.code, start.stderr], [1, `Error: Unable to connect to lttng-relayd at 127.0.0.1:${free}: ECONNREFUSED\n`]);
  } finally {
    await env.cleanup();
  }
});
