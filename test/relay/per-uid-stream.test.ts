// Per-UID user-space buffers streamed to a relay, all real processes (ltt-sessiond, ltt-relayd, ltt/ust apps,
// babeltrace2): as lttng-sessiond streams per-UID buffers, the relay stores one trace per user,
// ust/uid/UID/64-bit/, whose metadata stream the daemon owns and which outlives the apps: several apps of one user
// land in it (no ust/pid/), a rotation archives it whole in each chunk, and after the apps exited a clear leaves
// a trace that reads as empty (babeltrace2 parses it: LTTng's clear test checks this with validate_trace_empty),
// and recording goes on in it afterwards; a live viewer follows the trace across a stop, a clear and a start
// (the user's streams outlive the app's run, as LTTng's per-UID streams: the viewer hears of the next run's
// streams through them); snapshots to a relay hold the user's trace. A live thread that records again in a later
// run of its app (same slot, same stream file name) never empties the file of its earlier runs' packets, whether
// its stream stayed idle through a run it sent nothing in or ended past the idle-stream bound.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LttTestEnv, sleep } from '../cli/ltt-test-env.js';
import { REPO_ROOT } from '../repo-paths.js';
import { BT2, readStoredTrace, startRelay } from './relay-helpers.js';
import { DEMO, ok, sessionFolder, ticks, withRelay } from './ust-relay-session.js';

const skip = !existsSync(BT2) ? 'babeltrace2 not installed' : false;
const UID = String(process.getuid?.() ?? 0);

