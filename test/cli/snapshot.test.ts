// Snapshot mode with the real CLI, daemon and kernel (`ltt create --snapshot`, `ltt snapshot ...`): nothing is
// written while tracing; `snapshot record` writes what the channel buffers hold (the newest records, bounded
// by the channel's size, so a flood pushes the oldest out), tracing goes on and the next snapshot overlaps;
// --max-size shares a limit among the streams; babeltrace2 reads every snapshot as `ltt view` prints it; the
// output commands and every misuse answer with lttng's words.

import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LttTestEnv, type RunResult } from './ltt-test-env.js';

async function ok(env: LttTestEnv, ...args: string[]): Promise<RunResult> {
  const r = await env.ltt(...args);
  assert.equal(r.code, 0, `ltt ${args.join(' ')}: ${r.stderr}`);
  return r;
}

async function fails(env: LttTestEnv, code: number, stderr: string, ...args: string[]): Promise<void> {
  const r = await env.ltt(...args);
  assert.deepEqual([r.code, r.stderr], [code, `${stderr}\n`], `ltt ${args.join(' ')}`);
}

function babeltrace(dir: string): string[] {
  const bt = spawnSync('babeltrace2', [dir], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(bt.status, 0, bt.stderr);
  return bt.stdout.split('\n').filter((l) => l !== '');
}

/** The one folder of `parent` whose name matches. */
function snapshotDir(parent: string, pattern: RegExp): string {
  const found = readdirSync(parent).filter((n) => pattern.test(n));
  assert.equal(found.length, 1, `${pattern} in ${parent}: ${readdirSync(parent).join(', ')}`);
  return join(parent, found[0]!);
}

const count = (lines: string[], name: string): number => lines.filter((l) => l.includes(` ${name}: `)).length;
const onCpu0 = (...cmd: string[]): void => void execFileSync('taskset', ['-c', '0', ...cmd], { stdio: 'ignore' });

test('snapshot record: the newest records of each buffer, overlapping snapshots, --max-size; nothing written while tracing', { timeout: 180_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const out = join(env.root, 'flight');
    assert.equal(
      (await ok(env, 'create', 'fr', '--snapshot', '-o', out)).stdout.replace(/^Spawning a session daemon\n/, ''),
      `Snapshot session fr created.\nDefault snapshot output set to ${out}\nEvery channel enabled for this session will be set to mmap output and default to overwrite mode.\n`,
    );
    // 4 x 64 KiB per CPU: a flood of read/write records pushes the oldest out.
    await ok(env, 'enable-channel', '-k', 'ring', '--subbuf-size', '64k', '--num-subbuf', '4');
    await ok(env, 'enable-event', '-k', '-c', 'ring', '--syscall', 'chroot');
    // Only dd floods: the reads of the tools below (babeltrace2 reading a snapshot) would push records out too.
    await ok(env, 'enable-event', '-k', '-c', 'ring', '--syscall', 'read,write', '--filter', '$ctx.procname == "dd"');
    await fails(env, 1, 'Error: Session needs to be started once', 'snapshot', 'record');
    await ok(env, 'start');
    onCpu0('chroot', '/', 'true'); // pushed out by the flood below
    onCpu0('dd', 'if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=200000');
    onCpu0('chroot', '/', 'true');
    onCpu0('chroot', '/', 'true');
    assert.ok(!existsSync(out), 'a snapshot session writes nothing before `snapshot record`');
    assert.equal((await ok(env, 'snapshot', 'record')).stdout, 'Snapshot recorded successfully for session fr\n');
    const first = snapshotDir(out, /^snapshot-1-\d{8}-\d{6}-0$/);
    const lines1 = babeltrace(first);
    assert.equal(count(lines1, 'syscall_entry_chroot'), 2, 'the two newest chroots, not the one the flood overwrote');
    assert.ok(count(lines1, 'syscall_exit_read') > 1000, 'the buffers are full of the flood');
    for (const f of readdirSync(join(first, 'kernel')).filter((n) => n.startsWith('ring_'))) {
      assert.ok(statSync(join(first, 'kernel', f)).size <= 4 * 65536, `${f} holds at most the channel's 4 x 64 KiB`);
    }
    assert.equal((await ok(env, 'view', first)).stdout, `${lines1.join('\n')}\n`, 'ltt view prints what babeltrace2 prints');

    // Tracing went on; the next snapshot (elsewhere, named) still has what the first had, plus what came after.
    onCpu0('chroot', '/', 'true');
    const other = join(env.root, 'elsewhere');
    assert.equal(
      (await ok(env, 'snapshot', 'record', '-n', 'again', other)).stdout,
      `Snapshot recorded successfully for session fr\nSnapshot written at: ${other}\n`,
    );
    const lines2 = babeltrace(snapshotDir(other, /^again-\d{8}-\d{6}-1$/));
    assert.equal(count(lines2, 'syscall_entry_chroot'), 3, 'snapshots overlap: the buffers were not emptied');
    // Snapshots in a row push nothing out of the rings (no empty packets for streams that recorded nothing).
    const row = join(env.root, 'row');
    for (let i = 0; i < 6; i++) await ok(env, 'snapshot', 'record', '-n', `row${i}`, row);
    assert.equal(count(babeltrace(snapshotDir(row, /^row5-/)), 'syscall_entry_chroot'), 3, 'the sixth snapshot still has every chroot');

    // --max-size is shared by the streams; less than one sub-buffer each is refused.
    const tiny = await env.ltt('snapshot', 'record', '-m', '4k');
    assert.equal(tiny.code, 1);
    assert.match(tiny.stderr, /^Error: Invalid snapshot size\. Cannot fit at least one packet per stream \(4096 bytes for \d+ streams of packets up to \d+ bytes\)\.\n$/);
    assert.deepEqual(readdirSync(out), [first.slice(out.length + 1)], 'a refused snapshot leaves no folder');
    await ok(env, 'stop');
    await ok(env, 'snapshot', 'record', '-m', '256k', '-n', 'small');
    const small = snapshotDir(out, /^small-\d{8}-\d{6}-8$/);
    const streams = readdirSync(join(small, 'kernel')).filter((n) => n.startsWith('ring_'));
    const total = streams.reduce((a, f) => a + statSync(join(small, 'kernel', f)).size, 0);
    assert.ok(total <= 256 * 1024 && total > 0, `--max-size 256k: ${total} bytes`);
    const lines3 = babeltrace(small);
    assert.ok(count(lines3, 'syscall_entry_chroot') >= 1, 'the newest records are the ones kept');
    await ok(env, 'destroy');
  } finally {
    await env.cleanup();
  }
});

