// A full disk, for real: trace output on a 512 KiB tmpfs. The CTF writer (the kernel consumer's) and a traced
// Node app recording through the session daemon must not crash or hang, must count what they could not write,
// must say so once ("No space left on device"), and must leave what they wrote as a trace babeltrace2 reads.
// The kernel domain is checked from the outside only (its consumer belongs to src/consumer).

import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CtfTraceWriter } from '../../src/ctf/writer/trace-writer.js';
import type { LttError } from '../../src/errors.js';
import * as tracefs from '../../src/ftrace/tracefs.js';
import { LttTestEnv, alive } from '../cli/ltt-test-env.js';
import { DEMO, ROOT, discardedPackets, writeScript } from '../ust/helpers.js';
import { bt2, fillDisk, listedCount, mountTmpfs, ok, outputOf, pidTraces } from './robustness-env.js';

const ENOSPC = /No space left on device/;

test('CtfTraceWriter on a full disk: counts unwritten packets, reports once, resumes, stays readable', { timeout: 60_000 }, async () => {
  const disk = mountTmpfs('512k');
  try {
    const dir = join(disk.dir, 'trace');
    const errors: LttError[] = [];
    const trace = await CtfTraceWriter.create({
      dir,
      env: { domain: 'kernel', tracer_name: 'lttng-modules', tracer_major: 2, tracer_minor: 13 },
      clock: { name: 'monotonic', frequency: 1e9, offsetSeconds: 0n, offsetCycles: 0n },
      onWriteError: (e) => errors.push(e),
    });
    const tick = trace.addEventClass({ name: 'tick', fields: [{ name: 'i', kind: 'int', size: 32 }, { name: 'msg', kind: 'string' }] });
    const stream = trace.openStream({ fileName: 'channel0_0', cpuId: 0, packetSize: 16384 });
    // Leave ~96 KiB: the stream fills it quickly, and removing the filler later frees room to resume.
    const filler = join(disk.dir, 'filler');
    writeFileSync(filler, Buffer.alloc(400 * 1024));
    const msg = 'x'.repeat(40);
    let ts = 1000;
    let written = 0;
    for (let i = 0; i < 20000; i++) {
      stream.write(tick, (ts += 10), [i, msg]);
      written++;
    }
    // Packets written behind (direct-io.ts) are counted once their writes come back: wait for them.
    await trace.settle();
    assert.ok(stream.stats.unwrittenPackets > 0, 'the disk filled up');
    assert.equal(errors.length, 1, 'the failure is reported once');
    assert.match(errors[0]!.message, ENOSPC);
    assert.match(errors[0]!.message, /channel0_0/);
    assert.equal(trace.writeError, errors[0]);

    // While the disk is full, a new event class is declared and used: its metadata cannot go out, so its packets
    // must not either (a reader would meet an undeclared event), and they are counted.
    const late = trace.addEventClass({ name: 'late', fields: [{ name: 'j', kind: 'int', size: 32 }] });
    for (let j = 0; j < 3000; j++) stream.write(late, (ts += 10), [j]);
    written += 3000;
    stream.flushPacket();
    await trace.settle();
    const lostWhileFull = stream.stats.unwrittenPackets;

    // Space comes back: writing resumes (metadata first) without any call from the producer.
    rmSync(filler);
    for (let j = 3000; j < 3100; j++) stream.write(late, (ts += 10), [j]);
    written += 100;
    await trace.close();
    assert.equal(stream.stats.unwrittenPackets, lostWhileFull, 'nothing is lost once there is room');
    assert.equal(errors.length, 1);

    const bt = bt2(dir);
    assert.equal(bt.status, 0, bt.stderr);
    assert.equal(bt.lines.length, written - stream.stats.unwrittenEvents, 'every written event reads back');
    assert.match(bt.lines.at(-1)!, / late: .*\{ j = 3099 \}$/);
    // The packets that never reached the disk show up as a sequence-number gap: discarded packets.
    assert.equal(discardedPackets(bt.stderr), lostWhileFull, bt.stderr);
  } finally {
    disk.unmount();
  }
});

