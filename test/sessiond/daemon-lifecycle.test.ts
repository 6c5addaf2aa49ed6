// ltt-sessiond's life: runtime directory and socket permissions, single instance, SIGTERM stopping and
// flushing every session (the trace is complete and tracefs is clean), reclaim of what a SIGKILLed daemon left,
// several sessions at once each with its own channels and rules, and a per-user (non-root) daemon that serves
// user space and refuses kernel commands with a clear error. Real processes, sockets and tracefs.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ControlClient } from '../../src/control/client.js';
import { ControlError } from '../../src/control/error-codes.js';
import { groupId, pidFilePath, socketPath } from '../../src/control/runtime-paths.js';
import { exited, LttTestEnv, sleep, startForegroundDaemon } from '../cli/ltt-test-env.js';

function instances(): string[] {
  try {
    return readdirSync('/sys/kernel/tracing/instances');
  } catch {
    return [];
  }
}

function babeltraceCount(dir: string): number {
  const bt = spawnSync('babeltrace2', [dir], { encoding: 'utf8', maxBuffer: 512 << 20 });
  assert.equal(bt.status, 0, bt.stderr);
  return bt.stdout.split('\n').filter((line) => line.length > 0).length;
}

test('runtime directory, socket permissions and a single daemon per directory', { timeout: 60_000 }, async () => {
  const env = new LttTestEnv();
  const daemon = await startForegroundDaemon(env, ['--no-kernel']);
  try {
    const gid = groupId('tracing');
    const dir = statSync(env.rundir);
    const socket = statSync(socketPath(env.rundir));
    assert.equal(dir.mode & 0o777, 0o750);
    assert.equal(socket.mode & 0o777, 0o660);
    assert.ok(socket.isSocket());
    if (gid !== undefined) {
      assert.equal(dir.gid, gid, 'the runtime directory belongs to the tracing group');
      assert.equal(socket.gid, gid, 'the socket belongs to the tracing group');
    }
    assert.equal(Number(spawnSync('cat', [pidFilePath(env.rundir)], { encoding: 'utf8' }).stdout), daemon.pid);
    const second = await env.sessiond('--rundir', env.rundir, '--no-kernel');
    assert.equal(second.code, 1);
    assert.equal(second.stderr, `Error: A session daemon is already running in ${env.rundir} (pid ${daemon.pid})\n`);
    assert.ok(await ControlClient.isAlive(env.rundir), 'the first daemon is untouched');
  } finally {
    daemon.kill('SIGTERM');
    assert.equal(await exited(daemon), 0);
    assert.equal(existsSync(socketPath(env.rundir)), false, 'socket removed at exit');
    assert.equal(existsSync(pidFilePath(env.rundir)), false, 'pid file removed at exit');
    await env.cleanup();
  }
});

test('SIGTERM stops and flushes every session, then removes its tracefs instances', { timeout: 90_000 }, async () => {
  const env = new LttTestEnv();
  const daemon = await startForegroundDaemon(env);
  const output = join(env.root, 'sigterm-trace');
  const name = `sigterm${process.pid}`;
  try {
    const client = await ControlClient.connect(env.rundir);
    await client.request('create-session', { name, output });
    await client.request('enable-event', { session: name, domain: 'kernel', rule: { name: 'sched_switch', type: 'tracepoint' } });
    const mine = instances().filter((i) => i.includes(name));
    assert.equal(mine.length, 1);
    await client.request('start-session', { session: name });
    spawnSync('sleep', ['0.3']);
    daemon.kill('SIGTERM');
    assert.equal(await exited(daemon), 0, 'clean exit');
    client.close();
    assert.deepEqual(instances().filter((i) => i.includes(name)), [], 'tracefs instance removed');
    assert.ok(babeltraceCount(output) > 0, 'the flushed trace is complete and has events');
    assert.match(env.log(), /SIGTERM received[\s\S]*Shut down cleanly/);
  } finally {
    if (daemon.exitCode === null) daemon.kill('SIGKILL');
    await env.cleanup();
  }
});

test('a daemon killed with SIGKILL leaves state the next daemon reclaims', { timeout: 90_000 }, async () => {
  const env = new LttTestEnv();
  const name = `stale${process.pid}`;
  let daemon = await startForegroundDaemon(env);
  try {
    const client = await ControlClient.connect(env.rundir);
    await client.request('create-session', { name, output: join(env.root, 'stale-trace') });
    await client.request('enable-event', { session: name, domain: 'kernel', rule: { name: 'sched_switch', type: 'tracepoint' } });
    const leftover = instances().filter((i) => i.includes(name));
    assert.equal(leftover.length, 1);
    // Killed together with its supervisor (a whole container killed), so the next daemon has to reclaim.
    const supervisor = Number(/Instance supervisor (\d+) started/.exec(env.log())?.[1]);
    assert.ok(supervisor > 0, 'the daemon started a supervisor');
    process.kill(supervisor, 'SIGKILL');
    daemon.kill('SIGKILL');
    await exited(daemon);
    client.close();
    assert.ok(existsSync(pidFilePath(env.rundir)) && existsSync(socketPath(env.rundir)), 'stale pid file and socket');
    assert.deepEqual(instances().filter((i) => i.includes(name)), leftover, 'the instance outlived its daemon');

    daemon = await startForegroundDaemon(env);
    assert.match(env.log(), /Reclaimed the state of a previous daemon/);
    assert.deepEqual(instances().filter((i) => i.includes(name)), [], 'the new daemon removed the stale instance');
    const fresh = await ControlClient.connect(env.rundir);
    assert.deepEqual(await fresh.request('list-sessions', {}), [], 'sessions do not survive their daemon');
    fresh.close();
  } finally {
    daemon.kill('SIGTERM');
    await exited(daemon);
    await env.cleanup();
  }
});

