// `ltt rotate` with the real CLI, daemon and kernel: LTTng's trace chunks. Each rotation archives what was
// recorded since the previous one into OUTPUT/archives/BEGIN-END-ID (chunk 0 is the output itself, then
// OUTPUT/BEGIN-ID), destroy archives the last chunk of a rotated session, an inactive session rotates once;
// babeltrace2 reads every archive alone and all of them as one trace, and rotations under load lose and
// duplicate nothing.

import { strict as assert } from 'node:assert';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LttTestEnv, type RunResult } from './ltt-test-env.js';

async function ok(env: LttTestEnv, ...args: string[]): Promise<RunResult> {
  const r = await env.ltt(...args);
  assert.equal(r.code, 0, `ltt ${args.join(' ')}: ${r.stderr}`);
  return r;
}

async function fails(env: LttTestEnv, stderr: string, ...args: string[]): Promise<void> {
  const r = await env.ltt(...args);
  assert.deepEqual([r.code, r.stderr], [1, `${stderr}\n`], `ltt ${args.join(' ')}`);
}

function babeltrace(dir: string): string[] {
  const bt = spawnSync('babeltrace2', [dir], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(bt.status, 0, bt.stderr);
  return bt.stdout.split('\n').filter((l) => l !== '');
}

const count = (lines: string[], name: string): number => lines.filter((l) => l.includes(` ${name}: `)).length;

/**
 * A copy of dd under a name of this test run's own, and the filter that keeps its records only: other dd
 * processes on the machine (another test, a bench) would add theirs to the exact counts below.
 */
function privateDd(env: LttTestEnv): { dd: string; filter: string } {
  const name = `lttdd${process.pid}`; // at most 15 characters: the kernel's procname (comm)
  const dd = join(env.root, name);
  copyFileSync(execFileSync('sh', ['-c', 'command -v dd'], { encoding: 'utf8' }).trim(), dd);
  chmodSync(dd, 0o755);
  return { dd, filter: `$ctx.procname == "${name}"` };
}
const TIME = '\\d{8}T\\d{6}[+-]\\d{4}';

function archivePath(r: RunResult, session: string, out: string, id: number): string {
  const m = new RegExp(`^Waiting for rotation to complete\\.\\.\\.\\nTrace chunk archive for session ${session} is now readable at (${out}/archives/${TIME}-${TIME}-${id})\\n$`).exec(r.stdout);
  assert.ok(m, r.stdout);
  return m[1]!;
}

test('rotate: chunks archived as LTTng lays them out, each a trace of its own, together the whole trace', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const out = join(env.root, 'chunks');
    await ok(env, 'create', 'rot', '-o', out);
    await ok(env, 'enable-channel', '-k', 'keep');
    await ok(env, 'enable-event', '-k', '-c', 'keep', '--syscall', 'chroot');
    await fails(env, 'Error: Session needs to be started once', 'rotate');
    await ok(env, 'start');
    const chroot = (n: number): void => {
      for (let i = 0; i < n; i++) execFileSync('chroot', ['/', 'true']);
    };
    chroot(1);
    const a0 = archivePath(await ok(env, 'rotate'), 'rot', out, 0);
    assert.ok(!existsSync(join(out, 'kernel')) && existsSync(join(a0, 'kernel', 'metadata')), 'chunk 0 (the output itself) moved into the archive');
    chroot(2);
    const a1 = archivePath(await ok(env, 'rotate'), 'rot', out, 1);
    assert.deepEqual(readdirSync(out).filter((n) => n !== 'archives').map((n) => new RegExp(`^${TIME}-2$`).test(n)), [true], 'the current chunk: OUTPUT/BEGIN-2');
    chroot(3);
    await ok(env, 'stop');
    const a2 = archivePath(await ok(env, 'rotate'), 'rot', out, 2);
    await fails(env, 'Error: Session was already rotated once since it became inactive', 'rotate');
    assert.deepEqual(readdirSync(out), ['archives'], 'an inactive rotation opens no chunk');
    await ok(env, 'start');
    chroot(4);
    const destroyed = await ok(env, 'destroy');
    const a3 = new RegExp(`^Trace chunk archive for session rot is now readable at (${out}/archives/${TIME}-${TIME}-3)\\nSession rot destroyed\\n$`).exec(destroyed.stdout)?.[1];
    assert.ok(a3, destroyed.stdout);
    assert.deepEqual(readdirSync(out), ['archives']);
    for (const [archive, n] of [[a0, 1], [a1, 2], [a2, 3], [a3, 4]] as const) {
      const lines = babeltrace(archive);
      assert.equal(count(lines, 'syscall_entry_chroot'), n, `${archive}: its chunk's chroots, no other`);
      assert.equal(count(lines, 'syscall_exit_chroot'), n);
    }
    const all = babeltrace(out);
    assert.equal(count(all, 'syscall_entry_chroot'), 10, 'the archives together are the whole trace');
    assert.equal((await ok(env, 'view', out)).stdout, `${all.join('\n')}\n`, 'ltt view reads the chunks as babeltrace2 does');

    // Snapshot sessions have no chunks.
    await ok(env, 'create', 'snap', '--snapshot', '-o', join(env.root, 'snap'));
    await ok(env, 'enable-event', '-k', 'sched_switch');
    await ok(env, 'start');
    await fails(env, "Error: Rotation feature not available for this session's creation mode", 'rotate');
    await ok(env, 'destroy');
  } finally {
    await env.cleanup();
  }
});