test('a user-space session on a full disk: the app runs on, losses are counted and reported once, the trace reads', { timeout: 180_000 }, async (t) => {
  const env = new LttTestEnv();
  const disk = mountTmpfs('512k');
  try {
    const out = outputOf(await ok(env, 'create', 's', `--output=${join(disk.dir, 's')}`));
    await ok(env, 'enable-channel', '-u', '--buffers-pid', 'channel0');
    await ok(env, 'enable-event', '-u', 'demo:tick');
    await ok(env, 'start');
    const n = 200_000;
    const app = spawnSync(process.execPath, [DEMO, String(n)], { cwd: ROOT, env: env.env, encoding: 'utf8', timeout: 120_000 });
    assert.equal(app.status, 0, app.stderr);
    assert.equal(app.stderr, '', 'the app prints nothing');

    const list = await ok(env, 'list', 's');
    const discarded = listedCount(list.stdout, 'Discarded events');
    assert.ok(discarded > 0, list.stdout);

    const stop = await env.ltt('stop', 's');
    t.diagnostic(`ltt stop: ${stop.stderr.trim()} (exit ${stop.code}); ltt list: ${discarded} discarded of ${2 * n}`);
    assert.notEqual(stop.code, 0, 'stop reports the loss');
    const lines = stop.stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, stop.stderr);
    assert.match(lines[0]!, /^Error: .*No space left on device$/);
    assert.doesNotMatch(stop.stderr, /\n\s+at /, 'no stack trace');
    // Once: a second look does not repeat it.
    const again = await env.ltt('destroy', 's');
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, ENOSPC);
    assert.ok(env.log().split('\n').some((l) => ENOSPC.test(l)), 'the daemon logged it');

    const [dir] = pidTraces(out);
    assert.ok(dir, 'the app wrote a per-pid trace');
    const bt = bt2(dir!);
    assert.equal(bt.status, 0, bt.stderr);
    assert.ok(bt.lines.length > 0, 'what was written before the disk filled up reads');
    // Every event is accounted for: read back, or counted as discarded (by the tracer or the writer).
    assert.equal(bt.lines.length + discarded, 2 * n, `read ${bt.lines.length}, discarded ${discarded}`);
  } finally {
    await env.cleanup();
    disk.unmount();
  }
});

/** Driven on stdin: "tick N" emits N demo:tick; "late N" declares demo:late (first time) and emits N; "quit". */
const LATE_APP = `
const demo = ust.provider('demo');
const tick = demo.event('tick', [ust.int32('i'), ust.string('msg')], { logLevel: 'TRACE_INFO' });
let late;
process.stdin.setEncoding('utf8');
let buf = '';
process.stdin.on('data', (d) => {
  buf += d;
  let nl;
  while ((nl = buf.indexOf('\\n')) >= 0) {
    const [cmd, n] = buf.slice(0, nl).split(' ');
    buf = buf.slice(nl + 1);
    if (cmd === 'quit') process.exit(0);
    if (cmd === 'tick') for (let i = 0; i < Number(n); i++) if (tick.enabled) tick.emit(i, 'fill');
    if (cmd === 'late') {
      late ??= demo.event('late', [ust.int64('j')], { logLevel: 'TRACE_INFO' });
      for (let j = 0; j < Number(n); j++) if (late.enabled) late.emit(j);
    }
    process.stdout.write('done ' + cmd + '\\n');
  }
});
process.stdout.write('ready\\n');
`;

