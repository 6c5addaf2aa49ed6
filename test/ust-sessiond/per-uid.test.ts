// Per-UID user-space buffers (LTTng's default, `enable-channel -u --buffers-uid`), end to end: a real
// ltt-sessiond, real ltt/ust apps, the traces read by /usr/bin/babeltrace2 and `ltt view`. Every app of the user
// writes into one trace per session and chunk, ust/uid/UID/64-bit/, whose metadata the daemon began.

import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LttTestEnv, type RunResult } from '../cli/ltt-test-env.js';
import { BT, DEMO, ROOT, writeScript } from '../ust/helpers.js';
import { drivenAppSource, startDrivenApp } from '../robustness/robustness-env.js';

const UID = String(process.getuid!());

async function ok(env: LttTestEnv, ...args: string[]): Promise<RunResult> {
  const r = await env.ltt(...args);
  assert.equal(r.code, 0, `ltt ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r;
}

function outputOf(create: RunResult): string {
  const line = create.stdout.split('\n').find((l) => l.startsWith('Traces will be written in '));
  assert.ok(line, create.stdout);
  return line.slice('Traces will be written in '.length);
}

function bt2(dir: string): { lines: string[]; stdout: string } {
  const p = spawnSync(BT, [dir], { encoding: 'utf8', maxBuffer: 1 << 30 });
  assert.equal(p.status, 0, p.stderr);
  return { lines: p.stdout.split('\n').filter((l) => l !== ''), stdout: p.stdout };
}

/** demo:tick `i` values by (vpid, msg), from lines with the vpid context. */
function ticksByApp(lines: readonly string[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const l of lines) {
    const m = /\{ vpid = (\d+) \}, \{ i = (\d+), msg = "([^"]*)" \}$/.exec(l);
    assert.ok(m, l);
    const key = `${m[1]} ${m[3]}`;
    out.set(key, [...(out.get(key) ?? []), Number(m[2])]);
  }
  return out;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

async function demo(env: LttTestEnv, n: number): Promise<number> {
  const c = spawn(process.execPath, [DEMO, String(n)], { cwd: ROOT, env: env.env, stdio: 'ignore' });
  const code = await new Promise<number | null>((r) => c.once('exit', (x) => r(x)));
  assert.equal(code, 0);
  return c.pid!;
}

function uidFolder(base: string): string {
  assert.deepEqual(readdirSync(join(base, 'ust')), ['uid']);
  assert.deepEqual(readdirSync(join(base, 'ust', 'uid')), [UID]);
  return join(base, 'ust', 'uid', UID, '64-bit');
}

test('per-UID: the apps of a user share one trace and one metadata; exited apps stay; regenerate metadata; babeltrace2 and ltt view agree', { timeout: 180_000 }, async () => {
  const env = new LttTestEnv();
  const scripts = join(env.root, 'scripts');
  mkdirSync(scripts, { recursive: true });
  let running: Awaited<ReturnType<typeof startDrivenApp>> | undefined;
  try {
    const out = outputOf(await ok(env, 'create', 'peruid'));
    await ok(env, 'enable-event', '-u', 'demo:*');
    await ok(env, 'add-context', '-u', '-t', 'vpid');
    // A per-PID channel cannot join a per-UID domain (LTTng: buffer type mismatch).
    const mismatch = await env.ltt('enable-channel', '-u', '--buffers-pid', 'other');
    assert.notEqual(mismatch.code, 0);
    assert.match(mismatch.stderr, /Buffer type mismatch for session/);
    assert.match((await ok(env, 'list', 'peruid')).stdout, /Buffering scheme: per-user/);
    await ok(env, 'start');
    const first = await demo(env, 700);
    // The first app exited: regenerating keeps its declarations (its files stay), a running app declares again.
    running = await startDrivenApp(env, writeScript(scripts, 'driven.mjs', drivenAppSource(true)));
    await running.emit('before', 50);
    await new Promise((r) => setTimeout(r, 300));
    const regen = await ok(env, 'regenerate', 'metadata');
    assert.match(regen.stdout, /Metadata successfully regenerated for session peruid/);
    await running.emit('after', 60);
    const second = await demo(env, 400);
    await ok(env, 'stop');
    assert.equal(await running.quit(), 0);
    running = undefined;

    const dir = uidFolder(out);
    const metadata = readFileSync(join(dir, 'metadata'), 'utf8');
    assert.match(metadata, /tracer_buffering_scheme = "uid";/);
    assert.match(metadata, new RegExp(`tracer_buffering_id = ${UID};`));
    assert.equal(metadata.match(/^trace \{/gm)?.length, 1, 'one preamble');
    // Every stream class declared once: 2 threads x 2 demo apps, the driven app's main thread.
    const streams = readdirSync(dir).filter((f) => f.startsWith('channel0_'));
    assert.equal(streams.length, 5, streams.join(' '));
    assert.equal(metadata.match(/^stream \{/gm)?.length, 5);
    const ids = [...metadata.matchAll(/^stream \{\n\tid = (\d+);/gm)].map((m) => `channel0_${m[1]}`).sort();
    assert.deepEqual(ids, streams.sort(), 'a stream file per declared stream class');

    const bt = bt2(out);
    const ticks = ticksByApp(bt.lines.filter((l) => l.includes('demo:tick')));
    assert.deepEqual(ticks.get(`${first} main`), range(700));
    assert.deepEqual(ticks.get(`${first} worker`), range(700));
    assert.deepEqual(ticks.get(`${second} main`), range(400));
    assert.deepEqual(ticks.get(`${second} worker`), range(400));
    const driven = [...ticks.keys()].filter((k) => k.endsWith(' before') || k.endsWith(' after'));
    assert.equal(driven.length, 2, driven.join(', '));
    assert.equal(bt.lines.filter((l) => l.includes('demo:other')).length, 110);
    // `ltt view` prints exactly what babeltrace2 prints.
    assert.equal((await ok(env, 'view', out)).stdout, bt.stdout);
    await ok(env, 'destroy');
  } finally {
    await running?.kill();
    await env.cleanup();
  }
});

test('per-UID: rotation and clear work on the user folder of each chunk', { timeout: 180_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const out = join(env.root, 'chunks');
    await ok(env, 'create', 'rot', '-o', out);
    await ok(env, 'enable-event', '-u', 'demo:tick');
    await ok(env, 'add-context', '-u', '-t', 'vpid');
    await ok(env, 'start');
    const a = await demo(env, 300);
    await ok(env, 'rotate');
    // A chunk in which none of the user's apps ran still holds the user's trace (LTTng's per-UID buffers
    // outlive their apps): an empty trace babeltrace2 reads.
    await ok(env, 'rotate');
    const b = await demo(env, 200);
    await ok(env, 'stop');
    await ok(env, 'rotate');
    const archives = readdirSync(join(out, 'archives')).sort();
    assert.equal(archives.length, 3, archives.join(' '));
    const [c1, c2, c3] = archives.map((n) => ticksByApp(bt2(uidFolder(join(out, 'archives', n))).lines));
    assert.deepEqual([...c1!.keys()].sort(), [`${a} main`, `${a} worker`]);
    assert.equal(c2!.size, 0);
    assert.deepEqual([...c3!.keys()].sort(), [`${b} main`, `${b} worker`]);
    assert.deepEqual(c3!.get(`${b} worker`), range(200));

    // clear: the user folder's files go (the exited apps' too); recording goes on in it.
    const out2 = join(env.root, 'cleared');
    await ok(env, 'create', 'clr', '-o', out2);
    await ok(env, 'enable-event', '-u', 'demo:tick', '-s', 'clr');
    await ok(env, 'add-context', '-u', '-t', 'vpid', '-s', 'clr');
    await ok(env, 'start', 'clr');
    await demo(env, 100);
    await ok(env, 'clear', 'clr');
    const after = await demo(env, 50);
    await ok(env, 'stop', 'clr');
    const kept = ticksByApp(bt2(uidFolder(out2)).lines);
    assert.deepEqual([...kept.keys()].sort(), [`${after} main`, `${after} worker`]);
    assert.equal(readFileSync(join(uidFolder(out2), 'metadata'), 'utf8').match(/^trace \{/gm)?.length, 1);
    await ok(env, 'destroy', '-a');
  } finally {
    await env.cleanup();
  }
});

test('per-UID snapshots: the exited and the running apps of a user in one folder per snapshot, read by babeltrace2 as ltt view', { timeout: 180_000 }, async () => {
  const env = new LttTestEnv();
  const scripts = join(env.root, 'scripts');
  mkdirSync(scripts, { recursive: true });
  let running: Awaited<ReturnType<typeof startDrivenApp>> | undefined;
  try {
    const out = join(env.root, 'snaps');
    await ok(env, 'create', 'snap', '--snapshot', '-o', out);
    await ok(env, 'enable-event', '-u', 'demo:tick');
    await ok(env, 'add-context', '-u', '-t', 'vpid');
    await ok(env, 'start');
    const a = await demo(env, 500);
    const b = await demo(env, 300);
    running = await startDrivenApp(env, writeScript(scripts, 'driven.mjs', drivenAppSource()));
    await running.emit('live', 40);
    for (const name of ['one', 'two']) {
      await ok(env, 'snapshot', 'record', '-n', name);
      const snap = join(out, readdirSync(out).find((n) => n.startsWith(`${name}-`))!);
      const dir = uidFolder(snap);
      const metadata = readFileSync(join(dir, 'metadata'), 'utf8');
      assert.equal(metadata.match(/^trace \{/gm)?.length, 1, 'one preamble');
      assert.equal(metadata.match(/^stream \{/gm)?.length, 5, 'the streams of the three apps');
      const bt = bt2(snap);
      const ticks = ticksByApp(bt.lines);
      assert.deepEqual(ticks.get(`${a} main`), range(500));
      assert.deepEqual(ticks.get(`${b} worker`), range(300));
      assert.deepEqual(ticks.get(`${running.pid} live`), range(40));
      assert.equal((await ok(env, 'view', snap)).stdout, bt.stdout);
    }
    assert.equal(await running.quit(), 0);
    running = undefined;
    await ok(env, 'destroy');
  } finally {
    await running?.kill();
    await env.cleanup();
  }
});
