// A stalled relay (alive, its connections open, but it neither reads nor answers: ltt-relayd stopped with
// SIGSTOP): destroying (or stopping) a session that streams to it, apps still running and apps gone, takes about one
// timeout and fails with one line that names the traces the relay did not take and how many packets.
// A listener that never answers at all: the handshake of a start or a snapshot gives up after its timeout.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { LttTestEnv } from '../cli/ltt-test-env.js';
import { BT2, startRelay } from './relay-helpers.js';
import { DEMO, ok } from './ust-relay-session.js';

const skip = !existsSync(BT2) ? 'babeltrace2 not installed' : false;

/** A trace the relay did not take: the user's (per-UID) or an app's (per-PID), the relay, what was not delivered. */
const LOSS = /(uid \d+ \(ust\/uid\/\d+\/64-bit\):|app \S+-\d+, channel chan:( \d+ packets \(\d+ events\) not written:)?) The relay at 127\.0\.0\.1:\d+ is gone: no answer within \d+ s(; \d+ packets? \(\d+ bytes\) not delivered)?/;

for (const [buffers, command] of [['--buffers-uid', 'destroy'], ['--buffers-pid', 'destroy'], ['--buffers-uid', 'stop']] as const) {
  test(`a stalled relay: ${command} of a session with many ${buffers} streams takes about one timeout and says what the relay did not take`, { skip, timeout: 300_000 }, async (t) => {
    const env = new LttTestEnv();
    const relay = await startRelay('ltt', join(env.root, 'relay', 'out'));
    const apps: ChildProcess[] = [];
    try {
      await ok(env, 'create', 'stall', '-U', `net://127.0.0.1:${relay.ports.control}:${relay.ports.data}`);
      await ok(env, 'enable-channel', '-u', 'chan', buffers);
      await ok(env, 'enable-event', '-u', 'demo:tick', '-c', 'chan');
      await ok(env, 'start');
      for (let i = 0; i < 2; i++) {
        const r = spawnSync(process.execPath, [DEMO, '100'], { env: env.env, encoding: 'utf8', timeout: 60_000 });
        assert.equal(r.status, 0, r.stderr);
      }
      const live = [0, 1, 2].map(() => spawn(process.execPath, [DEMO, '100', 'sigterm'], { env: env.env, stdio: ['ignore', 'pipe', 'inherit'] }));
      apps.push(...live);
      for (const a of live) await new Promise<void>((r) => a.stdout!.once('data', () => r()));
      relay.child.kill('SIGSTOP');
      const t0 = Date.now();
      const d = await env.ltt(command);
      const took = Date.now() - t0;
      // One deadline (20 s) shared by the consumers' waits for the relay and the daemon's last command (which then
      // gets 1 s); before, the per-UID traces' 20 s and the daemon's 10 s added up (30.5 s measured).
      assert.ok(took < 26_000, `${command} took ${took} ms`);
      // The user is told, in one line, which traces the relay did not take and how much (before: exit 0, only the
      // daemon's log said that the relay was given up).
      t.diagnostic(`ltt ${command}: exit ${d.code}, ${d.stderr.trim()}`);
      const done = command === 'destroy' ? 'Session stall destroyed' : 'Tracing stopped for session stall';
      assert.equal(d.code, 1, d.stdout);
      assert.match(d.stderr, new RegExp(`^Error: ${done}, but trace data was lost: ${LOSS.source}( \\(and \\d+ more, see the daemon log\\))?\n$`));
      // Said once: a destroy after the stop has nothing more to say.
      if (command === 'stop') await ok(env, 'destroy');
      assert.doesNotMatch(await ok(env, 'list'), /\bstall\b/, 'the session is gone');
      // The daemon carries on.
      await ok(env, 'create', 'after', '-U', `net://127.0.0.1:${relay.ports.control}:${relay.ports.data}`);
      await ok(env, 'destroy', 'after');
    } finally {
      relay.child.kill('SIGCONT');
      for (const a of apps) a.kill('SIGKILL');
      await env.cleanup().catch(() => undefined);
      await relay.stop();
    }
  });
}

test('a relay that accepts and never answers: start and snapshot record fail in one line after the handshake timeout, destroy at once', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  // Not a relay: it takes connections and bytes, and says nothing (a stopped relay's listener does the same).
  const mute: Socket[] = [];
  const servers = [0, 1].map(() => createServer((c) => (mute.push(c), c.on('data', () => undefined))));
  try {
    for (const s of servers) await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const [control, data] = servers.map((s) => (s.address() as AddressInfo).port);
    const url = ['-C', `tcp://127.0.0.1:${control}`, '-D', `tcp://127.0.0.1:${data}`];
    const timed = async (...args: string[]) => {
      const t0 = Date.now();
      const r = await env.ltt(...args);
      return { ...r, took: Date.now() - t0 };
    };
    await ok(env, 'create', 'mute', ...url);
    await ok(env, 'enable-event', '-u', 'demo:tick');
    // Before: start waited for the relay's answer to VERSION for good, and a destroy after it waited behind it.
    const start = await timed('start');
    assert.notEqual(start.code, 0);
    assert.match(start.stderr, /^Error: Unable to connect to lttng-relayd at 127\.0\.0\.1:\d+: no answer within 10 s\n$/);
    assert.ok(start.took < 20_000, `start took ${start.took} ms`);
    const destroy = await timed('destroy');
    assert.equal(destroy.code, 0, destroy.stderr);
    assert.ok(destroy.took < 5_000, `destroy took ${destroy.took} ms`);

    await ok(env, 'create', 'mutesnap', '--snapshot', ...url);
    await ok(env, 'enable-event', '-u', 'demo:tick');
    await ok(env, 'start');
    const snap = await timed('snapshot', 'record');
    assert.notEqual(snap.code, 0);
    assert.match(snap.stderr, /^Error: Unable to connect to lttng-relayd at 127\.0\.0\.1:\d+: no answer within 10 s\n$/);
    assert.ok(snap.took < 20_000, `snapshot record took ${snap.took} ms`);
    await ok(env, 'destroy');
  } finally {
    for (const c of mute) c.destroy();
    for (const s of servers) s.close();
    await env.cleanup().catch(() => undefined);
  }
});
