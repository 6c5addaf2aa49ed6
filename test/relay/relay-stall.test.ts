// A stalled relay (alive, its connections open, but it neither reads nor answers: ltt-relayd stopped with
// SIGSTOP): destroying a session that streams to it, apps still running and apps gone, takes about one timeout.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LttTestEnv } from '../cli/ltt-test-env.js';
import { REPO_ROOT } from '../repo-paths.js';
import { BT2, startRelay } from './relay-helpers.js';

const skip = !existsSync(BT2) ? 'babeltrace2 not installed' : false;
const DEMO = join(REPO_ROOT, 'examples', 'ust-demo.mjs');

async function ok(env: LttTestEnv, ...args: string[]): Promise<string> {
  const r = await env.ltt(...args);
  assert.equal(r.code, 0, `ltt ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

for (const buffers of ['--buffers-uid', '--buffers-pid']) {
  test(`a stalled relay: destroy of a session with many ${buffers} streams takes about one timeout`, { skip, timeout: 300_000 }, async () => {
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
      const d = await env.ltt('destroy');
      const took = Date.now() - t0;
      // One deadline (20 s) shared by the consumers' waits for the relay and the daemon's last command (which then
      // gets 1 s); before, the per-UID traces' 20 s and the daemon's 10 s added up (30.5 s measured).
      assert.ok(took < 26_000, `destroy took ${took} ms`);
      assert.equal(d.code, 0, d.stderr);
      assert.match(d.stdout, /Session stall destroyed/);
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
