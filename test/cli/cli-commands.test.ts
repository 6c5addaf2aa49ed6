// The commands' human output, line for line against lttng 2.13's formats (captured from lttng 2.13.9 on this
// machine for the user-space parts), and their --mi json documents: create in its modes, list (sessions, one
// session, kernel tracepoints, syscalls, user space), channels with attributes, rules, contexts, trackers,
// set-session, help and version.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { LttTestEnv } from './ltt-test-env.js';
import { freePorts } from '../relay/relay-helpers.js';

test('session, channel, rule and tracker commands print what lttng prints', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  const ok = async (...args: string[]) => {
    const r = await env.ltt(...args);
    assert.equal(r.code, 0, `ltt ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const [ctrl, data] = await freePorts(2);
  try {
    await ok('create', 's1', '-o', `${env.root}/s1`);
    assert.equal((await ok('create', 's2', '--no-output')).stdout, 'Session s2 created.\n');
    assert.equal(
      (await ok('create', 's3', '--snapshot', '-o', `${env.root}/s3`)).stdout,
      `Snapshot session s3 created.\nDefault snapshot output set to ${env.root}/s3\nEvery channel enabled for this session will be set to mmap output and default to overwrite mode.\n`,
    );
    assert.equal(
      // A URL given (without one, create would start a relay daemon on the default ports); nothing listens there.
      (await ok('create', 's4', '--live', '-U', `net://127.0.0.1:${ctrl}:${data}`)).stdout,
      `Live session s4 created.\nTraces will be written in tcp4://127.0.0.1:${ctrl}/ [data: ${data}]\nLive timer interval set to 1000000 us\n`,
    );
    const auto = await ok('create');
    assert.match(auto.stdout, new RegExp(`^Session (auto-\\d{8}-\\d{6}) created\\.\\nTraces will be written in ${env.home}/ltt-traces/auto-\\d{8}-\\d{6}\\n$`));
    const autoName = /^Session (\S+) created/.exec(auto.stdout)![1]!;

    assert.equal(
      (await ok('list')).stdout,
      [
        'Available recording sessions:',
        `  1) ${autoName} [inactive]`,
        `    Trace output: ${env.home}/ltt-traces/${autoName}`,
        '',
        '  2) s4 [inactive]',
        `    Trace output: tcp4://127.0.0.1:${ctrl}/ [data: ${data}]`,
        '    Live timer interval: 1000000 us',
        '',
        '  3) s3 [inactive snapshot]',
        '',
        '  4) s2 [inactive]',
        '',
        '  5) s1 [inactive]',
        `    Trace output: ${env.root}/s1`,
        '',
        '',
        'Use ltt list <session_name> for more details',
        '',
      ].join('\n'),
    );
    // A network session whose relay does not answer: start says so. A session without output records, as
    // lttng-sessiond's does, for snapshots taken to an output named later.
    await ok('enable-event', '-u', 'app:*', '-s', 's4');
    await ok('enable-event', '-u', 'app:*', '-s', 's2');
    const live = await env.ltt('start', 's4');
    assert.deepEqual([live.code, live.stderr], [1, `Error: Unable to connect to lttng-relayd at 127.0.0.1:${ctrl}: ECONNREFUSED\n`]);
    const noOutput = await env.ltt('start', 's2');
    assert.deepEqual([noOutput.code, noOutput.stderr], [0, '']);
    await ok('stop', 's2');
    assert.equal((await ok('set-session', 's1')).stdout, 'Session set to s1\n');

    const chan = await ok('enable-channel', '-u', '--overwrite', '--subbuf-size=5000', '--num-subbuf=3', '--switch-timer=1000', 'ch2');
    assert.equal(chan.stdout, 'ust channel ch2 enabled for session s1\n');
    assert.equal(
      chan.stderr,
      'Warning: The subbuf size (5000) is rounded to the next power of 2 (8192)\nWarning: The number of subbuffers (3) is rounded to the next power of 2 (4)\n',
    );
    assert.equal((await ok('enable-channel', '-u', 'mychan,other')).stdout, 'ust channel mychan enabled for session s1\nust channel other enabled for session s1\n');
    assert.equal((await ok('enable-event', '-u', '-c', 'mychan', 'prov:*')).stdout, 'ust event prov:* created in channel mychan\n');
    assert.equal(
      (await ok('enable-event', '-u', '-c', 'mychan', 'a,b', '--filter', 'x==1')).stdout,
      "Event a: Filter 'x==1' successfully set\nEvent b: Filter 'x==1' successfully set\n",
    );
    assert.equal((await ok('enable-event', '-u', '-c', 'mychan', '-a')).stdout, 'All ust events are enabled in channel mychan\n');
    assert.equal((await ok('enable-event', '-u', '-c', 'other', 'lvl:*', '--loglevel=INFO', '-x', 'lvl:noisy')).stdout, 'ust event lvl:* excluding "lvl:noisy" created in channel other\n');
    assert.equal((await ok('disable-event', '-u', '-c', 'mychan', 'a')).stdout, 'ust a of type any disabled in channel mychan for session s1\n');
    const missing = await env.ltt('disable-event', '-u', '-c', 'mychan', 'zzz');
    assert.deepEqual([missing.code, missing.stderr], [1, 'Error: zzz of type any : UST event not found (channel mychan, session s1)\n']);
    assert.equal((await ok('add-context', '-u', '-t', 'vpid', '-t', 'procname')).stdout, 'ust context vpid added to all channels\nust context procname added to all channels\n');
    assert.equal((await ok('disable-channel', '-u', 'other')).stdout, 'ust channel other disabled for session s1\n');
    assert.equal((await ok('track', '-u', '--vpid=123,456')).stdout, 'Added 123 to the virtual process ID tracker inclusion set\nAdded 456 to the virtual process ID tracker inclusion set\n');
    assert.equal((await ok('untrack', '-u', '--vpid=123')).stdout, 'Removed 123 from the virtual process ID tracker inclusion set\n');
    const again = await env.ltt('untrack', '-u', '--vpid=123');
    assert.deepEqual([again.code, again.stderr], [0, 'Warning: 123 is not in the virtual process ID the inclusion set\n']);
    assert.equal((await ok('track', '-u', '--vuid=root')).stdout, 'Added `root` to the virtual user ID tracker inclusion set\n');
    assert.equal((await ok('untrack', '-u', '--all', '--vgid')).stdout, 'Virtual group ID tracking policy set to `exclude all`\n');
    const noAttr = await env.ltt('track', '-u');
    assert.deepEqual([noAttr.code, noAttr.stderr], [1, 'Error: At least one process attribute must be specified\n']);

    const status = await ok('status');
    assert.equal(
      status.stdout,
      [
        'Recording session s1: [inactive]',
        `    Trace output: ${env.root}/s1`,
        '',
        '=== Domain: User space ===',
        '',
        'Buffering scheme: per-user',
        '',
        'Tracked process attributes',
        '  Virtual process IDs:  456',
        '  Virtual user IDs:     `root`',
        '  Virtual group IDs:    none',
        '',
        'Channels:',
        '-------------',
        '- ch2: [enabled]',
        '',
        '    Attributes:',
        '      Event-loss mode:  overwrite',
        '      Sub-buffer size:  8192 bytes',
        '      Sub-buffer count: 4',
        '      Switch timer:     1000 us',
        '      Read timer:       inactive',
        '      Monitor timer:    1000000 us',
        '      Trace file count: 1 per stream',
        '      Trace file size:  unlimited',
        '      Output mode:      mmap',
        '',
        '    Statistics:',
        '      Lost packets:     0',
        '',
        '    Recording event rules:',
        '      None',
        '',
        '- mychan: [enabled]',
        '',
        '    Attributes:',
        '      Event-loss mode:  discard',
        '      Sub-buffer size:  524288 bytes',
        '      Sub-buffer count: 4',
        '      Switch timer:     inactive',
        '      Read timer:       inactive',
        '      Monitor timer:    1000000 us',
        '      Blocking timeout: 0 us',
        '      Trace file count: 1 per stream',
        '      Trace file size:  unlimited',
        '      Output mode:      mmap',
        '',
        '    Statistics:',
        '      Discarded events: 0',
        '',
        '    Recording event rules:',
        '      prov:* (type: tracepoint) [enabled]',
        "      a (type: tracepoint) [disabled] [filter: 'x==1']",
        "      b (type: tracepoint) [enabled] [filter: 'x==1']",
        '      * (type: tracepoint) [enabled]',
        '',
        '- other: [disabled]',
        '',
        '    Attributes:',
        '      Event-loss mode:  discard',
        '      Sub-buffer size:  524288 bytes',
        '      Sub-buffer count: 4',
        '      Switch timer:     inactive',
        '      Read timer:       inactive',
        '      Monitor timer:    1000000 us',
        '      Blocking timeout: 0 us',
        '      Trace file count: 1 per stream',
        '      Trace file size:  unlimited',
        '      Output mode:      mmap',
        '',
        '    Statistics:',
        '      Discarded events: 0',
        '',
        '    Recording event rules:',
        '      lvl:* (loglevel <= TRACE_INFO (6)) (type: tracepoint) [enabled] [exclusions: lvl:noisy]',
        '',
        '',
      ].join('\n'),
    );
    const oneChannel = await ok('list', 's1', '-c', 'ch2');
    assert.ok(oneChannel.stdout.includes('- ch2: [enabled]') && !oneChannel.stdout.includes('- mychan'));
    const noSuchChannel = await env.ltt('list', 's1', '-c', 'zz');
    assert.deepEqual([noSuchChannel.code, noSuchChannel.stderr], [1, 'Error: Channel zz not found\n']);

    const mi = JSON.parse((await ok('--mi', 'json', 'list', 's1')).stdout);
    const ust = mi.output.sessions[0].domains[0];
    assert.equal(ust.type, 'UST');
    // LTTng's MI elements: trackers that include a set, each value an id or a name (an empty set: no values).
    assert.deepEqual(ust.process_attr_trackers, {
      vpid_process_attr_tracker: { process_attr_values: [{ type: { id: 456 } }] },
      vuid_process_attr_tracker: { process_attr_values: [{ type: { name: 'root' } }] },
      vgid_process_attr_tracker: { process_attr_values: [] },
    });
    assert.deepEqual(ust.channels.map((c: any) => [c.name, c.enabled, c.attributes.overwrite_mode, c.contexts]), [
      ['ch2', true, 'OVERWRITE', ['vpid', 'procname']],
      ['mychan', true, 'DISCARD', ['vpid', 'procname']],
      ['other', false, 'DISCARD', ['vpid', 'procname']],
    ]);

    assert.equal((await ok('destroy', '-a')).stdout, `Session ${autoName} destroyed\nSession s4 destroyed\nSession s3 destroyed\nSession s2 destroyed\nSession s1 destroyed\n`);
    assert.equal((await ok('destroy', '-a')).stdout, 'No session found, nothing to do.\n');
    assert.equal((await ok('list')).stdout, 'Currently no available recording session\n');
  } finally {
    await env.cleanup();
  }
});