test('snapshot outputs and misuse: lttng messages and exit codes', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const out = join(env.root, 'o1');
    await ok(env, 'create', 'so', '--snapshot', '-o', out);
    assert.equal((await ok(env, 'snapshot', 'list-output')).stdout, `Snapshot output list for session so\n    [1] snapshot-1: ${out}\n`);
    await fails(env, 1, 'Error: Snapshot output already exists', 'snapshot', 'add-output', join(env.root, 'o2'));
    assert.equal((await ok(env, 'snapshot', 'del-output', '1')).stdout, 'Snapshot output id 1 successfully deleted for session so\n');
    assert.equal((await ok(env, 'snapshot', 'list-output')).stdout, 'Snapshot output list for session so\n    None\n');
    const o2 = join(env.root, 'o2');
    assert.equal(
      (await ok(env, 'snapshot', 'add-output', '-n', 'flight', '-m', '1M', `file://${o2}`)).stdout,
      `Snapshot output successfully added for session so\n  [2] flight: ${o2} (max size: 1048576 bytes)\n`,
    );
    const mi = JSON.parse((await ok(env, '--mi', 'json', 'snapshot', 'list-output')).stdout) as { command: { output: { snapshot_action: { outputs: unknown[] } } } };
    assert.deepEqual(JSON.stringify(mi).includes('"flight"'), true);
    // save/load keep snapshot outputs (LTTng's <snapshot_outputs>), names and sizes included.
    const saved = join(env.root, 'saved');
    await ok(env, 'save', '-o', saved, 'so');
    assert.match(readFileSync(join(saved, 'so.lttng'), 'utf8'), /<snapshot_outputs><output><name>flight<\/name><max_size>1048576<\/max_size>/);
    await ok(env, 'destroy', 'so');
    await ok(env, 'load', '-i', saved, 'so');
    await ok(env, 'set-session', 'so');
    assert.equal((await ok(env, 'snapshot', 'list-output')).stdout, `Snapshot output list for session so\n    [1] flight: ${o2} (max size: 1048576 bytes)\n`);
    assert.equal((await ok(env, 'snapshot', 'del-output', 'flight')).stdout, 'Snapshot output flight successfully deleted for session so\n');
    await fails(
      env, 1,
      'Error: Channel lossy: Invalid parameter: snapshot sessions keep the newest records: their channels overwrite (--discard is not supported) (session so)',
      'enable-channel', '-k', '--discard', 'lossy',
    );
    await ok(env, 'enable-event', '-k', 'sched_switch');
    await ok(env, 'start');
    await fails(env, 1, 'Error: No snapshot output: give one to `snapshot record`, or add one with `snapshot add-output`', 'snapshot', 'record');
    await fails(env, 1, 'Error: Invalid parameter: snapshot output relative/dir is not an absolute path', 'snapshot', 'record', 'relative/dir');
    await fails(env, 1, 'Error: URI parse unknown protocol foo://localhost', 'snapshot', 'record', 'foo://localhost');
    await fails(env, 1, 'Error: Control URL uses the net:// protocol and the data URL is different. Not allowed.', 'snapshot', 'record', '-C', 'net://localhost', '-D', 'tcp://localhost');
    await fails(env, 1, 'Error: Invalid parameter: no snapshot output 7 in session so', 'snapshot', 'del-output', '7');
    await fails(env, 1, 'Error: Unable to handle max-size value 1x', 'snapshot', 'record', '-m', '1x');
    await fails(env, 1, 'Error: Session name not found', 'snapshot', 'list-output', '-s', 'nosuch');
    const none = await env.ltt('snapshot');
    assert.deepEqual([none.code, none.stderr.split('\n')[0]], [1, 'Error: No action specified for snapshot command.']);
    const bogus = await env.ltt('snapshot', 'bogus');
    assert.deepEqual([bogus.code, bogus.stderr.split('\n')[0]], [2, "Error: Unrecognized argument used with 'snapshot' command"]);
    await ok(env, 'create', 'plain', '-o', join(env.root, 'plain'));
    await fails(env, 1, "Error: Snapshot command can't be applied to a non-snapshot session", 'snapshot', 'record');
    await fails(env, 1, "Error: Snapshot command can't be applied to a non-snapshot session", 'snapshot', 'list-output');
    const both = await env.ltt('create', 'x', '--snapshot', '--live');
    assert.equal(both.code, 1);
    await ok(env, 'destroy', '-a');
  } finally {
    await env.cleanup();
  }
});

test('a --no-output session takes snapshots as lttng-sessiond\'s (its snapshot commands need no output, not --snapshot)', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  try {
    await ok(env, 'create', 'nout', '--no-output');
    await ok(env, 'enable-event', '-k', 'sched_switch');
    await ok(env, 'start');
    const out = join(env.root, 'snaps');
    assert.equal((await ok(env, 'snapshot', 'add-output', '-n', 'mine', `file://${out}`)).stdout,
      `Snapshot output successfully added for session nout\n  [1] mine: ${out}\n`);
    onCpu0('sleep', '0.2');
    // An empty URL argument means the session's output, as lttng takes it.
    assert.equal((await ok(env, 'snapshot', 'record', '-s', 'nout', '')).stdout, 'Snapshot recorded successfully for session nout\n');
    const lines = babeltrace(snapshotDir(out, /^mine-\d{8}-\d{6}-0$/));
    assert.ok(count(lines, 'sched_switch') > 0, 'the snapshot holds the session\'s records');
    await ok(env, 'stop');
    await ok(env, 'destroy', 'nout');
  } finally {
    await env.cleanup();
  }
});