/** examples/ust-demo.mjs: 2 x n demo:tick events (main thread and a worker). */
function app(env: LttTestEnv, n: number): void {
  const r = spawnSync(process.execPath, [DEMO, String(n)], { env: env.env, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
}

test('per-UID streaming: the apps of one user share ust/uid/UID/64-bit on the relay, each rotation chunk has it whole', { skip, timeout: 240_000 }, async () => {
  await withRelay(async (env, relay, url) => {
    await ok(env, 'create', 'uidnet', '-U', url);
    await ok(env, 'enable-channel', '-u', 'chan', '--buffers-uid');
    await ok(env, 'enable-event', '-u', 'demo:tick', '-c', 'chan');
    await ok(env, 'start');
    app(env, 10);
    app(env, 5);
    await ok(env, 'rotate');
    app(env, 7);
    await ok(env, 'stop');
    // Rotated after the stop: nothing recorded in the next chunk, which destroy leaves out (as lttng: no chunk).
    await ok(env, 'rotate');
    await ok(env, 'destroy');

    const archives = join(sessionFolder(relay, 'uidnet'), 'archives');
    const chunks = readdirSync(archives).sort((a, b) => Number(a.split('-').pop()) - Number(b.split('-').pop()));
    assert.equal(chunks.length, 2, `two chunks: ${chunks.join(', ')}`);
    for (const chunk of chunks) {
      assert.deepEqual(readdirSync(join(archives, chunk)), ['ust'], chunk);
      assert.deepEqual(readdirSync(join(archives, chunk, 'ust')), ['uid'], `${chunk}: per-UID only`);
      assert.deepEqual(readdirSync(join(archives, chunk, 'ust', 'uid')), [UID], chunk);
      assert.ok(existsSync(join(archives, chunk, 'ust', 'uid', UID, '64-bit', 'metadata')), `${chunk}: the user's metadata`);
    }
    assert.equal(ticks(join(archives, chunks[0]!)), 2 * (10 + 5), 'both apps in the first chunk');
    assert.equal(ticks(join(archives, chunks[1]!)), 2 * 7, 'the third app in the second chunk');
    // One trace per user: the first chunk's streams are the two apps' threads, under one metadata.
    const streams = readdirSync(join(archives, chunks[0]!, 'ust', 'uid', UID, '64-bit')).filter((f) => f.startsWith('chan_'));
    assert.equal(streams.length, 4, `two threads of two apps: ${streams.join(', ')}`);
  });
});

test('per-UID streaming: after the apps exited, clear leaves an empty trace that reads, and recording goes on in it', { skip, timeout: 240_000 }, async () => {
  await withRelay(async (env, relay, url) => {
    await ok(env, 'create', 'uidclear', '-U', url);
    await ok(env, 'enable-event', '-u', 'demo:tick');
    await ok(env, 'start');
    app(env, 10);
    await ok(env, 'stop');
    const dir = sessionFolder(relay, 'uidclear');
    assert.equal(ticks(dir), 20);
    await ok(env, 'clear');
    assert.deepEqual(readdirSync(join(dir, 'ust')), ['uid'], 'per-UID on the relay');
    assert.equal(ticks(dir), 0, 'cleared: the trace reads, empty');
    await ok(env, 'start');
    app(env, 3);
    await ok(env, 'stop');
    assert.equal(ticks(dir), 6, 'recorded after the clear');
    await ok(env, 'destroy');
  });
});

test('per-UID snapshots to a relay (and a local one): the user\'s trace in each snapshot, empty but readable after a clear', { skip, timeout: 240_000 }, async () => {
  await withRelay(async (env, relay, url) => {
    await ok(env, 'create', 'uidsnap', '--snapshot', '-U', url);
    await ok(env, 'enable-event', '-u', 'demo:tick');
    await ok(env, 'start');
    app(env, 10);
    await ok(env, 'snapshot', 'record', '-n', 'first');
    await ok(env, 'clear');
    await ok(env, 'snapshot', 'record', '-n', 'second');
    // To a local output as well: the user's folder, empty but readable.
    const local = join(env.root, 'local-snapshots');
    await ok(env, 'snapshot', 'record', '-n', 'local', `file://${local}`);
    const localSnap = readdirSync(local);
    assert.equal(localSnap.length, 1, localSnap.join(', '));
    assert.deepEqual(readdirSync(join(local, localSnap[0]!, 'ust')), ['uid']);
    assert.equal(ticks(join(local, localSnap[0]!)), 0, 'cleared: a local snapshot reads, empty');
    await ok(env, 'stop');
    await ok(env, 'destroy');
    const dir = sessionFolder(relay, 'uidsnap');
    const snapshots = readdirSync(dir).sort();
    assert.equal(snapshots.length, 2, snapshots.join(', '));
    for (const name of snapshots) {
      assert.deepEqual(readdirSync(join(dir, name, 'ust')), ['uid'], `${name}: per-UID`);
      assert.ok(existsSync(join(dir, name, 'ust', 'uid', UID, '64-bit', 'metadata')), `${name}: the user's metadata`);
    }
    assert.equal(ticks(join(dir, snapshots[0]!)), 20, 'the exited app\'s events in the first snapshot');
    assert.equal(ticks(join(dir, snapshots[1]!)), 0, 'cleared: an empty trace that reads');
  });
});

test('per-UID live: babeltrace2 follows the user\'s trace across stop, clear and start of a running app', { skip, timeout: 240_000 }, async () => {
  await withRelay(async (env, relay, url) => {
    await ok(env, 'create', 'uidlive', '--live=100000', '-U', url);
    await ok(env, 'enable-event', '-u', 'demo:tick');
    await ok(env, 'start');
    const liveUrl = `net://127.0.0.1:${relay.ports.live}`;
    const list = (): string => spawnSync(BT2, ['-i', 'lttng-live', liveUrl], { encoding: 'utf8' }).stdout;
    const viewer = spawn(BT2, ['-i', 'lttng-live', `${liveUrl}/host/${hostname()}/uidlive`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = '';
    let err = '';
    viewer.stdout.setEncoding('utf8').on('data', (t: string) => (seen += t));
    viewer.stderr.setEncoding('utf8').on('data', (t: string) => (err += t));
    const ended = new Promise<number | null>((resolve) => viewer.once('exit', (code) => resolve(code)));
    const demo = spawn(process.execPath, [join(REPO_ROOT, 'examples', 'ust-demo.mjs'), '5', 'stdin'], { env: env.env, stdio: ['pipe', 'pipe', 'inherit'] });
    let said = '';
    demo.stdout.setEncoding('utf8').on('data', (t: string) => (said += t));
    const demoEnded = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
    const seenTicks = (): number => seen.split('\n').filter((l) => / demo:tick: /.test(l)).length;
    const until = async (what: string, done: () => boolean): Promise<void> => {
      for (const deadline = Date.now() + 60_000; !done(); await sleep(200)) assert.ok(Date.now() < deadline, `${what}: ${err}`);
    };
    try {
      await until('the viewer attached', () => /1 client\(s\) connected/.test(list()));
      await until('the app ran', () => said.includes('ready'));
      await until('the viewer saw the first run', () => seenTicks() === 10);
      await ok(env, 'stop');
      await ok(env, 'clear');
      await ok(env, 'start');
      demo.stdin.write('3\n');
      await until('the app emitted again', () => said.includes('done 3'));
      await until(`the viewer saw the events after the clear (${seenTicks()} of 13)`, () => seenTicks() === 13);
      demo.stdin.end();
      assert.equal(await demoEnded, 0);
      await ok(env, 'stop');
      await ok(env, 'destroy');
      assert.equal(await ended, 0, err);
      assert.equal(seenTicks(), 13);
    } finally {
      viewer.kill('SIGKILL');
      demo.kill('SIGKILL');
    }
  });
});

test('per-UID live: a user\'s trace keeps at most 64 idle streams; the oldest past that end and get no announcement', { skip, timeout: 240_000 }, async () => {
  await withRelay(async (env, relay, url) => {
    await ok(env, 'create', 'uididle', '--live=100000', '-U', url);
    await ok(env, 'enable-event', '-u', 'demo:tick');
    await ok(env, 'start');
    // 70 threads, a stream each, all idle once their thread ended: 6 past the bound.
    const threads = 70;
    const first = spawnSync(process.execPath, [join(REPO_ROOT, 'dist', 'test', 'relay', 'many-threads-app.js'), String(threads)], { env: env.env, encoding: 'utf8', timeout: 120_000 });
    assert.equal(first.status, 0, first.stderr);
    await sleep(500);
    // A new run's streams: every idle stream announces them with an empty packet (ended ones cannot).
    const before = process.hrtime.bigint();
    app(env, 3);
    await ok(env, 'stop');
    await ok(env, 'destroy');
    const { streams } = readStoredTrace(join(sessionFolder(relay, 'uididle'), 'ust', 'uid', UID, '64-bit'));
    // Packets that end after `before` (index entry: timestamp_end at byte 32): the announcements and the run's own.
    const late = streams.filter((st) => st.packets.some((p) => p.entry.readBigUInt64BE(32) >= before));
    assert.ok(streams.length >= threads, `${streams.length} streams`);
    // Without the bound every one of the 70 idle streams announces (72 with the run's own two).
    assert.ok(late.length <= 64 + 2, `${late.length} streams wrote after the last run began`);
    assert.ok(late.length >= 64 - 2, `${late.length} streams wrote after the last run began`);
    assert.equal(ticks(sessionFolder(relay, 'uididle')), threads + 2 * 3);
  });
});

test('regenerate metadata on a per-UID network session: the relay\'s metadata starts again and holds every app\'s, exited ones\' too (lttng-relayd and ltt-relayd); live: refused', { skip: skip || (!existsSync('/usr/bin/lttng-relayd') ? 'lttng-relayd not installed' : false), timeout: 240_000 }, async () => {
  for (const kind of ['lttng', 'ltt'] as const) {
    const env = new LttTestEnv();
    const relay = await startRelay(kind, join(env.root, 'relay', 'out'));
    try {
      const url = `net://127.0.0.1:${relay.ports.control}:${relay.ports.data}`;
      await ok(env, 'create', 'regen', '-U', url);
      await ok(env, 'enable-channel', '-u', 'chan', '--buffers-uid');
      await ok(env, 'enable-event', '-u', 'demo:tick', '-c', 'chan');
      await ok(env, 'start');
      app(env, 10);
      const metadata = join(sessionFolder(relay, 'regen'), 'ust', 'uid', UID, '64-bit', 'metadata');
      const before = readFileSync(metadata);
      // A marker the relay's file must lose: the reset empties it before the text comes again.
      appendFileSync(metadata, '/* stale */\n');
      await ok(env, 'regenerate', 'metadata');
      const after = readFileSync(metadata);
      assert.ok(!after.includes('/* stale */'), `${kind}: the metadata file was not reset`);
      assert.equal(after.toString('latin1').replace(/\/\* CTF 1\.8 \*\/\n/g, ''), before.toString('latin1').replace(/\/\* CTF 1\.8 \*\/\n/g, ''), `${kind}: the same declarations`);
      app(env, 5);
      await ok(env, 'stop');
      await ok(env, 'destroy');
      assert.equal(ticks(sessionFolder(relay, 'regen')), 30, kind);
    } finally {
      await env.cleanup().catch(() => undefined);
      await relay.stop();
    }
  }
  await withRelay(async (env, relay) => {
    await ok(env, 'create', 'regenlive', '--live=100000', '-U', `net://127.0.0.1:${relay.ports.control}:${relay.ports.data}`);
    await ok(env, 'enable-event', '-u', 'demo:tick');
    await ok(env, 'start');
    const r = await env.ltt('regenerate', 'metadata');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /live/i);
    await ok(env, 'destroy');
  });
});

/** test/relay/runs-app.ts, running: `ask` sends it a command and waits for its answer. */
function runsApp(env: LttTestEnv): { pid: number; ask: (command: string, answer: string) => Promise<void>; answered: (answer: string, times: number) => Promise<void>; end: () => Promise<number | null>; kill: () => void } {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'test', 'relay', 'runs-app.js')], { env: env.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (out += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (err += t));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const count = (answer: string): number => out.split('\n').filter((l) => l === answer).length;
  const answered = async (answer: string, times: number): Promise<void> => {
    for (const deadline = Date.now() + 60_000; count(answer) < times; await sleep(50)) assert.ok(Date.now() < deadline, `runs-app: no "${answer}" (${out}): ${err}`);
  };
  return {
    pid: child.pid!,
    ask: async (command, answer) => {
      const before = count(answer);
      child.stdin.write(`${command}\n`);
      await answered(answer, before + 1);
    },
    answered,
    end: () => {
      child.stdin.end();
      return exited;
    },
    kill: () => child.kill('SIGKILL'),
  };
}

/**
 * A user's stored trace read back: babeltrace2 and ltt view print the same (no discarded packets: each stream's
 * packet sequence numbers follow on), its demo:tick events by msg, its data files.
 */
function readBack(dir: string): { byMsg: Record<string, number>; files: string[] } {
  const bt = spawnSync(BT2, [dir], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(bt.status, 0, `babeltrace2 ${dir}: ${bt.stderr}`);
  assert.doesNotMatch(bt.stderr, /discarded/i);
  const view = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'ltt'), 'view', dir], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(view.status, 0, view.stderr);
  assert.equal(view.stdout, bt.stdout, 'ltt view prints what babeltrace2 prints');
  const byMsg: Record<string, number> = {};
  for (const line of bt.stdout.split('\n')) {
    const msg = / demo:tick: .*msg = "([^"]*)"/.exec(line)?.[1];
    if (msg !== undefined) byMsg[msg] = (byMsg[msg] ?? 0) + 1;
  }
  const files = readdirSync(join(dir, 'ust', 'uid', UID, '64-bit')).filter((f) => f !== 'metadata' && f !== 'index');
  return { byMsg, files };
}

