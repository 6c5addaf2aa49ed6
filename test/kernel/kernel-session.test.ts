// KernelSession on the real kernel: a full run read back by /usr/bin/babeltrace2, event-loss accounting with
// tiny buffers, filters, isolation of concurrent sessions, missing kernel features, stale-instance reclaim.
// Every session is destroyed in `finally` (which removes its tracefs instances and uprobes).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { KernelSession, KERNEL_CHANNEL_DEFAULTS } from '../../src/kernel/kernel-session.js';
import * as tracefs from '../../src/ftrace/tracefs.js';

/** The nobody user (Debian's uid and gid), for a process of another user than the test's. */
const NOBODY = 65534;

function tmpDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ltt-kernel-${tag}-`));
}

function babeltrace(dir: string): { out: string[]; err: string } {
  const r = spawnSync('/usr/bin/babeltrace2', [dir], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, `babeltrace2 failed: ${r.stderr}`);
  return { out: r.stdout.split('\n').filter((l) => l !== ''), err: r.stderr };
}

async function withSession<T>(name: string, fn: (s: KernelSession, dir: string) => Promise<T>): Promise<T> {
  const dir = tmpDir(name);
  const s = await KernelSession.create({ sessionName: `test-${name}-${process.pid}`, traceDir: dir, hostname: 'ltthost', creationTime: new Date() });
  let instances: string[] = [];
  try {
    return await fn(s, dir);
  } finally {
    instances = Object.values(s.instanceNames());
    await s.destroy();
    for (const i of instances) assert.equal(tracefs.instanceExists(i), false, `instance ${i} removed`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function libcPath(): string {
  return /libc\.so\.6 => (\S+)/.exec(execFileSync('ldd', ['/bin/true']).toString())![1]!;
}

test('full run: sched_switch, syscalls, uprobe, statedump, contexts; babeltrace2 reads it', async () => {
  let uprobeName = '';
  await withSession('full', async (s, dir) => {
    await s.createChannel('channel0', { ...KERNEL_CHANNEL_DEFAULTS });
    assert.deepEqual(await s.enableEvent('channel0', { name: 'sched_switch', type: 'tracepoint' }), ['sched_switch']);
    assert.deepEqual(await s.enableEvent('channel0', { name: 'chroot', type: 'syscall' }), ['syscall_entry_chroot', 'syscall_exit_chroot']);
    const dumped = await s.enableEvent('channel0', { name: 'lttng_statedump_*', type: 'tracepoint' });
    assert.ok(dumped.includes('lttng_statedump_process_state'), 'dumped.includes(\'lttng_statedump_process_state\')');
    assert.deepEqual(await s.enableEvent('channel0', { name: 'my_getpid', type: 'uprobe', location: `elf:${libcPath()}:getpid` }), ['my_getpid']);
    uprobeName = `ltt_test_full_${process.pid}/my_getpid`;
    assert.ok(tracefs.readText('uprobe_events').includes(uprobeName), 'tracefs.readText(\'uprobe_events\').includes(uprobeName)');
    await s.addContext('channel0', 'pid');
    await s.addContext('channel0', 'procname');
    await s.start();
    execFileSync('sleep', ['0.2']);
    const chroot = spawnSync('chroot', ['/', 'true']);
    assert.equal(chroot.status, 0);
    const py = spawnSync('python3', ['-c', 'import os; os.getpid()']);
    assert.equal(py.status, 0);
    await s.stop();
    const stats = s.stats();
    assert.equal(stats.length, 1);
    assert.equal(stats[0]!.discarded, 0);
    assert.ok(stats[0]!.events > 10, 'stats[0]!.events > 10');

    const { out, err } = babeltrace(dir);
    assert.equal(err, '');
    assert.equal(out.length, stats[0]!.events, 'babeltrace2 shows every event written');
    assert.ok(out.some((l) => / sched_switch: .*prev_comm = "sleep"/.test(l)), 'sched_switch from sleep');
    const entry = out.filter((l) => / syscall_entry_chroot: /.test(l));
    const exit = out.filter((l) => / syscall_exit_chroot: /.test(l));
    assert.ok(entry.some((l) => l.includes(`pid = ${chroot.pid}`)), entry.join('\n'));
    assert.ok(exit.some((l) => l.includes(`pid = ${chroot.pid}`) && l.endsWith('{ ret = 0 }')), exit.join('\n'));
    assert.ok(out.some((l) => / my_getpid: /.test(l) && l.includes(`pid = ${py.pid}`) && /ip = 0x[0-9A-F]+/.test(l)), 'uprobe hit by the python child');
    assert.ok(out[0]!.includes('lttng_statedump_start'), 'statedump first');
    assert.ok(out.some((l) => / lttng_statedump_process_state: .*tid = 1, pid = 1, ppid = 0/.test(l)), 'out.some((l) => / lttng_statedump_process_state: .*tid = 1, pid = 1, ppid = 0/.test(l))');
    assert.ok(out.some((l) => / lttng_statedump_end: /.test(l)), 'out.some((l) => / lttng_statedump_end: /.test(l))');
    // Timestamps are wall-clock (mono + offset): within a minute of now.
    const ts = spawnSync('/usr/bin/babeltrace2', ['--clock-seconds', dir], { encoding: 'utf8' }).stdout.split('\n')[0]!;
    const secs = Number(/^\[(\d+\.\d+)\]/.exec(ts)![1]);
    assert.ok(Math.abs(secs - Date.now() / 1000) < 60, `clock offset: ${secs}`);
    // Metadata: kernel env as lttng-modules writes it, clock uuid = boot id.
    const meta = spawnSync('/usr/bin/babeltrace2', ['--output-format=ctf-metadata', path.join(dir, 'kernel')], { encoding: 'utf8' }).stdout;
    assert.match(meta, /domain = "kernel";/);
    assert.match(meta, /tracer_name = "lttng-modules";/);
    assert.match(meta, /trace_buffering_scheme = "global";/);
    assert.ok(meta.includes(`uuid = "${fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}"`), 'clock uuid is the boot id');
    assert.ok(fs.existsSync(path.join(dir, 'kernel', 'index', 'channel0_0.idx')), 'index file written');
  });
  assert.ok(!tracefs.readText('uprobe_events').includes(uprobeName), 'uprobe removed on destroy');
});

test('discard mode with a tiny buffer: dropped records become events_discarded', async () => {
  await withSession('discard', async (s, dir) => {
    // 2 x 4 KiB per CPU and no reading until stop: dd's million syscalls overflow it.
    await s.createChannel('tiny', { ...KERNEL_CHANNEL_DEFAULTS, subbufSize: 4096, numSubbuf: 2, readTimerUs: 60_000_000 });
    await s.enableEvent('tiny', { name: 'read', type: 'syscall' });
    await s.enableEvent('tiny', { name: 'write', type: 'syscall' });
    const inst = s.instanceNames().tiny!;
    await s.start();
    execFileSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=50000'], { stdio: 'ignore' });
    await s.stop();
    let kernelDropped = 0;
    for (const cpu of tracefs.cpuIds()) {
      kernelDropped += Number(/dropped events:\s*(\d+)/.exec(tracefs.readText(`per_cpu/cpu${cpu}/stats`, inst))![1]);
    }
    const st = s.stats()[0]!;
    assert.ok(kernelDropped > 100_000, `kernel dropped ${kernelDropped}`);
    assert.equal(st.discarded, kernelDropped);
    assert.equal(st.lost, 0);
    const { out, err } = babeltrace(dir);
    assert.equal(out.length, st.events);
    const warned = [...err.matchAll(/Tracer discarded (\d+) events/g)].reduce((a, m) => a + Number(m[1]), 0);
    assert.equal(warned, kernelDropped, err);
  });
});

test('overwrite mode: overwritten sub-buffers show up as lost packets', async () => {
  await withSession('overwrite', async (s, dir) => {
    await s.createChannel('ring', { ...KERNEL_CHANNEL_DEFAULTS, subbufSize: 4096, numSubbuf: 2, overwrite: true, readTimerUs: 50_000 });
    await s.enableEvent('ring', { name: 'read', type: 'syscall' });
    await s.start();
    // A little first (read by the 50 ms timer), then far more than the ring holds between two reads.
    execFileSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=10'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 200));
    execFileSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=20000'], { stdio: 'ignore' });
    await s.stop();
    const st = s.stats()[0]!;
    assert.ok(st.lost > 0, `lost packets ${st.lost}`);
    assert.equal(st.discarded, 0);
    const { err } = babeltrace(dir);
    assert.match(err, /Tracer discarded \d+ packets?/);
  });
});

test('filters: tracefs-side and consumer-side; two sessions do not see each other', async () => {
  await withSession('filter-a', async (a, dirA) => {
    await withSession('filter-b', async (b, dirB) => {
      await a.createChannel('c', { ...KERNEL_CHANNEL_DEFAULTS });
      await b.createChannel('c', { ...KERNEL_CHANNEL_DEFAULTS });
      // Exact in tracefs (prev_comm), and consumer-side (prio is recorded as prio - 100).
      // LTTng's prio is prio - 100: 20 + nice for normal tasks (children inherit the test's nice value).
      const prio = 20 + os.getPriority();
      await a.enableEvent('c', { name: 'sched_switch', type: 'tracepoint', filter: `prev_comm == "sle*" && prev_prio == ${prio}` });
      assert.equal(tracefs.readText(`events/sched/sched_switch/filter`, a.instanceNames().c).trim(), 'none');
      await b.enableEvent('c', { name: 'chroot', type: 'syscall', filter: '$ctx.procname == "chroot"' });
      await a.start();
      await b.start();
      execFileSync('sleep', ['0.1']);
      spawnSync('chroot', ['/', 'true']);
      await a.stop();
      await b.stop();
      const outA = babeltrace(dirA).out;
      const outB = babeltrace(dirB).out;
      assert.ok(outA.length > 0, 'outA.length > 0');
      assert.ok(outA.every((l) => new RegExp(` sched_switch: .*prev_comm = "sleep", .*prev_prio = ${prio},`).test(l)), outA.join('\n'));
      assert.ok(outB.length >= 2, 'outB.length >= 2');
      assert.ok(outB.every((l) => /syscall_(entry|exit)_chroot/.test(l)), outB.join('\n'));
    });
  });
});

test('two channels; tracefs filter; enable after start; disable-event; disable-channel', async () => {
  await withSession('multi', async (s, dir) => {
    await s.createChannel('a', { ...KERNEL_CHANNEL_DEFAULTS, readTimerUs: 20_000 });
    await s.createChannel('b', { ...KERNEL_CHANNEL_DEFAULTS, readTimerUs: 20_000 });
    await s.enableEvent('a', { name: 'sched_switch', type: 'tracepoint', filter: 'prev_comm == "sleep"' });
    assert.equal(tracefs.readText('events/sched/sched_switch/filter', s.instanceNames().a).trim(), 'prev_comm == "sleep"');
    await s.enableEvent('b', { name: 'chroot', type: 'syscall' });
    await s.start();
    execFileSync('sleep', ['0.05']);
    // Enabled while tracing: its class is appended to the metadata before its first record.
    assert.deepEqual(await s.enableEvent('b', { name: 'sched_process_exec', type: 'tracepoint' }), ['sched_process_exec']);
    spawnSync('chroot', ['/', 'true']);
    await new Promise((r) => setTimeout(r, 100));
    await s.disableEvent('b', 'chroot', 'syscall');
    await s.disableChannel('a');
    execFileSync('sleep', ['0.05']);
    spawnSync('chroot', ['/', 'true']);
    await s.stop();
    const out = babeltrace(dir).out;
    const sleeps = out.filter((l) => / sched_switch: /.test(l));
    assert.ok(sleeps.length > 0 && sleeps.every((l) => l.includes('prev_comm = "sleep"')), 'only sleep in channel a');
    assert.equal(out.filter((l) => / syscall_entry_chroot: /.test(l)).length, 1, 'chroot disabled after the first');
    assert.ok(out.some((l) => / sched_process_exec: .*filename = "\/usr\/(s)?bin\/chroot"/.test(l)), 'exec recorded after a late enable');
    // Two stream classes: channel a's and b's files.
    const files = fs.readdirSync(path.join(dir, 'kernel'));
    assert.ok(files.includes('a_0') && files.includes('b_0'), files.join(' '));
  });
});

test('missing kernel features and bad input are one-line LttErrors', async () => {
  await withSession('errors', async (s) => {
    await s.createChannel('c', { ...KERNEL_CHANNEL_DEFAULTS });
    if (!tracefs.exists('kprobe_events')) {
      await assert.rejects(s.enableEvent('c', { name: 'kp', type: 'kprobe', location: 'do_sys_open' }), (e: Error & { code?: string }) => e.code === 'KERNEL_NO_KPROBES' && /CONFIG_KPROBES/.test(e.message) && !e.message.includes('\n'));
      await assert.rejects(s.enableEvent('c', { name: 'fn', type: 'function', location: 'do_sys_open' }), (e: Error & { code?: string }) => e.code === 'KERNEL_NO_KPROBES' && !e.message.includes('\n'));
    }
    await assert.rejects(s.enableEvent('c', { name: 'no_such_tracepoint_xyz', type: 'tracepoint' }), { code: 'KERNEL_EVENT_NOT_FOUND' });
    await assert.rejects(s.enableEvent('c', { name: 'no_such_syscall_xyz', type: 'syscall' }), { code: 'KERNEL_EVENT_NOT_FOUND' });
    await assert.rejects(s.enableEvent('c', { name: 'sched_switch', type: 'tracepoint', filter: 'prev_tid +' }), { code: 'FILTER_SYNTAX' });
    await assert.rejects(s.enableEvent('c', { name: 'u', type: 'uprobe', location: `elf:${libcPath()}:no_such_symbol_xyz` }), { code: 'UPROBE_SYMBOL' });
    await assert.rejects(s.enableEvent('nochan', { name: 'sched_switch', type: 'tracepoint' }), { code: 'KERNEL_NO_CHANNEL' });
    await assert.rejects(s.addContext('c', 'perf:cpu:cycles'), { code: 'KERNEL_CONTEXT' });
    await assert.rejects(s.createChannel('c', { ...KERNEL_CHANNEL_DEFAULTS }), { code: 'KERNEL_CHANNEL_EXISTS' });
    await assert.rejects(s.createChannel('d', { ...KERNEL_CHANNEL_DEFAULTS, subbufSize: 1000 }), { code: 'KERNEL_CHANNEL_ATTR' });
    // A glob that matches nothing is accepted (as LTTng does): nothing enabled.
    assert.deepEqual(await s.enableEvent('c', { name: 'zzz_nothing_*', type: 'tracepoint' }), []);
  });
});

test('reclaimStale removes instances recorded by a dead daemon only', async () => {
  const inst = `ltt-test-stale-${process.pid}`;
  const ownerDir = '/run/ltt/kernel-owners';
  const rec = path.join(ownerDir, `stale-test.${process.pid}.json`);
  tracefs.mkdirInstance(inst);
  try {
    fs.mkdirSync(ownerDir, { recursive: true });
    // pid 2^22+1 is above pid_max's usual ceiling here: never a live process.
    fs.writeFileSync(rec, JSON.stringify({ pid: 4194305, instances: [inst], uprobes: [] }));
    const live = `ltt-test-live-${process.pid}`;
    tracefs.mkdirInstance(live);
    const liveRec = path.join(ownerDir, `live-test.${process.pid}.json`);
    fs.writeFileSync(liveRec, JSON.stringify({ pid: process.ppid, instances: [live], uprobes: [] }));
    try {
      const removed = await KernelSession.reclaimStale();
      assert.ok(removed.includes(inst), 'removed.includes(inst)');
      assert.equal(tracefs.instanceExists(inst), false);
      assert.equal(tracefs.instanceExists(live), true, 'a live owner keeps its instance');
    } finally {
      fs.rmSync(liveRec, { force: true });
      tracefs.rmdirInstance(live);
    }
  } finally {
    fs.rmSync(rec, { force: true });
    tracefs.rmdirInstance(inst);
  }
});

test('a channel starts the consumer thread ahead of start; destroying a never-started session ends it', async () => {
  const threads = (): number => fs.readdirSync('/proc/self/task').length;
  const before = threads();
  const dir = tmpDir('spare');
  const s = await KernelSession.create({ sessionName: `test-spare-${process.pid}`, traceDir: dir, hostname: 'ltthost', creationTime: new Date() });
  try {
    await s.createChannel('c0', { ...KERNEL_CHANNEL_DEFAULTS });
    assert.ok(threads() > before, 'the worker thread runs once a channel exists');
  } finally {
    await s.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(threads(), before, 'destroy ended the worker thread');
});

/**
 * A program (for node -e) that says "ready", then on its first line of input calls utimensat(2) on `missing` twice on
 * its main thread and three times on a thread that then ends, and runs `afterThread` (JavaScript) once it ended.
 */
function twoThreadProgram(missing: string, afterThread: string): string {
  const touch = `try { require('node:fs').utimesSync(${JSON.stringify(missing)}, 0, 0); } catch {}`;
  return `const { Worker } = require('node:worker_threads');
    process.stdout.write('ready\\n');
    process.stdin.once('data', () => {
      for (let i = 0; i < 2; i++) ${touch}
      const w = new Worker(${JSON.stringify(`for (let i = 0; i < 3; i++) ${touch}`)}, { eval: true });
      w.on('exit', () => { ${afterThread} });
    });`;
}

// A uid tracker matches a thread gone before its records were decoded by its process's uid: the thread table has
// it from the kernel's saved tgids (every tracker records them) and the process, still running, from /proc. The
// same program run by root is not taken, its thread gone as well. A few records fill no page: they are decoded
// at stop, when both threads are long gone.
test('a uid tracker takes the short-lived threads of a process of that user, and not those of another user\'s process', { timeout: 60_000 }, async () => {
  await withSession('track-uid', async (s, dir) => {
    await s.createChannel('c', { ...KERNEL_CHANNEL_DEFAULTS });
    await s.enableEvent('c', { name: 'utimensat', type: 'syscall' });
    await s.track('uid', [NOBODY]);
    await s.start();
    const missing = path.join(dir, 'no-such-file');
    // Then "done", and the process stays until its stdin closes, after the session stopped.
    const code = twoThreadProgram(missing, `process.stdout.write('done\\n'); process.stdin.once('end', () => process.exit(0));`);
    const run = async (ids: { uid: number; gid: number } | undefined): Promise<{ p: ReturnType<typeof spawn>; exited: Promise<number | null> }> => {
      const p = spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'pipe', 'inherit'], cwd: '/', ...ids });
      const exited = new Promise<number | null>((resolve) => p.on('exit', resolve));
      const line = (): Promise<void> => Promise.race([
        new Promise<void>((resolve) => p.stdout!.once('data', () => resolve())),
        exited.then((code) => assert.fail(`the traced program exited early (${code})`)),
      ]);
      await line();
      p.stdin!.write('go\n');
      await line();
      return { p, exited };
    };
    const runs = [];
    try {
      runs.push(await run({ uid: NOBODY, gid: NOBODY }));
      runs.push(await run(undefined));
      await s.stop();
    } finally {
      for (const r of runs) r.p.stdin!.end();
    }
    for (const r of runs) assert.equal(await r.exited, 0);
    const out = babeltrace(dir).out;
    assert.equal(out.filter((l) => / syscall_entry_utimensat: /.test(l)).length, 5, out.join('\n'));
    assert.equal(out.filter((l) => / syscall_exit_utimensat: /.test(l)).length, 5, out.join('\n'));
  });
});

// The thread table's hooks (sched_switch, fork, exec) run only while something reads the table: a session started
// without trackers, filters or contexts records with them off, and a pid tracker added while it records turns them
// on (the table read from /proc then). A thread the tracked process starts after that is tracked; another process
// is not.
for (const withFork of [false, true]) {
  test(`a pid tracker added while recording takes the threads its process starts later, and no other process${withFork ? ' (fork events recorded: the table learns of the thread from them)' : ''}`, async () => {
    await withSession(`track-late${withFork ? '-fork' : ''}`, async (s, dir) => {
      await s.createChannel('c', { ...KERNEL_CHANNEL_DEFAULTS });
      await s.enableEvent('c', { name: 'utimensat', type: 'syscall' });
      if (withFork) await s.enableEvent('c', { name: 'sched_process_fork', type: 'tracepoint' });
      await s.start();
      const missing = path.join(dir, 'no-such-file');
      // P exits once its thread ended.
      const p = spawn(process.execPath, ['-e', twoThreadProgram(missing, 'process.exit(0);')], { stdio: ['pipe', 'pipe', 'inherit'] });
      await new Promise<void>((resolve) => p.stdout!.once('data', () => resolve()));
      await s.track('pid', [p.pid!]);
      const exited = new Promise<number | null>((resolve) => p.on('exit', resolve));
      p.stdin!.write('go\n');
      assert.equal(await exited, 0);
      // Another process, never tracked.
      spawnSync(process.execPath, ['-e', `for (let i = 0; i < 4; i++) try { require('node:fs').utimesSync(${JSON.stringify(missing)}, 0, 0); } catch {}`]);
      await s.stop();
      const out = babeltrace(dir).out;
      assert.equal(out.filter((l) => / syscall_entry_utimensat: /.test(l)).length, 5, out.join('\n'));
      assert.equal(out.filter((l) => / syscall_exit_utimensat: /.test(l)).length, 5, out.join('\n'));
    });
  });
}
