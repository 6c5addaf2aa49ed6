// SIGKILL at the worst moment. A session daemon killed while a Node app and a kernel session record: the app goes
// on silently (its trace up to the kill is complete and readable), the CLI says one clear line, and the next
// daemon's supervisor stops and removes its tracefs instances at once, and the next daemon (spawned by `ltt
// create`) reclaims the sockets the dead one left. A traced app
// killed mid-run: the daemon keeps serving others, that app's trace reads up to its last packet, and the
// session's statistics stay sane. (test/sessiond/daemon-lifecycle.test.ts covers a SIGKILLed daemon whose
// sessions were not recording; these add recording sessions, a traced app and the CLI's view.)

import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LttTestEnv, alive, badModes, exited, startForegroundDaemon, waitExit } from '../cli/ltt-test-env.js';
import { writeScript } from '../ust/helpers.js';
import { drivenAppSource, bt2, listedCount, ok, outputOf, pidTraces, sleep, startDrivenApp } from './robustness-env.js';

const TICK = /demo:tick: \{ cpu_id = \d+ \}, \{ i = (\d+), msg = "(\w+)" \}$/;

function instances(): string[] {
  return readdirSync('/sys/kernel/tracing/instances');
}

/** i values per msg of demo:tick lines; fails on any other line. */
function ticks(lines: readonly string[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const l of lines) {
    const m = TICK.exec(l);
    assert.ok(m, `unexpected line: ${l}`);
    const a = out.get(m[2]!) ?? [];
    a.push(Number(m[1]));
    out.set(m[2]!, a);
  }
  return out;
}

test('SIGKILL of the daemon while an app and a kernel session record', { timeout: 180_000 }, async () => {
  const env = new LttTestEnv();
  const scripts = mkdtempSync('/tmp/ltt-robust-');
  const tag = `kd${process.pid}`;
  let app: Awaited<ReturnType<typeof startDrivenApp>> | undefined;
  // A child of the test, so it is reaped once killed (see the zombie case below).
  const daemon = await startForegroundDaemon(env);
  try {
    const ustOut = outputOf(await ok(env, 'create', `${tag}u`, `--output=${join(env.root, 'u')}`));
    await ok(env, 'enable-channel', '-u', '--buffers-pid', '-s', `${tag}u`, 'channel0');
    await ok(env, 'enable-event', '-u', '-s', `${tag}u`, 'demo:tick');
    await ok(env, 'start', `${tag}u`);
    const kOut = outputOf(await ok(env, 'create', `${tag}k`, `--output=${join(env.root, 'k')}`));
    await ok(env, 'enable-event', '-k', '-s', `${tag}k`, 'sched_switch');
    await ok(env, 'start', `${tag}k`);
    const owned = instances().filter((i) => i.startsWith('ltt-') && i.includes(tag));
    assert.equal(owned.length, 1, `the kernel session's instance: ${instances().join(' ')}`);

    const instanceDir = `/sys/kernel/tracing/instances/${owned[0]}`;
    assert.equal(readFileSync(join(instanceDir, 'tracing_on'), 'utf8'), '1\n');

    app = await startDrivenApp(env, writeScript(scripts, 'driven.mjs', drivenAppSource()));
    await app.emit('before', 1000);
    daemon.kill('SIGKILL');
    await exited(daemon);

    // The dead daemon's instance stops recording and goes at once (its supervisor), not when a daemon starts again.
    for (const deadline = Date.now() + 5000; existsSync(instanceDir) && Date.now() < deadline; ) await sleep(50);
    assert.deepEqual(instances().filter((i) => i.includes(tag)), [], 'the instance is gone without a new daemon');
    assert.ok(!alive(env.daemonPid()!), 'no daemon was started meanwhile');

    // The app notices nothing: it keeps emitting (untraced now), exits normally and prints nothing.
    await app.emit('after', 1000);
    assert.equal(await app.quit(), 0);
    assert.equal(app.stderr(), '', 'the app prints nothing');

    // Its trace was written out when the app saw the daemon's socket close: everything before the kill, and of
    // what came after, at most what the app emitted before it noticed (a prefix).
    const [dir] = pidTraces(ustOut);
    assert.ok(dir, 'per-pid trace');
    assert.deepEqual(badModes(ustOut), [], "the app's trace is its owner's and group's only (LTTng's modes)");
    const bt = bt2(dir!);
    assert.equal(bt.status, 0, bt.stderr);
    const got = ticks(bt.lines);
    assert.deepEqual(got.get('before'), Array.from({ length: 1000 }, (_, i) => i));
    const late = got.get('after') ?? [];
    assert.deepEqual(late, Array.from({ length: late.length }, (_, i) => i));

    // The kernel trace holds the packets written before the kill and still reads.
    const kbt = bt2(join(kOut, 'kernel'));
    assert.equal(kbt.status, 0, kbt.stderr);

    // The CLI: one clear line, non-zero, no stack trace, no hang.
    for (const args of [['list'], ['stop', `${tag}u`]]) {
      const r = await env.ltt(...args);
      assert.notEqual(r.code, 0, `ltt ${args.join(' ')}`);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /^Error: /);
      assert.ok(r.ms < 10_000, `ltt ${args.join(' ')} took ${r.ms} ms`);
    }
    // A new daemon (spawned by create) reclaims what the dead one left.
    await ok(env, 'create', `${tag}n`, `--output=${join(env.root, 'n')}`);
    assert.deepEqual(instances().filter((i) => i.includes(tag)), [], 'stale tracefs instance removed');
    assert.match(env.log(), /Reclaimed the state of a previous daemon/);
    const list = await ok(env, 'list');
    assert.match(list.stdout, new RegExp(`${tag}n`));
    assert.doesNotMatch(list.stdout, new RegExp(`${tag}[uk]\\b`), 'sessions do not survive their daemon');
    await ok(env, 'destroy', `${tag}n`);
  } finally {
    if (app) await app.kill().catch(() => undefined);
    if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
    await env.cleanup();
    rmSync(scripts, { recursive: true, force: true });
  }
});

