// Streams a live viewer must learn of while the streams it follows are quiet, with babeltrace2 2.0.4's
// lttng-live (which reads the relay's new-stream flag only on an index it gets, and holds every event back while
// a followed stream has nothing to say) following an ltt live session on ltt-relayd:
//   - an app's worker thread starting after the main thread went quiet: the app's threads close a packet, empty
//     or not (so an index carries the flag), and quiet ltt/ust streams send live beacons (so the worker's events
//     are not held back behind the quiet main thread): every event shows up while the app still runs;
//   - an app that started and exited while the viewer did not poll (stopped by SIGSTOP): the relay keeps its
//     session until the viewer, attached to the ltt session, adopted and read it;
//   - a second app starting while the first app's streams (all the viewer follows) are quiet: the session daemon
//     asks the first app for a packet, whose index carries the flag.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LttTestEnv, sleep } from '../cli/ltt-test-env.js';
import { REPO_ROOT } from '../repo-paths.js';
import { BT2, startRelay, type Relay } from './relay-helpers.js';

const skip = existsSync(BT2) ? false : 'babeltrace2 not installed';
const EVENTS = 40;

interface Viewer {
  child: ChildProcess;
  ticks(): number;
  err(): string;
  ended: Promise<number | null>;
}

async function ok(env: LttTestEnv, ...args: string[]): Promise<void> {
  const r = await env.ltt(...args);
  assert.equal(r.code, 0, `ltt ${args.join(' ')}: ${r.stderr}`);
}

/** A live ltt session `name` (100 ms live timer) recording demo:tick, babeltrace2 attached to it before any app. */
async function liveSession(env: LttTestEnv, relay: Relay, name: string): Promise<Viewer> {
  await ok(env, 'create', name, '--live=100000', '-U', `net://127.0.0.1:${relay.ports.control}:${relay.ports.data}`);
  await ok(env, 'enable-event', '-u', 'demo:tick');
  await ok(env, 'start');
  const liveUrl = `net://127.0.0.1:${relay.ports.live}`;
  const child = spawn(BT2, ['-i', 'lttng-live', `${liveUrl}/host/${hostname()}/${name}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (t: string) => (out += t));
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (err += t));
  const ended = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listed = (): string => spawnSync(BT2, ['-i', 'lttng-live', liveUrl], { encoding: 'utf8' }).stdout;
  for (const deadline = Date.now() + 30_000; !/1 client\(s\) connected/.test(listed()); await sleep(200)) {
    assert.ok(Date.now() < deadline, `the viewer did not attach: ${err}`);
  }
  return { child, ticks: () => out.split('\n').filter((l) => / demo:tick: /.test(l)).length, err: () => err, ended };
}

/** Waits (up to 30 s) until the viewer printed `n` events; how many it printed. */
async function seen(v: Viewer, n: number): Promise<number> {
  for (const deadline = Date.now() + 30_000; v.ticks() < n && Date.now() < deadline; ) await sleep(200);
  return v.ticks();
}

async function withRelay(body: (env: LttTestEnv, relay: Relay) => Promise<void>): Promise<void> {
  const env = new LttTestEnv();
  const relay = await startRelay('ltt', join(env.root, 'relay', 'out'));
  try {
    await body(env, relay);
  } finally {
    await env.cleanup().catch(() => undefined);
    await relay.stop();
  }
}

test('babeltrace2 follows an app\'s worker thread started after the main thread went quiet: every event while the app runs', { skip, timeout: 300_000 }, async () => {
  await withRelay(async (env, relay) => {
    const viewer = await liveSession(env, relay, 'lateworker');
    const sync = join(env.root, 'sync');
    let app: ChildProcess | undefined;
    try {
      // The main thread's events, then 1.5 s of quiet (many live timer periods: babeltrace2 has read its stream
      // to the end and asks it again and again), then the worker's stream appears.
      app = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'test', 'relay', 'late-worker-app.js'), String(EVENTS), '1500', sync], { env: env.env, stdio: 'ignore' });
      const appEnded = new Promise<number | null>((resolve) => app!.once('exit', (code) => resolve(code)));
      assert.equal(await seen(viewer, 2 * EVENTS), 2 * EVENTS, `babeltrace2 saw ${viewer.ticks()} of the app's ${2 * EVENTS} events while it ran: ${viewer.err()}`);
      await ok(env, 'destroy');
      writeFileSync(sync, '');
      assert.equal(await appEnded, 0);
      assert.equal(await viewer.ended, 0, viewer.err());
      assert.equal(viewer.ticks(), 2 * EVENTS);
    } finally {
      writeFileSync(sync, '');
      app?.kill('SIGKILL');
      viewer.child.kill('SIGKILL');
    }
  });
});

test('an app that ran and exited while babeltrace2 did not poll (SIGSTOP) is still followed to its end', { skip, timeout: 300_000 }, async () => {
  await withRelay(async (env, relay) => {
    const viewer = await liveSession(env, relay, 'gonebefore');
    try {
      viewer.child.kill('SIGSTOP');
      const r = spawnSync(process.execPath, [join(REPO_ROOT, 'examples', 'ust-demo.mjs'), String(EVENTS)], { env: env.env, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      // The app's relay session is closed and its streams complete by now.
      await sleep(1500);
      viewer.child.kill('SIGCONT');
      assert.equal(await seen(viewer, 2 * EVENTS), 2 * EVENTS, `babeltrace2 saw ${viewer.ticks()} of the exited app's ${2 * EVENTS} events: ${viewer.err()}`);
      await ok(env, 'destroy');
      assert.equal(await viewer.ended, 0, viewer.err());
      assert.equal(viewer.ticks(), 2 * EVENTS);
    } finally {
      viewer.child.kill('SIGCONT');
      viewer.child.kill('SIGKILL');
    }
  });
});

test('babeltrace2 follows a second app started while the first app\'s streams, all it follows, are quiet', { skip, timeout: 300_000 }, async () => {
  await withRelay(async (env, relay) => {
    const viewer = await liveSession(env, relay, 'lateapp');
    const sync = join(env.root, 'sync');
    let first: ChildProcess | undefined;
    try {
      // The first app: its main thread's events, then quiet for the rest of the test (its worker never starts).
      first = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'test', 'relay', 'late-worker-app.js'), String(EVENTS), '600000', sync], { env: env.env, stdio: 'ignore' });
      assert.equal(await seen(viewer, EVENTS), EVENTS, `babeltrace2 saw ${viewer.ticks()} of the first app's ${EVENTS} events: ${viewer.err()}`);
      await sleep(1500);
      // The second app (main thread and a worker) runs to its end while the first one stays quiet.
      const r = spawnSync(process.execPath, [join(REPO_ROOT, 'examples', 'ust-demo.mjs'), String(EVENTS)], { env: env.env, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(await seen(viewer, 3 * EVENTS), 3 * EVENTS, `babeltrace2 saw ${viewer.ticks()} of ${3 * EVENTS} events while the first app was quiet: ${viewer.err()}`);
      await ok(env, 'destroy');
      first.kill('SIGTERM');
      assert.equal(await viewer.ended, 0, viewer.err());
      assert.equal(viewer.ticks(), 3 * EVENTS);
    } finally {
      writeFileSync(sync, '');
      first?.kill('SIGKILL');
      viewer.child.kill('SIGKILL');
    }
  });
});