test('several sessions at once, each with its own channels, rules and trace', { timeout: 90_000 }, async () => {
  const env = new LttTestEnv();
  const daemon = await startForegroundDaemon(env);
  const names = [`multiA${process.pid}`, `multiB${process.pid}`];
  try {
    const client = await ControlClient.connect(env.rundir);
    const other = await ControlClient.connect(env.rundir);
    // Two clients configure the two sessions concurrently.
    await Promise.all(
      names.map(async (name, i) => {
        const c = i === 0 ? client : other;
        await c.request('create-session', { name, output: join(env.root, name) });
        await c.request('enable-channel', {
          session: name,
          domain: 'kernel',
          channel: `chan${i}`,
          attributes: { subbufSize: 65536, numSubbuf: 8 },
        });
        await c.request('enable-event', {
          session: name,
          domain: 'kernel',
          channel: `chan${i}`,
          rule: i === 0 ? { name: 'sched_switch', type: 'tracepoint' } : { name: 'sched_wak*', type: 'tracepoint' },
        });
        await c.request('enable-event', { session: name, domain: 'ust', rule: { name: `app${i}:*`, type: 'tracepoint' } });
      }),
    );
    const [a, b] = await Promise.all(names.map((session) => client.request('get-session', { session })));
    assert.deepEqual(a!.domains.map((d) => d.channels.map((c) => [c.name, c.events.map((e) => e.name)])), [
      [['chan0', ['sched_switch']]],
      [['channel0', ['app0:*']]],
    ]);
    assert.deepEqual(b!.domains.map((d) => d.channels.map((c) => [c.name, c.events.map((e) => e.name)])), [
      [['chan1', ['sched_wak*']]],
      [['channel0', ['app1:*']]],
    ]);
    assert.equal(a!.domains[0]!.channels[0]!.attributes.subbufSize, 65536);

    await Promise.all(names.map((session) => client.request('start-session', { session })));
    spawnSync('sleep', ['0.5']);
    // Stopping one session leaves the other recording.
    await client.request('stop-session', { session: names[0]! });
    assert.equal((await client.request('get-session', { session: names[1]! })).active, true);
    await client.request('stop-session', { session: names[1]! });

    const listA = spawnSync('babeltrace2', [join(env.root, names[0]!)], { encoding: 'utf8', maxBuffer: 512 << 20 });
    const listB = spawnSync('babeltrace2', [join(env.root, names[1]!)], { encoding: 'utf8', maxBuffer: 512 << 20 });
    assert.equal(listA.status, 0, listA.stderr);
    assert.equal(listB.status, 0, listB.stderr);
    assert.ok(listA.stdout.includes(' sched_switch: '), 'session A recorded sched_switch');
    assert.ok(!listA.stdout.includes(' sched_waking: '), 'session A did not get session B events');
    assert.ok(!listB.stdout.includes(' sched_switch: '), 'session B did not get session A events');

    for (const session of names) await client.request('destroy-session', { session });
    assert.deepEqual(instances().filter((i) => names.some((n) => i.includes(n))), []);
    client.close();
    other.close();
  } finally {
    daemon.kill('SIGTERM');
    await exited(daemon);
    await env.cleanup();
  }
});

test('a per-user daemon serves user space and refuses kernel commands clearly', { timeout: 60_000 }, async () => {
  const nobody = 65534;
  const env = new LttTestEnv();
  chownSync(env.root, nobody, nobody);
  chownSync(env.home, nobody, nobody);
  const daemon = await startForegroundDaemon(env, [], { uid: nobody, gid: nobody });
  try {
    const dir = statSync(env.rundir);
    assert.equal(dir.uid, nobody);
    assert.equal(dir.mode & 0o777, 0o700, "a user's runtime directory is private");
    const client = await ControlClient.connect(env.rundir);
    const info = await client.request('daemon-info', {});
    assert.equal(info.uid, nobody);
    assert.equal(info.kernel, false);
    await client.request('create-session', { name: 'mine', output: join(env.root, 'mine') });
    const enabled = await client.request('enable-event', { session: 'mine', domain: 'ust', rule: { name: 'app:*', type: 'tracepoint' } });
    assert.equal(enabled.channel, 'channel0');
    for (const request of [
      client.request('enable-event', { session: 'mine', domain: 'kernel', rule: { name: 'sched_switch', type: 'tracepoint' } }),
      client.request('list-tracepoints', { domain: 'kernel' }),
      client.request('list-syscalls', {}),
    ]) {
      await assert.rejects(request, (error: unknown) => {
        assert.ok(error instanceof ControlError);
        assert.equal(error.code, 'NEED_ROOT_SESSIOND');
        assert.match(error.message, /^Tracing the kernel requires a root ltt-sessiond daemon/);
        return true;
      });
    }
    client.close();
    await sleep(10);
  } finally {
    daemon.kill('SIGTERM');
    await exited(daemon);
    await env.cleanup();
  }
});