test('per-UID live: a run in which a thread sent nothing (it was blocked throughout) keeps the earlier runs\' events, and the next run goes on in the same stream', { skip, timeout: 240_000 }, async () => {
  await withRelay(async (env, relay, url) => {
    await ok(env, 'create', 'uidquiet', '--live=100000', '-U', url);
    await ok(env, 'enable-event', '-u', 'demo:tick');
    await ok(env, 'start');
    const a = runsApp(env);
    try {
      await a.ask('emit 5', 'done 5');
      await ok(env, 'stop');
      // A run the main thread sleeps through from its start: its stream, carried on from the first run and
      // opened by this one, gets no packet (not even the live announcement's empty one).
      await a.ask('block-at-start 5000', 'armed');
      await ok(env, 'start');
      await a.answered('blocking', 1);
      await ok(env, 'stop');
      await a.answered('unblocked', 1);
      await ok(env, 'start');
      await a.ask('emit 3', 'done 3');
      assert.equal(await a.end(), 0);
      await ok(env, 'stop');
      await ok(env, 'destroy');
    } finally {
      a.kill();
    }
    const { byMsg, files } = readBack(sessionFolder(relay, 'uidquiet'));
    // Ended after the quiet run, the main thread's stream was opened anew by the third run: its file emptied.
    assert.deepEqual(byMsg, { 'run 1': 5, 'run 3': 3 });
    assert.deepEqual(files.filter((f) => /-\d+$/.test(f)), [], `one stream per thread: ${files.join(', ')}`);
  });
});