test('user space: an event declared while the disk is full is never written undeclared; writing resumes with space', { timeout: 180_000 }, async () => {
  const env = new LttTestEnv();
  const disk = mountTmpfs('512k');
  const scripts = mkdtempSync('/tmp/ltt-robust-');
  let child: ChildProcess | undefined;
  let stdout = '';
  let stderr = '';
  const said = async (text: string) => {
    const deadline = Date.now() + 60_000;
    while (!stdout.includes(text)) {
      assert.ok(Date.now() < deadline, `app never said ${text}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    stdout = stdout.slice(stdout.indexOf(text) + text.length);
  };
  try {
    const out = outputOf(await ok(env, 'create', 's', `--output=${join(disk.dir, 's')}`));
    // Packets of at most 64 KiB, and 256 KiB held back to be freed later: room for the packets still to come.
    await ok(env, 'enable-channel', '-u', '--buffers-pid', '--subbuf-size=64k', '--num-subbuf=4', 'c');
    await ok(env, 'enable-event', '-u', '-c', 'c', 'demo:*');
    writeFileSync(join(disk.dir, 'reserve'), Buffer.alloc(256 * 1024, 1));
    await ok(env, 'start');
    // Started once the daemon runs, so it registers and records from its first event.
    child = spawn(process.execPath, [writeScript(scripts, 'late.mjs', LATE_APP)], { cwd: ROOT, env: env.env, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const app = child;
    await said('ready\n');
    const ticks = 100_000;
    app.stdin!.write(`tick ${ticks}\n`);
    await said('done tick\n');
    // Whatever room is left goes too: demo:late's declaration cannot be appended to the metadata.
    fillDisk(disk.dir);
    app.stdin!.write('late 2000\n');
    await said('done late\n');
    await new Promise((r) => setTimeout(r, 1500)); // the writer's read timer tries (and fails) meanwhile
    rmSync(join(disk.dir, 'filler'));
    rmSync(join(disk.dir, 'reserve'));
    app.stdin!.write('late 3000\n');
    await said('done late\n');
    app.stdin!.write('quit\n');
    const code = await new Promise((r) => (app.exitCode !== null ? r(app.exitCode) : app.once('exit', r)));
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '', 'the app prints nothing');

    const list = await ok(env, 'list', 's');
    const discarded = listedCount(list.stdout, 'Discarded events');
    const stop = await env.ltt('stop', 's');
    assert.notEqual(stop.code, 0, `${list.stdout}\n${env.log()}`);
    assert.match(stop.stderr, /^Error: .*No space left on device\n$/);

    const [dir] = pidTraces(out);
    const bt = bt2(dir!);
    assert.equal(bt.status, 0, bt.stderr);
    const lateLines = bt.lines.filter((l) => l.includes(' demo:late: '));
    const tickLines = bt.lines.filter((l) => l.includes(' demo:tick: '));
    assert.equal(lateLines.length + tickLines.length, bt.lines.length);
    assert.ok(lateLines.length >= 3000, `the events after the disk had room again are there (${lateLines.length})`);
    assert.equal(bt.lines.length + discarded, ticks + 5000, `read ${bt.lines.length}, discarded ${discarded}`);
    await ok(env, 'destroy', 's');
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await env.cleanup();
    disk.unmount();
    rmSync(scripts, { recursive: true, force: true });
  }
});

test('a kernel session on a full disk (observed from outside): no hang, one error line, daemon alive, trace readable', { timeout: 180_000 }, async (t) => {
  const env = new LttTestEnv();
  const disk = mountTmpfs('512k');
  try {
    const out = outputOf(await ok(env, 'create', 'k', `--output=${join(disk.dir, 'k')}`));
    await ok(env, 'enable-event', '-k', 'sched_switch');
    await ok(env, 'start');
    await new Promise((r) => setTimeout(r, 500));
    fillDisk(disk.dir);
    // Context switches galore: many short-lived processes for a few seconds.
    const until = Date.now() + 4000;
    while (Date.now() < until) spawnSync('/bin/true');
    const stop = await env.ltt('stop', 'k');
    // After stop: until then the events may all sit in open packets that nobody tried to write yet.
    const list = await env.ltt('list', 'k');
    assert.equal(list.code, 0, list.stderr);
    const listed = listedCount(list.stdout, 'Discarded events');
    t.diagnostic(`ltt stop: code ${stop.code}, stderr ${JSON.stringify(stop.stderr)}; ltt list: discarded ${listed}`);
    assert.ok(stop.stderr.split('\n').filter((l) => l !== '').length <= 1, stop.stderr);
    assert.doesNotMatch(stop.stderr, /\n\s+at /, 'no stack trace');
    const pid = env.daemonPid();
    assert.ok(pid !== undefined && alive(pid), 'the daemon survived');
    const bt = bt2(join(out, 'kernel'));
    assert.equal(bt.status, 0, bt.stderr);
    t.diagnostic(`kernel trace: ${bt.lines.length} events read; babeltrace2: ${discardedPackets(bt.stderr)} packets discarded`);
    const destroy = await env.ltt('destroy', 'k');
    assert.ok(destroy.stderr.split('\n').filter((l) => l !== '').length <= 1, destroy.stderr);
    // The packets the disk refused are counted as discarded events.
    assert.ok(listed > 0, `ltt list shows ${listed} discarded events`);
  } finally {
    await env.cleanup();
    disk.unmount();
  }
});

test('destroy --all on a full disk: every session\'s loss is said, one line each, and it exits 1', { timeout: 180_000 }, async (t) => {
  const env = new LttTestEnv();
  const disk = mountTmpfs('512k');
  try {
    for (const s of ['s1', 's2']) {
      await ok(env, 'create', s, `--output=${join(disk.dir, s)}`);
      await ok(env, 'enable-channel', '-u', '-s', s, '--buffers-pid', 'channel0');
      await ok(env, 'enable-event', '-u', '-s', s, 'demo:tick');
      await ok(env, 'start', s);
    }
    // One app records into both sessions, far more than the disk holds: both fail to write.
    const app = spawnSync(process.execPath, [DEMO, '200000'], { cwd: ROOT, env: env.env, encoding: 'utf8', timeout: 120_000 });
    assert.equal(app.status, 0, app.stderr);
    const d = await env.ltt('destroy', '-a');
    t.diagnostic(`ltt destroy -a: exit ${d.code}, ${JSON.stringify(d.stderr)}`);
    assert.equal(d.code, 1, d.stdout);
    // Before: the first session's line only; the second's loss was in the daemon's log alone.
    const lines = d.stderr.split('\n').filter((l) => l !== '');
    const named = lines.map((l) => /^Error: Session (\S+) destroyed, but trace data was lost: .*No space left on device/.exec(l)?.[1]);
    assert.deepEqual(named.sort(), ['s1', 's2'], d.stderr);
    assert.doesNotMatch(d.stderr, /\n\s+at /, 'no stack trace');
    assert.doesNotMatch((await ok(env, 'list')).stdout, /\bs[12]\b/, 'both sessions are gone');
  } finally {
    await env.cleanup();
    disk.unmount();
  }
});

/** A started kernel session `name` (sched_switch) writing to `output`; returns its tracefs instance. */
async function kernelSession(env: LttTestEnv, name: string, output: string): Promise<string> {
  await ok(env, 'create', name, `--output=${output}`);
  await ok(env, 'enable-event', '-k', '-s', name, 'sched_switch');
  await ok(env, 'start', name);
  const instance = tracefs.listInstances().find((i) => i.startsWith(`ltt-${name}-`));
  assert.ok(instance, tracefs.listInstances().join(' '));
  return instance;
}

/** A file of `instance` held open: its removal fails with EBUSY (the daemon's tracer fails to close). */
const holdInstance = (instance: string): number => openSync(tracefs.pathOf('tracing_on', instance), 'r');

/** A test's end: the held file closed, the daemon stopped (while it lives it holds the instance's files, and a
 * failed removal must not leave it running), then the instance removed if it is left. */
async function releaseInstance(env: LttTestEnv, instance: string | undefined, held: number | undefined): Promise<void> {
  if (held !== undefined) closeSync(held);
  await env.cleanup();
  if (instance !== undefined && tracefs.instanceExists(instance)) {
    tracefs.writeText('tracing_on', '0', instance);
    tracefs.rmdirInstance(instance);
  }
}

test('destroy of a kernel session on a full disk whose instance cannot be removed: the loss and the failure to close both reach the user and the log', { timeout: 180_000 }, async (t) => {
  const env = new LttTestEnv();
  const disk = mountTmpfs('512k');
  const name = `dloss${process.pid}`;
  let instance: string | undefined;
  let held: number | undefined;
  try {
    instance = await kernelSession(env, name, join(disk.dir, 'k'));
    await new Promise((r) => setTimeout(r, 500));
    fillDisk(disk.dir);
    const until = Date.now() + 3000;
    while (Date.now() < until) spawnSync('/bin/true');
    held = holdInstance(instance);
    const d = await env.ltt('destroy', name);
    t.diagnostic(`ltt destroy: exit ${d.code}, ${JSON.stringify(d.stderr)}`);
    assert.equal(d.code, 1, d.stdout);
    // Before: the loss alone; the failure to close reached neither the user nor the log.
    assert.match(d.stderr, new RegExp(`^Error: Session ${name} destroyed, but trace data was lost: .*No space left on device.*; and destroying it failed: Cannot remove tracefs instance \\S+: .*\n$`));
    assert.ok(env.log().split('\n').some((l) => l.includes(`Session ${name}: destroying kernel failed: Cannot remove tracefs instance`)), env.log());
    assert.doesNotMatch((await ok(env, 'list')).stdout, new RegExp(`\\b${name}\\b`), 'the session is gone');
  } finally {
    await releaseInstance(env, instance, held);
    disk.unmount();
  }
});

test('destroy --all where one session fails to close: its line, the other sessions destroyed all the same, exit 1', { timeout: 120_000 }, async (t) => {
  const env = new LttTestEnv();
  const name = `dbusy${process.pid}`;
  let instance: string | undefined;
  let held: number | undefined;
  try {
    // destroy -a goes from the newest session to the oldest: the one that fails comes first.
    await ok(env, 'create', 'other', `--output=${join(env.home, 'o')}`);
    instance = await kernelSession(env, name, join(env.home, 'k'));
    held = holdInstance(instance);
    const d = await env.ltt('destroy', '-a');
    t.diagnostic(`ltt destroy -a: exit ${d.code}, ${JSON.stringify(d.stdout)} ${JSON.stringify(d.stderr)}`);
    assert.equal(d.code, 1, d.stdout);
    // Before: the first failure ended the command, and the sessions after it in the list were left alive.
    assert.match(d.stderr, new RegExp(`^Error: Session ${name}: Cannot remove tracefs instance \\S+: [^\\n]*\\n$`));
    assert.match(d.stdout, /Session other destroyed/);
    assert.doesNotMatch(d.stderr, /\n\s+at /, 'no stack trace');
    assert.equal((await ok(env, 'list')).stdout.match(new RegExp(`\\b(${name}|other)\\b`)), null, 'both sessions are gone');
  } finally {
    await releaseInstance(env, instance, held);
  }
});
