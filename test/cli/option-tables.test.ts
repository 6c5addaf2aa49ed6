// Every ltt command has its lttng 2.13 twin's options: `ltt CMD --list-options` must print what the installed
// `lttng CMD --list-options` prints (gathered at test time from the binary, same order), and options are parsed
// as popt parses lttng's (short forms, --opt=value and --opt value, optional values).

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { runCli } from '../../src/cli/main.js';
import { COMMANDS, findCommand } from '../../src/cli/command-table.js';
import { parseCommandLine } from '../../src/cli/option-parser.js';
import { LttTestEnv } from './ltt-test-env.js';

/** lttng commands ltt does not have, and why. */
const NOT_IN_LTT: Record<string, string> = {
  'add-trigger': 'triggers (conditions on buffer usage, rotations, event rules, with notify/start/stop actions) are not built',
  'list-triggers': 'no triggers',
  'remove-trigger': 'no triggers',
  metadata: 'deprecated in 2.13 for `regenerate metadata`, which ltt refuses anyway (it writes metadata once)',
};
/** Options ltt has that lttng does not, and why. */
const LTT_ONLY: Record<string, string[]> = {
  '': ['--rundir'], // the runtime directory of a private daemon (tests, several users side by side)
};

function lttng(...args: string[]): string {
  const r = spawnSync('lttng', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`lttng ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function ltt(...args: string[]): Promise<string> {
  let out = '';
  let err = '';
  const sink = (add: (s: string) => void): Writable => new Writable({ write: (chunk, _enc, done) => (add(String(chunk)), done()) });
  const code = await runCli(args, { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)) });
  assert.equal(code, 0, `ltt ${args.join(' ')}: ${err}`);
  return out;
}

const lttngInstalled = spawnSync('lttng', ['--version']).status === 0;

test('each command lists the options of its lttng twin, in lttng\'s order', { skip: !lttngInstalled && 'lttng is not installed' }, async () => {
  const commands = lttng('--list-commands').trim().split('\n');
  assert.ok(commands.includes('enable-event') && commands.includes('track'), 'lttng lists its commands');
  for (const name of commands) {
    if (name in NOT_IN_LTT) {
      assert.equal(await findCommand(name), undefined, `${name} is listed as missing from ltt`);
      continue;
    }
    assert.ok(await findCommand(name), `ltt has ${name}`);
    assert.deepEqual((await ltt(name, '--list-options')).split('\n'), lttng(name, '--list-options').split('\n'), `${name} --list-options`);
  }
  const ours = (await ltt('--list-options')).split('\n').filter((o) => !LTT_ONLY['']!.includes(o));
  assert.deepEqual(ours, lttng('--list-options').split('\n'), 'global --list-options');
  for (const name of ['snapshot', 'regenerate']) {
    assert.equal(await ltt(name, '--list-commands'), lttng(name, '--list-commands'), `${name} --list-commands`);
  }
});

test('options are parsed as popt parses lttng\'s', async () => {
  const specs = new Map(await Promise.all(COMMANDS.map(async (c) => [c.name, await c.load()] as const)));
  const parse = (command: string, ...argv: string[]) => {
    const { values, positionals } = parseCommandLine(argv, specs.get(command)!.options);
    return { values: { ...values }, positionals };
  };
  // track/untrack: -p is --pid, and an optional value is the next argument unless that one is an option.
  assert.deepEqual(parse('track', '-p', '666', '-u'), { values: { pid: ['666'], userspace: true }, positionals: [] });
  assert.deepEqual(parse('untrack', '--vpid', '666', '-u'), { values: { vpid: ['666'], userspace: true }, positionals: [] });
  assert.deepEqual(parse('untrack', '--vpid', '666', '777'), { values: { vpid: ['666'] }, positionals: ['777'] });
  assert.deepEqual(parse('track', '-u', '--vpid=1,2', '-p5', '-p=6', '--uid', 'root'), {
    values: { userspace: true, vpid: ['1,2'], pid: ['5', '6'], uid: ['root'] },
    positionals: [],
  });
  assert.deepEqual(parse('track', '-u', '--all', '--vpid', '-s', 'x'), { values: { userspace: true, all: true, vpid: [''], session: 'x' }, positionals: [] });
  assert.deepEqual(parse('track', '-ka', '--pid'), { values: { kernel: true, all: true, pid: [''] }, positionals: [] });
  // create --live: the same rule (popt takes `create --live NAME`'s NAME as the delay, and lttng refuses it).
  assert.deepEqual(parse('create', '--live', '2000000', 's1'), { values: { live: '2000000' }, positionals: ['s1'] });
  assert.deepEqual(parse('create', 's1', '--live'), { values: { live: '1000000' }, positionals: ['s1'] });
  assert.deepEqual(parse('create', '--live', 's1'), { values: { live: 's1' }, positionals: [] });
  // Required values: attached, glued to the short flag, or the next argument even when it starts with '-'.
  assert.deepEqual(parse('enable-event', '-ucch1', '--filter', '-1 == x', 'ev'), {
    values: { userspace: true, channel: 'ch1', filter: '-1 == x' },
    positionals: ['ev'],
  });
  assert.deepEqual(parse('disable-event', '-k', '--all', '-a'), { values: { kernel: true, all: true, 'all-events': true }, positionals: [] });
  assert.throws(() => parse('enable-channel', '-p', 'ch'), /-p/); // no Python domain flag in lttng's enable-channel
});

test('track -p and untrack --vpid VALUE reach the daemon; a second value is an unknown argument', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  try {
    for (const args of [['track', '-p', '666', '-u'], ['untrack', '--vpid', '666', '-u'], ['track', '-k', '--pid', '1']]) {
      const r = await env.ltt('-n', ...args, '-s', 'nosession');
      assert.deepEqual([r.code, r.stderr], [1, 'Error: No session daemon is available\n'], args.join(' '));
    }
    const extra = await env.ltt('-n', 'untrack', '-u', '--vpid', '666', '777', '-s', 'nosession');
    assert.deepEqual([extra.code, extra.stderr], [1, 'Error: Unknown argument: 777\n']);
    const live = await env.ltt('-n', 'create', '--live', 'name');
    assert.deepEqual([live.code, live.stderr], [1, 'Error: Wrong value for --live parameter: name\n']);
  } finally {
    await env.cleanup();
  }
});