test('destroy -a run three at once: each goes past the sessions the others destroyed, all exit 0', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  try {
    // Rounds of thirty sessions and three clients started together: they list most of the same sessions, then
    // destroy them in the same order, so that one meets sessions another destroyed since its list (which
    // stopped the old code: "Session name race23 not found", exit 1).
    for (let round = 0; round < 3; round++) {
      const names = Array.from({ length: 30 }, (_, i) => `race${round}-${i}`);
      for (const n of names) assert.equal((await env.ltt('create', n, '--no-output')).code, 0);
      const runs = await Promise.all([env.ltt('destroy', '-a'), env.ltt('destroy', '-a'), env.ltt('destroy', '-a')]);
      assert.deepEqual(runs.map((r) => [r.code, r.stderr]), [[0, ''], [0, ''], [0, '']]);
      // Each session's destruction said once, by whichever client destroyed it.
      const said = runs.flatMap((r) => r.stdout.split('\n').filter((l) => l.startsWith('Session ')));
      assert.deepEqual(said.sort(), names.map((n) => `Session ${n} destroyed`).sort());
      assert.equal((await env.ltt('list')).stdout, 'Currently no available recording session\n');
    }
  } finally {
    await env.cleanup();
  }
});

test('catalog listings: list --kernel, --kernel --syscall, --userspace', { timeout: 60_000 }, async () => {
  const env = new LttTestEnv();
  try {
    assert.equal((await env.ltt('create', 'cat', '--no-output')).code, 0);
    const kernel = await env.ltt('list', '--kernel');
    assert.equal(kernel.code, 0, kernel.stderr);
    const lines = kernel.stdout.split('\n');
    assert.deepEqual(lines.slice(0, 2), ['Kernel events:', '-------------']);
    assert.ok(lines.includes('      sched_switch (loglevel: TRACE_EMERG (0)) (type: tracepoint)'));
    assert.ok(lines.length > 100, `${lines.length} tracepoints`);
    const syscalls = await env.ltt('list', '-k', '--syscall');
    assert.equal(syscalls.code, 0, syscalls.stderr);
    assert.ok(syscalls.stdout.startsWith('System calls:\n-------------\n'));
    assert.match(syscalls.stdout, /\n {6}openat \[(32\/)?64-bit\]\n/);
    const ust = await env.ltt('list', '-u');
    assert.deepEqual([ust.code, ust.stdout], [0, 'UST events:\n-------------\nNone\n\n']);
    const syscallOnly = await env.ltt('list', '--syscall');
    assert.deepEqual([syscallOnly.code, syscallOnly.stderr], [1, 'Warning: --syscall will only work with the Kernel domain (-k)\n']);
    const mi = JSON.parse((await env.ltt('--mi', 'json', 'list', '-k')).stdout);
    assert.ok(mi.output.domains[0].events.some((e: any) => e.name === 'sched_switch' && e.type === 'TRACEPOINT'));
  } finally {
    await env.cleanup();
  }
});

