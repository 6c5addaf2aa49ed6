// What one connection may cost the session daemon: answers a client never reads stay bounded (the daemon stops
// reading it), a client that hangs up has its queued requests dropped, one busy connection does not starve the
// others, silent and idle connections are closed, a user's connections are capped, and garbage closes the
// connection at its first bad frame with a rate-limited log. Real daemon processes on private runtime folders.

import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ControlClient } from '../../src/control/client.js';
import { ControlError } from '../../src/control/error-codes.js';
import { encodeFrame } from '../../src/control/framing.js';
import { socketPath } from '../../src/control/runtime-paths.js';
import { APP_SOCKET_NAME } from '../../src/ust/app-protocol.js';
import { exited, LttTestEnv, sleep, startForegroundDaemon } from '../cli/ltt-test-env.js';
import { RawPeer } from './raw-peer.js';

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

/** CPU time (user + system) the process has used, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function request(id: number, command: string, args: unknown): Buffer {
  return encodeFrame({ type: 'request', id, command, args });
}

test('answers never read: the daemon stops reading that client, stays small, serves the others, and drops the work when it hangs up', { timeout: 180_000 }, async () => {
  const env = new LttTestEnv();
  const daemon = await startForegroundDaemon(env);
  const pid = daemon.pid!;
  const path = socketPath(env.rundir);
  try {
    const probe = await ControlClient.connect(env.rundir);
    const answerBytes = JSON.stringify(await probe.request('list-tracepoints', { domain: 'kernel' })).length;
    probe.close();
    const requests = 4000;
    assert.ok(requests * answerBytes > 300 << 20, `the unread answers (${requests} × ${answerBytes} bytes) would be far larger than the bound`);
    const before = rssMb(pid);
    const hog = await RawPeer.authenticated(path);
    hog.socket.pause();
    hog.write(Buffer.concat(Array.from({ length: requests }, (_, i) => request(i + 1, 'list-tracepoints', { domain: 'kernel' }))));

    // Meanwhile every other client is served promptly.
    let slowest = 0;
    for (const until = Date.now() + 8000; Date.now() < until; ) {
      const started = Date.now();
      const other = await ControlClient.connect(env.rundir, { connectTimeoutMs: 5000, requestTimeoutMs: 5000 });
      await other.request('list-sessions', {});
      other.close();
      slowest = Math.max(slowest, Date.now() - started);
      await sleep(200);
    }
    assert.ok(slowest < 3000, `another client waited ${slowest} ms`);
    const grown = rssMb(pid) - before;
    assert.ok(grown < 100, `unread answers grew the daemon by ${grown.toFixed(0)} MB`);

    // The client hangs up with most of its requests unanswered: the daemon drops them and goes idle.
    hog.end();
    await sleep(1500);
    const cpu = cpuSeconds(pid);
    await sleep(2000);
    const busy = cpuSeconds(pid) - cpu;
    assert.ok(busy < 0.5, `the daemon still worked ${busy.toFixed(2)} s of CPU in 2 s for a client that left`);
    const after = await ControlClient.connect(env.rundir, { connectTimeoutMs: 3000 });
    assert.deepEqual(await after.request('list-sessions', {}), []);
    after.close();
  } finally {
    daemon.kill('SIGTERM');
    await exited(daemon);
    await env.cleanup();
  }
});

test('silent, half-greeted and idle connections are closed; a user has a bounded number of connections', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv({ LTT_SESSIOND_HANDSHAKE_TIMEOUT: '1000', LTT_SESSIOND_IDLE_TIMEOUT: '2000', LTT_SESSIOND_MAX_CONNECTIONS: '5' });
  const daemon = await startForegroundDaemon(env, ['--no-kernel']);
  const pid = daemon.pid!;
  const path = socketPath(env.rundir);
  const peers: RawPeer[] = [];
  try {
    const silent = new RawPeer(path);
    const greeted = new RawPeer(path);
    greeted.hello();
    assert.equal((await greeted.next()).type, 'hello');
    const silentApp = new RawPeer(join(env.rundir, APP_SOCKET_NAME));
    const idle = await RawPeer.authenticated(path);
    assert.ok(await silent.waitClosed(8000), 'a connection that never says hello is closed');
    assert.ok(await greeted.waitClosed(8000), 'a connection that never answers the challenge is closed');
    assert.ok(await silentApp.waitClosed(8000), 'an app connection that never registers is closed');
    assert.ok(await idle.waitClosed(10_000), 'an idle connection is closed');

    // A busy connection is not idle: a request arriving every second keeps it open past the idle timeout.
    const busy = await RawPeer.authenticated(path);
    for (let i = 1; i <= 4; i++) {
      busy.write(request(i, 'list-sessions', {}));
      assert.equal((await busy.next()).ok, true);
      await sleep(1000);
    }
    assert.equal(busy.closed, false);
    busy.end();

    // Five connections of one user at most; the sixth is told why.
    for (let i = 0; i < 5; i++) peers.push(await RawPeer.authenticated(path));
    await assert.rejects(ControlClient.connect(env.rundir), (error: unknown) => {
      assert.ok(error instanceof ControlError);
      assert.equal(error.code, 'TOO_MANY_CONNECTIONS');
      assert.match(error.message, /^Too many connections of uid 0 \(at most 5\)/);
      return true;
    });
    peers.pop()!.end();
    await sleep(200);
    const client = await ControlClient.connect(env.rundir);
    assert.deepEqual(await client.request('list-sessions', {}), []);
    client.close();
    for (const peer of peers.splice(0)) peer.end();

    // Many silent connections: the daemon keeps a bounded number of them open, then serves as before.
    const fds = () => readdirSync(`/proc/${pid}/fd`).length;
    const baseline = fds();
    const flood = Array.from({ length: 600 }, () => new RawPeer(path));
    peers.push(...flood);
    await sleep(500);
    const held = fds() - baseline;
    assert.ok(held <= 300, `600 silent connections held ${held} descriptors`);
    for (const peer of flood) await peer.waitClosed(8000);
    assert.ok(flood.every((p) => p.closed), 'every silent connection was closed');
    const later = await ControlClient.connect(env.rundir);
    later.close();
    assert.equal(daemon.exitCode, null);
  } finally {
    for (const peer of peers) peer.end();
    daemon.kill('SIGTERM');
    await exited(daemon);
    await env.cleanup();
  }
});

test('a bad frame closes its connection with one answer; garbage is logged at a bounded rate', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  const daemon = await startForegroundDaemon(env, ['--no-kernel']);
  const path = socketPath(env.rundir);
  try {
    const lines = () => env.log().split('\n').filter((l) => l.length > 0).length;
    // 20,000 five-byte garbage frames after authentication: one answer, the connection closed, one log line.
    const peer = await RawPeer.authenticated(path);
    const logged = lines();
    const junk = Buffer.from([0, 0, 0, 1, 0x7b]);
    peer.write(Buffer.concat(Array.from({ length: 20_000 }, () => junk)));
    const answer = await peer.next();
    assert.deepEqual([answer.ok, answer.error.code], [false, 'INVALID_PROTOCOL']);
    assert.ok(await peer.waitClosed(), 'the daemon hangs up at the first bad frame');
    await sleep(300);
    assert.equal(peer.frames.length, 0, 'no further answers');
    assert.ok(lines() - logged <= 2, `${lines() - logged} log lines for one bad connection`);

    // A well-framed request that is not a request closes the connection too.
    const shapeless = await RawPeer.authenticated(path);
    shapeless.write(encodeFrame({ type: 'request', command: 'list-sessions' }));
    assert.equal((await shapeless.next()).error.code, 'INVALID_PROTOCOL');
    assert.ok(await shapeless.waitClosed());

    // 400 connections sending garbage before any handshake: the log stays short and says what it left out.
    const before = lines();
    const flood = Array.from({ length: 400 }, () => new RawPeer(path));
    for (const p of flood) p.write(junk);
    for (const p of flood) await p.waitClosed(8000);
    await sleep(1200);
    const added = lines() - before;
    assert.ok(added < 100, `${added} log lines for 400 garbage connections`);
    assert.match(env.log(), /suppressed \d+ similar lines/);
    const client = await ControlClient.connect(env.rundir);
    assert.deepEqual(await client.request('list-sessions', {}), []);
    client.close();
  } finally {
    daemon.kill('SIGTERM');
    await exited(daemon);
    await env.cleanup();
  }
});
