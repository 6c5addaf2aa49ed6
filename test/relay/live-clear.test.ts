// A live viewer following an ltt/ust session on ltt-relayd across a clear, then new metadata (LTTng's
// clear/test_ust "live viewer with new metadata after clear" case): after the clear the relay serves the metadata
// of the new chunk from the offset the viewer reached, so the new chunk's metadata must begin with exactly the
// bytes of the old one. The app's agent sends its declarations in several batches while it records and again in
// one batch per channel after the clear; the viewer then got other bytes at that offset and babeltrace 1 died
// of a TSDL syntax error, never seeing the events after the clear. Both babeltrace 1 and babeltrace2 (lttng-live)
// must print the events before the clear and the state dump's events after it, and end when the session does.
// The same with the session stopped before the clear and started after it (the case's tracing_active=0): the
// app's next run must go on in the stream classes and streams it had (babeltrace 1's lttng-live died of a
// SIGSEGV at a stream class added mid-session, and the script waited for ever for the state dump's events).

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { LttTestEnv, sleep } from '../cli/ltt-test-env.js';
import { REPO_ROOT } from '../repo-paths.js';
import { BT2, startRelay } from './relay-helpers.js';

const VIEWERS = [
  { name: 'babeltrace', path: '/usr/bin/babeltrace' },
  { name: 'babeltrace2', path: BT2 },
];

async function ok(env: LttTestEnv, ...args: string[]): Promise<void> {
  const r = await env.ltt(...args);
  assert.equal(r.code, 0, `ltt ${args.join(' ')}: ${r.stderr}`);
}

for (const viewer of VIEWERS) for (const stopped of [false, true]) {
  const skip = existsSync(viewer.path) ? false : `${viewer.name} not installed`;
  const how = stopped ? ' (stopped, cleared, started again)' : '';
  test(`${viewer.name} follows a live session across a clear and reads the metadata declared after it${how}`, { skip, timeout: 300_000 }, async () => {
    const env = new LttTestEnv();
    const relay = await startRelay('ltt', join(env.root, 'relay', 'out'));
    const name = 'liveclear';
    const liveUrl = `net://127.0.0.1:${relay.ports.live}`;
    let out = '';
    let err = '';
    const bt = { child: undefined as ReturnType<typeof spawn> | undefined };
    let app: ReturnType<typeof spawn> | undefined;
    try {
      await ok(env, 'create', name, '--live=100000', '-U', `net://127.0.0.1:${relay.ports.control}:${relay.ports.data}`);
      await ok(env, 'enable-channel', '-u', 'chan');
      await ok(env, 'add-context', '-u', '-c', 'chan', '-t', 'vpid');
      await ok(env, 'enable-event', '-u', '-c', 'chan', 'demo:tick');
      await ok(env, 'start');
      // Started once the daemon runs: an app finds a daemon that appears later only at its next poll.
      app = spawn(process.execPath, [join(REPO_ROOT, 'examples', 'ust-demo.mjs'), '0', 'stdin'], { env: env.env, stdio: ['pipe', 'pipe', 'inherit'] });
      const lines = createInterface({ input: app.stdout! })[Symbol.asyncIterator]();
      assert.equal(String((await lines.next()).value), 'ready');
      bt.child = spawn(viewer.path, ['-i', 'lttng-live', `${liveUrl}/host/${hostname()}/${name}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      bt.child.stdout!.setEncoding('utf8').on('data', (t: string) => (out += t));
      bt.child.stderr!.setEncoding('utf8').on('data', (t: string) => (err += t));
      const ended = new Promise<number | null>((resolve) => bt.child!.once('exit', (code) => resolve(code)));
      const listed = (): string => spawnSync(viewer.path, ['-i', 'lttng-live', liveUrl], { encoding: 'utf8' }).stdout;
      for (const deadline = Date.now() + 30_000; !/1 client\(s\) connected/.test(listed()); await sleep(200)) {
        assert.ok(Date.now() < deadline, `the viewer did not attach: ${err}`);
      }
      const count = (re: RegExp): number => out.split('\n').filter((l) => re.test(l)).length;
      const until = async (what: string, check: () => boolean): Promise<void> => {
        for (const deadline = Date.now() + 30_000; !check(); await sleep(200)) {
          assert.ok(Date.now() < deadline, `${what}; the viewer printed:\n${out.slice(-2000)}\nstderr: ${err}`);
        }
      };
      // Two batches of declarations in the first chunk: the stream class and demo:tick when the app records.
      app.stdin!.write('10\n');
      assert.equal(String((await lines.next()).value), 'done 10');
      await until('10 demo:tick events before the clear', () => count(/ demo:tick: /) === 10);

      if (stopped) await ok(env, 'stop', name);
      await ok(env, 'clear', name);
      if (stopped) await ok(env, 'start', name);
      await ok(env, 'enable-event', '-u', '-c', 'chan', 'lttng_ust_statedump:start', '--filter', `$ctx.vpid == ${app.pid}`);
      await ok(env, 'enable-event', '-u', '-c', 'chan', 'lttng_ust_statedump:end', '--filter', `$ctx.vpid == ${app.pid}`);
      await ok(env, 'regenerate', 'statedump', '-s', name);
      await until('the state dump\'s start and end after the clear', () => count(/ lttng_ust_statedump:(start|end): /) === 2);

      await ok(env, 'destroy', name);
      assert.equal(await ended, 0, err);
      assert.equal(count(/ demo:tick: /), 10);
      assert.equal(count(/ lttng_ust_statedump:start: /), 1);
      assert.equal(count(/ lttng_ust_statedump:end: /), 1);
    } finally {
      app?.stdin!.end();
      app?.kill('SIGKILL');
      bt.child?.kill('SIGKILL');
      await env.cleanup().catch(() => undefined);
      await relay.stop();
    }
  });
}
