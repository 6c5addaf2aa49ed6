// Per-UID user-space buffers (LTTng's default, `enable-channel -u --buffers-uid`), end to end: a real
// ltt-sessiond, real ltt/ust apps, the traces read by /usr/bin/babeltrace2 and `ltt view`. Every app of the user
// writes into one trace per session and chunk, ust/uid/UID/64-bit/, whose metadata the daemon began.

import { strict as assert } from 'node:assert';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { exited, LttTestEnv, readableByOthers, startForegroundDaemon, type RunResult } from '../cli/ltt-test-env.js';
import { REPO_ROOT } from '../repo-paths.js';
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

const NOBODY = 65534;
const asRoot = process.getuid?.() !== 0 ? 'needs root (a root daemon, an app as nobody)' : false;

/** An ltt/ust app run as nobody: on each "emit" line it records other:ev n for the next 10 n and says "ok". */
function otherUserApp(env: LttTestEnv, appDir: string): { app: ReturnType<typeof spawn>; emit(): Promise<void>; quit(): Promise<number | string>; err(): string } {
  const ustModule = pathToFileURL(readableByOthers(join(REPO_ROOT, 'dist', 'src', 'ust', 'index.js'))).href;
  writeFileSync(join(appDir, 'app.mjs'), `import * as ust from ${JSON.stringify(ustModule)};
import { createInterface } from 'node:readline';
const ev = ust.provider('other').event('ev', [ust.int32('n')]);
let n = 0;
for await (const line of createInterface({ input: process.stdin })) {
  if (line !== 'emit') break;
  for (let i = 0; i < 10; i++) ev.emit(n++);
  process.stdout.write('ok\\n');
}
`);
  const app = spawn(process.execPath, [join(appDir, 'app.mjs')], { uid: NOBODY, gid: NOBODY, cwd: '/', env: { ...env.env, LTT_RUNDIR: env.rundir, LTT_UST_REGISTER_TIMEOUT: '20000' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let appErr = '';
  app.stderr!.setEncoding('utf8').on('data', (d: string) => (appErr += d));
  let said = '';
  const waiters: Array<() => void> = [];
  app.stdout!.setEncoding('utf8').on('data', (d: string) => {
    said += d;
    while (said.includes('ok\n') && waiters.length > 0) {
      said = said.slice(said.indexOf('ok\n') + 3);
      waiters.shift()!();
    }
  });
  return {
    app,
    emit: () => new Promise<void>((r) => {
      waiters.push(r);
      app.stdin!.write('emit\n');
    }),
    quit: () => {
      app.stdin!.end();
      return exited(app);
    },
    err: () => appErr,
  };
}

type OtherApp = ReturnType<typeof otherUserApp>;

/**
 * `body` with a root daemon serving the `nogroup` group (its members' apps register there) and a way to start
 * nobody's app (otherUserApp); the apps still running, the daemon and the folders are ended afterwards.
 */
async function withOtherUsersApps(body: (env: LttTestEnv, startApp: () => OtherApp) => Promise<void>): Promise<void> {
  const env = new LttTestEnv();
  chmodSync(env.root, 0o755);
  const daemon = await startForegroundDaemon(env, ['--group', 'nogroup']);
  const appDir = mkdtempSync('/tmp/ltt-per-uid-app-');
  const apps: OtherApp[] = [];
  try {
    chmodSync(appDir, 0o755);
    await body(env, () => {
      const a = otherUserApp(env, appDir);
      apps.push(a);
      return a;
    });
  } finally {
    for (const a of apps) {
      if (a.app.exitCode !== null || a.app.signalCode !== null) continue;
      a.app.kill('SIGKILL');
      await exited(a.app);
    }
    daemon.kill('SIGTERM');
    await exited(daemon);
    rmSync(appDir, { recursive: true, force: true });
    await env.cleanup();
  }
}

/** other:ev n values of a trace folder, as babeltrace2 reads them. */
function otherEvents(dir: string): number[] {
  return bt2(dir).lines.map((l) => {
    const m = /other:ev: .*\{ n = (\d+) \}$/.exec(l);
    assert.ok(m, l);
    return Number(m[1]);
  });
}

for (const buffers of ['per-UID', 'per-PID'] as const) {
  test(`root's session records the ${buffers} trace of another user's app through the daemon: rotation, clear, no folder of the user's, babeltrace2 reads all 20 events`, {
    skip: asRoot,
    timeout: 120_000,
  }, () => withOtherUsersApps(async (env, startApp) => {
    const out = join(env.root, 'out');
    await ok(env, 'create', 'other', '-o', out);
    if (buffers === 'per-PID') await ok(env, 'enable-channel', '-u', '--buffers-pid', 'channel0');
    await ok(env, 'enable-event', '-u', 'other:*');
    await ok(env, 'start');
    const app = startApp();
    await app.emit();
    // The first chunk holds 0..9.
    await ok(env, 'rotate');
    await app.emit();
    // No folder is the user's: the daemon wrote everything, with root's rights.
    const folderOf = (base: string): string => {
      if (buffers === 'per-UID') return join(base, 'ust', 'uid', String(NOBODY), '64-bit');
      const names = readdirSync(join(base, 'ust', 'pid'));
      assert.equal(names.length, 1, names.join(' '));
      return join(base, 'ust', 'pid', names[0]!);
    };
    const archives = () => readdirSync(join(out, 'archives')).sort().map((n) => join(out, 'archives', n));
    const [first] = archives();
    const folder = folderOf(first!);
    for (const p of [folder, join(folder, 'index'), join(folder, 'metadata'), ...readdirSync(folder).map((f) => join(folder, f))]) {
      assert.equal(lstatSync(p).uid, 0, `${p} is root's`);
    }
    assert.ok(readdirSync(folder).some((f) => f.startsWith('channel0_')), `the app's stream: ${readdirSync(folder).join(' ')}`);
    assert.deepEqual(otherEvents(first!), range(10));

    // clear empties what the app recorded so far in the current chunk; the app goes on recording.
    await ok(env, 'clear', 'other');
    await app.emit();
    // regenerate metadata (per-UID only, as LTTng): the daemon's new file, the app's declarations again.
    if (buffers === 'per-UID') assert.match((await ok(env, 'regenerate', 'metadata')).stdout, /Metadata successfully regenerated/);
    await app.emit();
    assert.equal(await app.quit(), 0, app.err());
    await ok(env, 'stop');
    await ok(env, 'rotate');
    const [, second] = archives();
    assert.deepEqual(otherEvents(second!), [...range(40)].slice(20));
    assert.equal(lstatSync(folderOf(second!)).uid, 0);
    // The user cannot plant anything in root's folders (the hazard of handing a folder over is gone).
    const plant = spawnSync('sh', ['-c', 'ln -s /etc "$1/index.away"', 'sh', folderOf(second!)], { uid: NOBODY, gid: NOBODY, encoding: 'utf8' });
    assert.notEqual(plant.status, 0, 'nobody wrote in root\'s trace folder');
    await ok(env, 'destroy', '-a');
  }));
}

test('an app of another user killed while root\'s session records it through the daemon leaves a readable trace', {
  skip: asRoot,
  timeout: 120_000,
}, () => withOtherUsersApps(async (env, startApp) => {
  const out = join(env.root, 'out');
  await ok(env, 'create', 'killed', '-o', out);
  // A switch timer: the app's closed packets reach the daemon while it runs.
  await ok(env, 'enable-channel', '-u', '--switch-timer', '100000', 'channel0');
  await ok(env, 'enable-event', '-u', 'other:*');
  await ok(env, 'start');
  const app = startApp();
  await app.emit();
  await new Promise((r) => setTimeout(r, 600));
  app.app.kill('SIGKILL');
  await exited(app.app);
  await ok(env, 'stop');
  assert.deepEqual(otherEvents(out), range(10));
  await ok(env, 'destroy', '-a');
}));

for (const buffers of ['per-UID', 'per-PID'] as const) {
  test(`root's ${buffers} snapshots of another user's app through the daemon: running, then exited (its held packets), read by babeltrace2`, {
    skip: asRoot,
    timeout: 120_000,
  }, () => withOtherUsersApps(async (env, startApp) => {
    const out = join(env.root, 'snaps');
    await ok(env, 'create', 'snapother', '--snapshot', '-o', out);
    if (buffers === 'per-PID') await ok(env, 'enable-channel', '-u', '--buffers-pid', 'channel0');
    await ok(env, 'enable-event', '-u', 'other:*');
    await ok(env, 'start');
    const app = startApp();
    await app.emit();
    await ok(env, 'snapshot', 'record', '-n', 'running');
    const snap = (name: string) => join(out, readdirSync(out).find((n) => n.startsWith(`${name}-`))!);
    assert.deepEqual(otherEvents(snap('running')), range(10));
    await app.emit();
    assert.equal(await app.quit(), 0, app.err());
    // The exited app's packets, handed over at exit, written by the daemon.
    await ok(env, 'snapshot', 'record', '-n', 'exited');
    assert.deepEqual(otherEvents(snap('exited')), range(20));
    const ust = join(snap('exited'), 'ust');
    const walk = (p: string): string[] => [p, ...(lstatSync(p).isDirectory() ? readdirSync(p).flatMap((n) => walk(join(p, n))) : [])];
    for (const p of walk(ust)) assert.equal(lstatSync(p).uid, 0, `${p} is root's`);
    await ok(env, 'destroy', '-a');
  }));
}
