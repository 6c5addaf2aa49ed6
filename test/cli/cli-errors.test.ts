// Errors and exit codes of the real `ltt` process, compared with lttng 2.13's: one "Error: ..." line (no
// stack trace), LTTng's codes (1 command error, 2 undefined command, 3 fatal, 4 warning), the same text in
// --mi json, and no hang when the daemon is missing or was killed.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { LttTestEnv, waitExit } from './ltt-test-env.js';

function assertNoStack(stderr: string): void {
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
}

test('errors and exit codes without a daemon', { timeout: 60_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const list = await env.ltt('list');
    assert.deepEqual([list.code, list.stdout, list.stderr], [1, '', 'Error: No session daemon is available\n']);
    const noSpawn = await env.ltt('-n', 'create', 'x');
    assert.deepEqual([noSpawn.code, noSpawn.stderr], [1, 'Error: No session daemon is available\n']);
    assert.equal(env.daemonPid(), undefined, '-n does not start a daemon');

    const status = await env.ltt('status');
    assert.equal(status.code, 1);
    assert.equal(
      status.stderr,
      `Error: Can't find valid ltt config ${env.home}/.lttrc\nDid you create a session? (ltt create <my_session>)\n`,
    );
    const bogus = await env.ltt('bogus');
    assert.deepEqual([bogus.code, bogus.stderr], [2, "ltt: bogus is not an ltt command. See 'ltt --help'.\n"]);
    const badOption = await env.ltt('create', '--bogus');
    assert.equal(badOption.code, 2);
    assert.equal(badOption.stderr, "Error: Unrecognized argument used with 'create' command: --bogus\n");
    const badGlobal = await env.ltt('--bogus', 'list');
    assert.deepEqual([badGlobal.code, badGlobal.stderr], [1, "ltt: unrecognized option '--bogus'\n"]);
    const miBogus = await env.ltt('--mi', 'json', 'bogus');
    assert.deepEqual([miBogus.code, JSON.parse(miBogus.stdout).success], [2, false]);
    const miHelp = await env.ltt('--mi', 'json', 'help', 'start');
    assert.deepEqual([miHelp.code, JSON.parse(miHelp.stdout).output.help.split('\n')[0]], [0, 'Usage: ltt start [SESSION]']);
    const usage = await env.ltt();
    assert.equal(usage.code, 1);
    assert.ok(usage.stdout.startsWith('Usage: ltt [--group=GROUP] [--mi=TYPE] [--no-sessiond | --sessiond-path=PATH]\n'));
    assert.match(usage.stdout, /\nRecording event rules:\n  disable-event     Disable recording event rules\n  enable-event      Create or enable recording event rules\n/);
    const noDomain = await env.ltt('enable-event', 'foo');
    assert.deepEqual([noDomain.code, noDomain.stderr], [1, 'Error: Please specify a domain (--kernel/--userspace/--jul/--log4j/--python).\n']);
    const noName = await env.ltt('enable-event', '-k');
    assert.deepEqual([noName.code, noName.stderr], [1, 'Error: Missing event name(s).\n']);
    const ustSyscall = await env.ltt('enable-event', '-u', '--syscall', 'foo');
    assert.deepEqual([ustSyscall.code, ustSyscall.stderr], [1, 'Error: Event type not available for user-space tracing\n']);
    const badContext = await env.ltt('add-context', '-u', '-t', 'bogus');
    assert.deepEqual([badContext.code, badContext.stderr], [3, 'Error: Unknown context type bogus\n']);
    const both = await env.ltt('create', '--snapshot', '--live');
    assert.deepEqual([both.code, both.stderr], [1, 'Error: Snapshot and live modes are mutually exclusive.\n']);
    const badMi = await env.ltt('--mi', 'yaml', 'list');
    assert.equal(badMi.code, 1);
    assert.match(badMi.stderr, /^Error: Invalid MI output format: yaml/);
    const quiet = await env.ltt('-q', 'list');
    assert.deepEqual([quiet.code, quiet.stdout, quiet.stderr], [1, '', '']);

    const miNoDaemon = await env.ltt('--mi', 'json', 'list');
    assert.equal(miNoDaemon.code, 1);
    assert.deepEqual(JSON.parse(miNoDaemon.stdout), {
      command: 'list',
      output: null,
      success: false,
      error: { code: 'NO_SESSIOND', message: 'No session daemon is available' },
    });
    for (const r of [list, status, bogus, badOption, noDomain, badContext, miNoDaemon]) assertNoStack(r.stderr);
  } finally {
    await env.cleanup();
  }
});