test('rotate under load: every record in exactly one chunk', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const out = join(env.root, 'load');
    await ok(env, 'create', 'busy', '-o', out);
    // Room for all of dd's records (about 80 MB) even if the consumer is starved for a while on a loaded CI
    // machine: this test is about rotation; keeping up with the default channel is bench/kernel's question.
    await ok(env, 'enable-channel', '-k', '--num-subbuf=128', 'roomy');
    const { dd: DD, filter } = privateDd(env);
    await ok(env, 'enable-event', '-k', '-c', 'roomy', '--syscall', 'read', '--filter', filter);
    await ok(env, 'start');
    // Long enough that the rotations, each a CLI run (0.3 s), come while dd runs: with 400,000 a fast stretch of
    // the VM's CPUs let dd end before the first one, and every record was in the first chunk.
    const N = 1_000_000;
    const dd = spawn(DD, ['if=/dev/zero', 'of=/dev/null', 'bs=1', `count=${N}`], { stdio: 'ignore' });
    const done = new Promise((r) => dd.once('exit', r));
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 40));
      await ok(env, 'rotate');
    }
    await done;
    await ok(env, 'stop');
    const list = JSON.parse((await ok(env, '--mi', 'json', 'list', 'busy')).stdout) as unknown;
    assert.match(JSON.stringify(list), /"discarded_events":0\b|"discardedEvents":0\b/, 'nothing was lost: the count below is exact');
    await ok(env, 'destroy');
    const archives = readdirSync(join(out, 'archives'));
    assert.equal(archives.length, 4, archives.join(' '));
    const perChunk = archives.map((a) => count(babeltrace(join(out, 'archives', a)), 'syscall_exit_read'));
    assert.ok(perChunk.filter((n) => n > 0).length >= 2, `the rotations happened while dd ran: ${perChunk.join(' ')}`);
    const total = perChunk.reduce((a, b) => a + b, 0);
    // dd reads its input N times, plus a few reads of its own (locale, libraries).
    assert.ok(total >= N && total < N + 50, `dd's reads across the chunks: ${perChunk.join(' + ')} = ${total}`);
    assert.equal(count(babeltrace(out), 'syscall_exit_read'), total);
  } finally {
    await env.cleanup();
  }
});