test('per-UID live: a thread whose stream ended past the 64-idle-stream bound records again in a new stream; no run\'s events lost (ltt-relayd and lttng-relayd)', { skip: skip || (!existsSync('/usr/bin/lttng-relayd') ? 'lttng-relayd not installed' : false), timeout: 300_000 }, async () => {
  for (const kind of ['ltt', 'lttng'] as const) {
    const env = new LttTestEnv();
    const relay = await startRelay(kind, join(env.root, 'relay', 'out'));
    let a: ReturnType<typeof runsApp> | undefined;
    let b: ReturnType<typeof runsApp> | undefined;
    try {
      await ok(env, 'create', 'uidended', '--live=100000', '-U', `net://127.0.0.1:${relay.ports.control}:${relay.ports.data}`);
      await ok(env, 'enable-event', '-u', 'demo:tick');
      await ok(env, 'start');
      a = runsApp(env);
      await a.ask('emit 5', 'done 5');
      await ok(env, 'stop');
      // The next run records only the second app: its 70 threads' streams, idle once each thread ended, push the
      // first app's main thread stream (idle since the stop, the oldest) past the bound.
      b = runsApp(env);
      await ok(env, 'track', '-u', `--vpid=${b.pid}`);
      await ok(env, 'start');
      await b.ask('threads 70', 'threads 70');
      await ok(env, 'stop');
      await ok(env, 'track', '-u', '--all', '--vpid');
      // The first app's main thread records again, in its slot: the same stream file name as its ended stream.
      await ok(env, 'start');
      await a.ask('emit 3', 'done 3');
      assert.equal(await a.end(), 0);
      assert.equal(await b.end(), 0);
      await ok(env, 'stop');
      await ok(env, 'destroy');
      const { byMsg, files } = readBack(sessionFolder(relay, 'uidended'));
      assert.deepEqual(byMsg, { 'run 1': 5, thread: 70, 'run 2': 3 }, kind);
      assert.equal(files.filter((f) => /-\d+$/.test(f)).length, 1, `${kind}: the main thread's new stream under a name of its own: ${files.join(', ')}`);
    } finally {
      a?.kill();
      b?.kill();
      await env.cleanup().catch(() => undefined);
      await relay.stop();
    }
  }
});