test('errors and warnings from the daemon, then a killed daemon', { timeout: 90_000 }, async () => {
  const env = new LttTestEnv();
  try {
    assert.equal((await env.ltt('create', 'errs', '-o', `${env.root}/errs`)).code, 0);
    const dup = await env.ltt('create', 'errs');
    assert.deepEqual([dup.code, dup.stderr], [1, 'Error: Session name already exists\n']);
    const slash = await env.ltt('create', 'a/b');
    assert.deepEqual([slash.code, slash.stderr], [1, 'Error: Invalid character found in session name\n']);
    // Control characters would reach terminals (`ltt list`) and forge daemon log lines: refused, one line.
    for (const name of ['\x1b[31mred', 'a\nb', 'tab\there', 'c1\u009bcsi']) {
      const r = await env.ltt('create', name);
      assert.deepEqual([r.code, r.stderr], [1, 'Error: Invalid character found in session name\n'], JSON.stringify(name));
    }
    for (const [name, shown] of [['\x1b[31mred', '\\x1b[31mred'], ['a\nb', 'a\\nb']]) {
      const r = await env.ltt('enable-channel', '-u', name!);
      assert.deepEqual([r.code, r.stderr], [1, `Error: Channel ${shown}: Invalid channel name (session errs)\n`], JSON.stringify(name));
    }
    assert.ok(!/[\x00-\x09\x0b-\x1f]/.test(env.log()), 'no control character in the daemon log');
    const startMissing = await env.ltt('start', 'nosuch');
    assert.deepEqual([startMissing.code, startMissing.stderr], [1, 'Error: Session name not found\n']);
    const destroyMissing = await env.ltt('destroy', 'nosuch');
    assert.deepEqual([destroyMissing.code, destroyMissing.stderr], [1, 'Error: Session name nosuch not found\n']);
    const listMissing = await env.ltt('list', 'nosuch');
    assert.deepEqual([listMissing.code, listMissing.stderr], [1, "Error: Session 'nosuch' not found\n"]);
    const setMissing = await env.ltt('set-session', 'nope');
    assert.deepEqual([setMissing.code, setMissing.stderr], [1, "Error: Session 'nope' not found\n"]);
    const noChannel = await env.ltt('start');
    assert.deepEqual([noChannel.code, noChannel.stderr], [1, 'Error: No channel found in the session\n']);

    assert.equal((await env.ltt('enable-channel', '-u', 'mychan')).code, 0);
    const chanExists = await env.ltt('enable-channel', '-u', 'mychan');
    assert.deepEqual([chanExists.code, chanExists.stderr], [4, 'Warning: Channel mychan: UST channel already exist (session errs)\n']);
    // Texts checked side by side against lttng 2.13.9 (user space domain).
    const oneDomain = await env.ltt('list', 'errs', '-u');
    assert.equal(oneDomain.code, 0);
    assert.match(oneDomain.stdout, /^Recording session errs: \[inactive\]\n {4}Trace output: .+\n\nTracked process attributes\n  Virtual process IDs:  all\n[^]*\nChannels:\n-------------\n- mychan: \[enabled\]\n/);
    const noSuchChannel = await env.ltt('list', 'errs', '-c', 'nochan');
    assert.deepEqual([noSuchChannel.code, noSuchChannel.stderr], [1, 'Error: Channel nochan not found\n']);
    assert.match(noSuchChannel.stdout, /\n=== Domain: User space ===\n[^]*\nChannels:\n-------------\n$/);
    const zeroSubbuf = await env.ltt('enable-channel', '-u', 'zero', '--num-subbuf=0');
    assert.deepEqual([zeroSubbuf.code, zeroSubbuf.stderr], [1, 'Error: Wrong value in --num-subbuf parameter: 0\n']);
    for (const [option, text] of [
      ['--subbuf-size=1m', 'Wrong value in --subbuf-size parameter: 1m'],
      ['--subbuf-size=0', 'Wrong value in --subbuf-size parameter: 0'],
      ['--subbuf-size=4kb', 'Wrong value in --subbuf-size parameter: 4kb'],
      ['--subbuf-size=1.5M', 'Wrong value in --subbuf-size parameter: 1.5M'],
      ['--switch-timer=abc', 'Wrong value for --switch-timer parameter: abc'],
      ['--blocking-timeout=-5', 'Wrong value for --blocking-timeout parameter: -5'],
      ['--buffers-global', 'Buffer type not supported for domain -u'],
    ]) {
      const r = await env.ltt('enable-channel', '-u', option, 'badattr');
      assert.deepEqual([r.code, r.stderr], [1, `Error: ${text}\n`], option);
    }
    // Sizes as lttng reads them: K/k/M/G suffixes and 0x hex; the last of --overwrite/--discard wins.
    assert.equal((await env.ltt('enable-channel', '-u', '--subbuf-size=0x2000', '--overwrite', '--discard', 'hexsize')).code, 0);
    assert.equal((await env.ltt('enable-channel', '-u', '--subbuf-size=8K', '--discard', '--overwrite', 'ksize')).code, 0);
    const sized = (await env.ltt('list', 'errs')).stdout;
    assert.match(sized, /- hexsize: \[enabled\]\n\n {4}Attributes:\n {6}Event-loss mode: {2}discard\n {6}Sub-buffer size: {2}8192 bytes\n/);
    assert.match(sized, /- ksize: \[enabled\]\n\n {4}Attributes:\n {6}Event-loss mode: {2}overwrite\n {6}Sub-buffer size: {2}8192 bytes\n/);
    assert.equal((await env.ltt('enable-event', '-u', '-c', 'mychan', 'dup:ev')).stdout, 'ust event dup:ev created in channel mychan\n');
    const ustDup = await env.ltt('enable-event', '-u', '-c', 'mychan', 'dup:ev');
    assert.deepEqual([ustDup.code, ustDup.stderr], [1, 'Error: Event dup:ev: UST event already enabled (channel mychan, session errs)\n']);
    assert.equal((await env.ltt('enable-event', '-u', '-c', 'mychan', '-a', '--loglevel=INFO')).stdout, 'All ust events are enabled in channel mychan for loglevel INFO\n');
    assert.equal((await env.ltt('enable-event', '-u', '-c', 'mychan', '-a', '--tracepoint')).stdout, 'All ust tracepoints are enabled in channel mychan\n');
    const allDup = await env.ltt('enable-event', '-u', '-c', 'mychan', '-a', '--tracepoint');
    assert.deepEqual([allDup.code, allDup.stderr], [1, 'Error: Events: UST event already enabled (channel mychan, session errs)\n']);
    assert.equal((await env.ltt('enable-event', '-u', '-c', 'mychan', '-a', '-f', 'n == 1')).stdout, "Filter 'n == 1' successfully set\n");
    const badFilter = await env.ltt('enable-event', '-u', '-c', 'mychan', 'f:g', '-f', 'n >');
    assert.equal(badFilter.code, 1);
    assert.match(badFilter.stderr, /^Error: Event f:g: Invalid filter.* \(channel mychan, session errs, filter 'n >'\)\n$/);
    const needName = await env.ltt('enable-event', '-u', 'prov:*');
    assert.equal(needName.code, 1);
    assert.equal(
      needName.stderr,
      "Error: Event prov:*: Non-default channel exists within session: channel name needs to be specified with '-c name' (channel <default>, session errs)\n",
    );
    assert.equal((await env.ltt('enable-event', '-k', 'sched_switch')).code, 0);
    const eventExists = await env.ltt('enable-event', '-k', 'sched_switch');
    assert.deepEqual([eventExists.code, eventExists.stderr], [4, 'Warning: Kernel event sched_switch already enabled (channel channel0, session errs)\n']);
    const noSuchTracepoint = await env.ltt('enable-event', '-k', 'no_such_tracepoint_xyz');
    assert.equal(noSuchTracepoint.code, 1);
    assert.match(noSuchTracepoint.stderr, /^Error: Event no_such_tracepoint_xyz: .+ \(channel channel0, session errs\)\n$/);
    const kprobe = await env.ltt('enable-event', '-k', '--probe=do_sys_openat2', 'kp');
    assert.equal(kprobe.code, 1, 'kprobes are off on this kernel');
    assert.match(kprobe.stderr, /^Error: Event kp: .*kprobe.* \(channel channel0, session errs\)\n$/i);
    const ctxExists = [await env.ltt('add-context', '-k', '-t', 'pid'), await env.ltt('add-context', '-k', '-t', 'pid')];
    assert.equal(ctxExists[0]!.code, 0, ctxExists[0]!.stderr);
    assert.deepEqual([ctxExists[1]!.code, ctxExists[1]!.stderr], [4, 'Error: pid: Kernel context already exist\n']);
    // lttng exits 4 when a context type fails, whatever the reason.
    const ustOnlyContext = await env.ltt('add-context', '-k', '-t', 'ip');
    assert.equal(ustOnlyContext.code, 4);
    const trackNoSession = await env.ltt('track', '-u', '-s', 'nosuch', '--vpid=1');
    assert.deepEqual([trackNoSession.code, trackNoSession.stderr], [1, 'Error: Recording session does not exist\n']);
    const virtualKernelTracker = await env.ltt('track', '-k', '--vpid=3');
    assert.deepEqual(
      [virtualKernelTracker.code, virtualKernelTracker.stderr],
      [1, 'Error: Operation not supported: the kernel domain tracks --pid, --uid and --gid, not --vpid\n'],
    );
    // lttng 2.13 takes user space --pid as --vpid; a value already (not) in the set is a warning, exit 0.
    const ustPidTracker = await env.ltt('track', '-u', '--pid=3');
    assert.deepEqual([ustPidTracker.code, ustPidTracker.stdout], [0, 'Added 3 to the virtual process ID tracker inclusion set\n']);
    const trackedTwice = await env.ltt('track', '-u', '--vpid=3');
    assert.deepEqual([trackedTwice.code, trackedTwice.stderr], [0, 'Warning: 3 is already in the virtual process ID inclusion set\n']);
    assert.equal((await env.ltt('track', '-u', '--all', '--vpid')).code, 0);

    assert.equal((await env.ltt('start')).code, 0);
    const startAgain = await env.ltt('start');
    assert.deepEqual([startAgain.code, startAgain.stderr], [4, 'Warning: Tracing already started for session errs\n']);
    const late = await env.ltt('enable-channel', '-k', 'late');
    assert.deepEqual([late.code, late.stderr], [1, 'Error: Channel late: Tracing has already been started once (session errs)\n']);
    const lateMi = await env.ltt('--mi', 'json', 'enable-channel', '-k', 'late2');
    assert.equal(lateMi.code, 1);
    const lateDoc = JSON.parse(lateMi.stdout);
    assert.deepEqual(lateDoc.error, { code: 'TRACE_ALREADY_STARTED', message: 'Channel late2: Tracing has already been started once (session errs)' });
    assert.equal(lateMi.stderr, `Error: ${lateDoc.error.message}\n`, 'the same text on stderr and in the MI document');
    assert.equal((await env.ltt('stop')).code, 0);
    const stopAgain = await env.ltt('stop');
    assert.deepEqual([stopAgain.code, stopAgain.stderr], [4, 'Warning: Tracing already stopped for session errs\n']);

    // Kill the daemon outright: the CLI says so in one line, quickly, without a stack trace. (Its kernel
    // session goes first: a daemonized daemon killed here may stay a zombie of init for a while, which the next
    // daemon's reclaim must count as alive. Reclaim after SIGKILL is covered in test/sessiond.)
    assert.equal((await env.ltt('destroy', 'errs')).code, 0);
    assert.equal((await env.ltt('create', 'ustonly', '--no-output')).code, 0);
    assert.equal((await env.ltt('enable-event', '-u', 'app:*')).code, 0);
    const pid = env.daemonPid()!;
    process.kill(pid, 'SIGKILL');
    assert.ok(await waitExit(pid));
    for (const args of [['list'], ['start'], ['-n', 'create', 'again'], ['list', 'errs']]) {
      const r = await env.ltt(...args);
      assert.equal(r.code, 1, `ltt ${args.join(' ')}`);
      assert.equal(r.stderr, 'Error: No session daemon is available\n');
      assert.ok(r.ms < 10_000, `answered in ${r.ms} ms`);
    }
    // `create` starts a fresh daemon over the stale socket and pid file.
    const revived = await env.ltt('create', 'again', '-o', `${env.root}/again`);
    assert.equal(revived.code, 0, revived.stderr);
    assert.equal(revived.stdout.split('\n')[0], 'Spawning a session daemon');
    assert.notEqual(env.daemonPid(), pid);
  } finally {
    await env.cleanup();
  }
});