test('clear: what was recorded goes, recording goes on; archives stay; snapshot buffers and tracefile rings too', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const chroot = (n: number): void => {
      for (let i = 0; i < n; i++) execFileSync('chroot', ['/', 'true']);
    };
    const out = join(env.root, 'cleared');
    await ok(env, 'create', 'clr', '-o', out);
    // A tracefile ring too: its older files must not survive a clear.
    await ok(env, 'enable-channel', '-k', '--subbuf-size', '4k', '--num-subbuf', '64', '--tracefile-size', '8k', '--tracefile-count', '4', 'ring');
    // The ring turns on `read` alone: every process's reads (the CLI's own included) fill it within moments, so
    // the counted chroot records live in a channel of their own that keeps them to the end.
    await ok(env, 'enable-event', '-k', '-c', 'ring', '--syscall', 'read');
    await ok(env, 'enable-channel', '-k', 'keep');
    await ok(env, 'enable-event', '-k', '-c', 'keep', '--syscall', 'chroot');
    assert.equal((await ok(env, 'clear')).stdout, 'Session "clr" cleared\n', 'a session never started has nothing to clear');
    await ok(env, 'start');
    chroot(2);
    execFileSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=3000'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 600)); // a read-timer period or two: the pages are out
    const beforeClear = Date.now() / 1000;
    assert.ok(readdirSync(join(out, 'kernel')).some((f) => /^ring_\d+_[123]$/.test(f)), 'the ring turned before the clear');
    assert.equal((await ok(env, 'clear')).stdout, 'Waiting for clear of session "clr"..\nSession "clr" cleared\n');
    chroot(1);
    await ok(env, 'stop');
    const lines = babeltrace(out);
    assert.equal(count(lines, 'syscall_entry_chroot'), 1, 'only what came after the clear');
    const seconds = spawnSync('babeltrace2', ['--clock-seconds', out], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout;
    const early = seconds.split('\n').filter((l) => /^\[(\d+\.\d+)\]/.test(l) && Number(/^\[(\d+\.\d+)\]/.exec(l)![1]) < beforeClear);
    assert.deepEqual(early.slice(0, 3), [], 'nothing recorded before the clear is left (older ring files included)');
    // After a rotation only the current chunk is cleared.
    const a0 = archivePath(await ok(env, 'rotate'), 'clr', out, 0);
    await ok(env, 'start');
    chroot(3);
    await ok(env, 'clear');
    chroot(1);
    const destroyed = await ok(env, 'destroy');
    const a1 = /readable at (\S+)\n/.exec(destroyed.stdout)![1]!;
    assert.equal(count(babeltrace(a0), 'syscall_entry_chroot'), 1, 'the archive is untouched');
    assert.equal(count(babeltrace(a1), 'syscall_entry_chroot'), 1, 'the cleared chunk holds what came after');

    // Snapshot session: the buffers go.
    const snaps = join(env.root, 'snaps');
    await ok(env, 'create', 'sclr', '--snapshot', '-o', snaps);
    await ok(env, 'enable-channel', '-k', 'keep');
    await ok(env, 'enable-event', '-k', '-c', 'keep', '--syscall', 'chroot');
    await ok(env, 'start');
    chroot(2);
    await ok(env, 'clear');
    chroot(1);
    await ok(env, 'snapshot', 'record');
    assert.equal(count(babeltrace(snaps), 'syscall_entry_chroot'), 1);
    await ok(env, 'clear', '-a');
    await ok(env, 'destroy', '-a');
  } finally {
    await env.cleanup();
  }
});

