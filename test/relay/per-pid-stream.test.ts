// Per-PID user-space buffers streamed to a relay, all real processes (ltt-sessiond, ltt-relayd, ltt/ust apps,
// babeltrace2): each app streams its own trace to the relay itself (the app-side relay sink), ust/pid/NAME-PID-
// DATE/ as lttng-relayd stores LTTng's per-PID buffers; and a relay killed while the apps record: the apps and
// the daemon carry on, the session says in one line that the relay is gone, nothing hangs.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { LttTestEnv } from '../cli/ltt-test-env.js';
import { BT2 } from './relay-helpers.js';
import { DEMO, ok, sessionFolder, ticks, withRelay } from './ust-relay-session.js';

const skip = !existsSync(BT2) ? 'babeltrace2 not installed' : false;

test('per-PID streaming: each app streams its own ust/pid/ trace to the relay, which babeltrace2 reads whole', { skip, timeout: 240_000 }, async () => {
  await withRelay(async (env, relay, url) => {
    await ok(env, 'create', 'pidnet', '-U', url);
    await ok(env, 'enable-channel', '-u', 'chan', '--buffers-pid');
    await ok(env, 'enable-event', '-u', 'demo:tick', '-c', 'chan');
    await ok(env, 'start');
    for (const n of [10, 5]) {
      const r = spawnSync(process.execPath, [DEMO, String(n)], { env: env.env, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
    }
    await ok(env, 'stop');
    await ok(env, 'destroy');
    const dir = sessionFolder(relay, 'pidnet');
    assert.deepEqual(readdirSync(join(dir, 'ust')), ['pid'], 'per-PID on the relay');
    const apps = readdirSync(join(dir, 'ust', 'pid'));
    assert.equal(apps.length, 2, `one trace per app: ${apps.join(', ')}`);
    for (const a of apps) assert.match(a, /^ust-demo\.mjs-\d+-\d{8}-\d{6}$|^node-\d+-\d{8}-\d{6}$/, a);
    assert.equal(ticks(dir), 2 * (10 + 5), 'every event of both apps');
  });
});

/** An ust-demo app in stdin mode: `more(k)` has it emit k more events from its main thread. */
function stdinApp(env: LttTestEnv) {
  const child = spawn(process.execPath, [DEMO, '100', 'stdin'], { env: env.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const r = await lines.next();
    assert.ok(!r.done, `the app ended early: ${stderr}`);
    return r.value as string;
  };
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    ready: async () => assert.equal(await next(), 'ready'),
    async more(k: number) {
      child.stdin!.write(`${k}\n`);
      assert.equal(await next(), `done ${k}`);
    },
    async end(): Promise<{ code: number | null; stderr: string }> {
      child.stdin!.end();
      return { code: await exited, stderr };
    },
    kill: () => child.kill('SIGKILL'),
  };
}

test('the relay killed while per-PID apps record: the apps and the daemon carry on, one line says the relay is gone, nothing hangs', { skip, timeout: 240_000 }, async () => {
  await withRelay(async (env, relay, url) => {
    await ok(env, 'create', 'pidkill', '-U', url);
    await ok(env, 'enable-channel', '-u', 'chan', '--buffers-pid', '--switch-timer', '100000');
    await ok(env, 'enable-event', '-u', 'demo:tick', '-c', 'chan');
    await ok(env, 'start');
    const apps = [stdinApp(env), stdinApp(env)];
    try {
      for (const a of apps) await a.ready();
      for (const a of apps) await a.more(1000);
      // The switch timer sends what the apps recorded so far.
      await new Promise((r) => setTimeout(r, 500));
      relay.child.kill('SIGKILL');
      await new Promise<void>((r) => (relay.child.exitCode !== null ? r() : relay.child.once('exit', () => r())));
      // The apps go on recording with the relay gone.
      for (const a of apps) for (let i = 0; i < 5; i++) await a.more(1000);
      for (const a of apps) {
        const { code, stderr } = await a.end();
        assert.equal(code, 0, `the app exits normally: ${stderr}`);
      }
    } finally {
      for (const a of apps) a.kill();
    }
    const t0 = Date.now();
    const stop = await env.ltt('stop');
    assert.ok(Date.now() - t0 < 30_000, `stop took ${Date.now() - t0} ms`);
    // Not a success: data was lost, said in one line naming the relay.
    assert.notEqual(stop.code, 0);
    const lines = stop.stderr.split('\n').filter((l) => l.trim() !== '');
    assert.equal(lines.length, 1, `one line: ${stop.stderr}`);
    assert.match(lines[0]!, /relay at 127\.0\.0\.1:\d+ is gone/);
    const list = await ok(env, 'list', 'pidkill');
    assert.match(list, /Output error: The relay at .* is gone/, list);
    // What the apps recorded after the relay went (5 x 1000 events from each) is counted lost, not recorded;
    // what went before may be lost too (in flight when the relay died).
    const discarded = Number(/Discarded events: (\d+)/.exec(list)?.[1]);
    assert.ok(discarded >= 2 * 5000 && discarded <= 2 * (5000 + 1000 + 200), `${discarded} events discarded`);
    const t1 = Date.now();
    await ok(env, 'destroy');
    assert.ok(Date.now() - t1 < 30_000, `destroy took ${Date.now() - t1} ms`);
  });
});