test('a killed daemon nobody reaps (a zombie: PID 1 of a container may not reap) is reclaimed too', { timeout: 120_000 }, async (t) => {
  const env = new LttTestEnv();
  const tag = `zd${process.pid}`;
  try {
    // Spawned by create, detached: once killed it is reparented to PID 1, which here never reaps it.
    await ok(env, 'create', tag, `--output=${join(env.root, 'z')}`);
    await ok(env, 'enable-event', '-k', 'sched_switch');
    await ok(env, 'start');
    const pid = env.daemonPid()!;
    process.kill(pid, 'SIGKILL');
    assert.ok(await waitExit(pid), 'the daemon is dead (maybe a zombie)');
    await ok(env, 'create', `${tag}n`, `--output=${join(env.root, 'n')}`);
    const left = instances().filter((i) => i.includes(tag) && !i.includes(`${tag}n`));
    t.diagnostic(`stale instances after the new daemon started: ${JSON.stringify(left)}`);
    // A dead daemon's instances are reclaimed even while it is an unreaped zombie.
    assert.deepEqual(left, []);
    await ok(env, 'destroy', `${tag}n`);
  } finally {
    await env.cleanup();
  }
});

test('SIGKILL of a traced app mid-run: the daemon serves on, the trace reads to the last packet, stats stay sane', { timeout: 180_000 }, async () => {
  const env = new LttTestEnv();
  const scripts = mkdtempSync('/tmp/ltt-robust-');
  let a: Awaited<ReturnType<typeof startDrivenApp>> | undefined;
  try {
    const out = outputOf(await ok(env, 'create', 's', `--output=${join(env.root, 's')}`));
    // Small sub-buffers: many packets are closed (and written) before the kill.
    await ok(env, 'enable-channel', '-u', '--buffers-pid', '--subbuf-size=16k', '--num-subbuf=4', 'small');
    await ok(env, 'enable-event', '-u', '-c', 'small', 'demo:tick');
    await ok(env, 'start');
    const script = writeScript(scripts, 'driven.mjs', drivenAppSource());
    a = await startDrivenApp(env, script);
    const n = 50_000;
    await a.emit('a', n);
    // Let the app's writer catch up and report its statistics (read timer), then kill it with a packet open.
    await sleep(1500);
    await a.emit('tail', 10);
    await a.kill();
    assert.ok(!alive(a.pid));

    const during = await ok(env, 'list', 's');
    const discardedAtKill = listedCount(during.stdout, 'Discarded events');
    assert.ok(Number.isSafeInteger(discardedAtKill) && discardedAtKill >= 0, during.stdout);

    // The daemon serves the next app as if nothing happened.
    const b = await startDrivenApp(env, script);
    await b.emit('b', 100);
    assert.equal(await b.quit(), 0);
    assert.equal(b.stderr(), '');
    const stop = await ok(env, 'stop');
    assert.ok(stop.ms < 5000, `stop does not wait for the dead app (${stop.ms} ms)`);
    const after = await ok(env, 'list', 's');
    const discarded = listedCount(after.stdout, 'Discarded events');

    const dirs = pidTraces(out);
    assert.equal(dirs.length, 2, dirs.join(' '));
    const byPid = (pid: number) => dirs.find((d) => d.endsWith(`-${pid}-`) || d.includes(`-${pid}-`))!;
    const ta = bt2(byPid(a.pid));
    assert.equal(ta.status, 0, ta.stderr);
    const ga = ticks(ta.lines);
    const ia = ga.get('a') ?? [];
    assert.ok(ia.length > 0, 'packets written before the kill read back');
    for (let k = 1; k < ia.length; k++) assert.ok(ia[k]! > ia[k - 1]!, 'in order, no duplicates');
    assert.ok(ia.length + discardedAtKill <= n, `read ${ia.length} + discarded ${discardedAtKill} <= ${n}`);
    const tb = bt2(byPid(b.pid));
    assert.equal(tb.status, 0, tb.stderr);
    assert.deepEqual(ticks(tb.lines).get('b'), Array.from({ length: 100 }, (_, i) => i));
    // The dead app's last report stands; the second app discarded nothing: no double count, nothing negative.
    assert.equal(discarded, discardedAtKill, after.stdout);
    await ok(env, 'destroy');
  } finally {
    if (a) await a.kill().catch(() => undefined);
    await env.cleanup();
    rmSync(scripts, { recursive: true, force: true });
  }
});