test('enable-rotation: periodic and size-based schedules rotate on their own; lttng messages; saved and loaded', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const out = join(env.root, 'auto');
    await ok(env, 'create', 'ar', '-o', out);
    await ok(env, 'enable-channel', '-k', 'keep');
    await ok(env, 'enable-event', '-k', '-c', 'keep', '--syscall', 'chroot');
    assert.equal((await ok(env, 'enable-rotation', '--timer', '300ms')).stdout, 'Enabled periodic rotations every 300000 us on session ar\n');
    assert.equal((await ok(env, 'enable-rotation', '--size', '64M')).stdout, 'Enabled size-based rotations every 67108864 bytes written on session ar\n');
    await fails(env, 'Error: A periodic rotation schedule is already set on session ar', 'enable-rotation', '--timer', '1s');
    await fails(env, 'Error: No session rotation schedule parameter provided.', 'enable-rotation');
    await fails(env, 'Error: Invalid value for periodic option', 'enable-rotation', '--timer', '0');
    assert.match((await ok(env, 'status')).stdout, /\nAutomatic rotation schedules:\n {4}timer period: 300000 us\n {4}size threshold: 67108864 bytes\n\n/);
    const saved = join(env.root, 'saved');
    await ok(env, 'save', '-o', saved, 'ar');
    assert.equal((await ok(env, 'disable-rotation', '--size')).stdout, 'Disabled size-based rotation on session ar\n');
    await fails(env, 'Error: No size-based rotation schedule active on session ar', 'disable-rotation', '--size');
    await fails(env, 'Error: No session rotation schedule type provided.', 'disable-rotation');
    await ok(env, 'start');
    for (let i = 0; i < 10; i++) {
      execFileSync('chroot', ['/', 'true']);
      await new Promise((r) => setTimeout(r, 120));
    }
    await ok(env, 'stop');
    await ok(env, 'destroy');
    const archives = readdirSync(join(out, 'archives'));
    assert.ok(archives.length >= 3, `a rotation about every 300 ms over 1.2 s: ${archives.join(' ')}`);
    assert.equal(archives.map((a) => count(babeltrace(join(out, 'archives', a)), 'syscall_entry_chroot')).reduce((a, b) => a + b, 0), 10);
    // Loaded again: both schedules come back.
    await ok(env, 'load', '-i', saved, 'ar');
    assert.match((await ok(env, 'list', 'ar')).stdout, /timer period: 300000 us\n {4}size threshold: 67108864 bytes/);
    await ok(env, 'destroy', 'ar');

    // Size-based: a rotation each time 256 KiB more were written.
    const big = join(env.root, 'big');
    await ok(env, 'create', 'sz', '-o', big);
    // As above: room for every record, so the count below checks the chunks, not the consumer's speed.
    await ok(env, 'enable-channel', '-k', '--num-subbuf=64', 'roomy');
    const { dd, filter } = privateDd(env);
    await ok(env, 'enable-event', '-k', '-c', 'roomy', '--syscall', 'read', '--filter', filter);
    await ok(env, 'enable-rotation', '--size', '256k');
    await ok(env, 'start');
    execFileSync(dd, ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=300000'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 1200));
    await ok(env, 'stop');
    await ok(env, 'destroy');
    const sized = readdirSync(join(big, 'archives'));
    assert.ok(sized.length >= 2, `size-based rotations: ${sized.join(' ')}`);
    const total = sized.map((a) => count(babeltrace(join(big, 'archives', a)), 'syscall_exit_read')).reduce((a, b) => a + b, 0);
    assert.ok(total >= 300000 && total < 300050, `every dd read in exactly one chunk: ${total}`);
  } finally {
    await env.cleanup();
  }
});

test('rotate after a stop and a clear is refused as LTTng refuses it (an empty chunk); a second clear does nothing; start allows both again', { timeout: 60_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const out = join(env.root, 'chunks');
    await ok(env, 'create', 'clr', '-o', out);
    await ok(env, 'enable-event', '-u', 'demo:tick');
    await ok(env, 'start');
    await ok(env, 'stop');
    await ok(env, 'clear');
    await fails(env, 'Error: Session was already cleared since it became inactive', 'rotate');
    await ok(env, 'clear');
    await ok(env, 'start');
    await ok(env, 'rotate');
    await ok(env, 'stop');
    await ok(env, 'rotate');
    await ok(env, 'clear'); // rotated since the stop: nothing to clear
    await fails(env, 'Error: Session was already rotated once since it became inactive', 'rotate');
  } finally {
    await env.cleanup();
  }
});