test('help, version, --list-commands, --list-options', { timeout: 60_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const commands = await env.ltt('--list-commands');
    assert.deepEqual(commands.stdout.trim().split('\n'), [
      'add-context', 'analyze', 'clear', 'create', 'destroy', 'disable-channel', 'disable-event', 'disable-rotation', 'enable-channel', 'enable-event', 'enable-rotation',
      'export', 'help', 'list', 'load', 'query', 'regenerate', 'rotate', 'save', 'set-session', 'snapshot', 'start', 'status', 'stop', 'track', 'untrack', 'version', 'view', 'web',
    ]);
    const options = await env.ltt('create', '--list-options');
    // lttng's table order (test/cli/option-tables.test.ts compares every command with the installed lttng).
    assert.deepEqual(options.stdout.trim().split('\n'), ['--help', '-h', '--output', '-o', '--list-options', '--set-url', '-U', '--ctrl-url', '-C',
      '--data-url', '-D', '--no-output', '--no-consumer', '--snapshot', '--live', '--shm-path']);
    const help = await env.ltt('help', 'enable-event');
    assert.equal(help.code, 0);
    assert.ok(help.stdout.startsWith('Usage: ltt enable-event'));
    assert.equal((await env.ltt('enable-event', '--help')).stdout, help.stdout);
    const general = await env.ltt('help');
    // lttng's usage layout: commands grouped under lttng's headings, with lttng's one-line summaries.
    assert.match(general.stdout, /\nChannels:\n  add-context       Add context fields to be recorded\n  disable-channel   Disable channels\n  enable-channel    Create or enable a channel\n/);
    assert.match(general.stdout, /\nResource tracking:\n  track             Allow specific processes to record events\n/);
    const unknownHelp = await env.ltt('help', 'frobnicate');
    assert.deepEqual([unknownHelp.code, unknownHelp.stderr], [1, 'Error: Unknown command "frobnicate"\n']);
    assert.match((await env.ltt('version')).stdout, /^ltt version \d+\.\d+\.\d+\n/);
    assert.match((await env.ltt('--version')).stdout, /^ltt \(Linux Trace Toolkit\) \d+\.\d+\.\d+\n$/);
    const mi = JSON.parse((await env.ltt('--mi', 'json', 'version')).stdout);
    assert.equal(mi.success, true);
    assert.equal(typeof mi.output.version.major, 'number');
  } finally {
    await env.cleanup();
  }
});

test('two concurrent creates with no daemon end with one daemon and both sessions', { timeout: 60_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const [a, b] = await Promise.all([env.ltt('create', 'raceA', '--no-output'), env.ltt('create', 'raceB', '--no-output')]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const list = await env.ltt('--mi', 'json', 'list');
    const names = JSON.parse(list.stdout).output.sessions.map((s: { name: string }) => s.name).sort();
    assert.deepEqual(names, ['raceA', 'raceB']);
  } finally {
    await env.cleanup();
  }
});
