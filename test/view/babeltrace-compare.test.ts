// `ltt view` against the installed babeltrace2 (Debian 2.0.4) for what the manifest does not cover: forced
// colours (BABELTRACE_TERM_COLOR=always, with and without bright-means-bold), -w output files, -o ctf-metadata,
// the counter and dummy sinks, more -n/-f/clock combinations, --begin/--end forms. Skipped when babeltrace2
// is not installed.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}
const ROOT = repoRoot();
const CORPUS = resolve(ROOT, '..', 'shared', 'ctf-traces');
const LTT = join(ROOT, 'bin', 'ltt');
const BT2 = '/usr/bin/babeltrace2';
const skip = !existsSync(BT2) ? 'babeltrace2 not installed' : !existsSync(CORPUS) ? 'no corpus' : false;

/** babeltrace2 log lines and the colour resets its CLI prints at exit are not part of the sink's output. */
function clean(text: string): string {
  return text
    .split('\n')
    .filter((l) => !/^(\x1b\[\d+m)?\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} +\d+ +\d+ [A-Z] /.test(l))
    .join('\n')
    .replace(/(\x1b\[0m)+$/, '');
}

function run(cmd: string, args: string[], env: Record<string, string>): { out: string; err: string; code: number | null } {
  const e: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC', ...env };
  if (!('BABELTRACE_TERM_COLOR' in env)) delete e['BABELTRACE_TERM_COLOR'];
  const r = spawnSync(cmd, args, { cwd: CORPUS, env: e, maxBuffer: 256 << 20 });
  return { out: r.stdout.toString('utf8'), err: r.stderr.toString('utf8'), code: r.status };
}

const cases: Array<{ args: string[]; env?: Record<string, string> }> = [
  { args: ['--color=always', 'succeed/wk-heartbeat-u'], env: { BABELTRACE_TERM_COLOR: 'always' } },
  { args: ['--color=always', '-n', 'all', '-f', 'all', 'synthetic/all-types'], env: { BABELTRACE_TERM_COLOR: 'always' } },
  { args: ['succeed/multi-domains'], env: { BABELTRACE_TERM_COLOR: 'always', BABELTRACE_TERM_COLOR_BRIGHT_MEANS_BOLD: '0' } },
  { args: ['--color=never', 'synthetic/all-types'], env: { BABELTRACE_TERM_COLOR: 'always' } },
  { args: ['--color=always', 'synthetic/all-types'] },
  { args: ['-n', 'header', 'synthetic/all-types'] },
  { args: ['-n', 'scope,payload', '--clock-cycles', 'succeed/sequence'] },
  { args: ['-f', 'trace,loglevel', '-n', 'header', 'succeed/wk-heartbeat-u'] },
  { args: ['--no-delta', '-n', 'none', '-f', 'emf', 'synthetic/all-types'] },
  { args: ['--clock-date', 'synthetic/negative-time'] },
  { args: ['--clock-cycles', 'succeed/multi-domains'] },
  { args: ['--clock-seconds', '--clock-cycles', 'synthetic/big-endian'] },
  // (`ltt view -e` is LTTng's --viewer, so the end bound is given in its long form.)
  { args: ['--clock-gmt', '-b', '17:48:17.587', '--end', '17:48:17.5885', 'succeed/wk-heartbeat-u'] },
  { args: ['--begin=1351532897.587', 'succeed/wk-heartbeat-u'] },
  { args: ['--timerange=[2012-10-29 17:48:17.587,2012-10-29 17:48:17.5885]', 'succeed/wk-heartbeat-u'] },
  { args: ['--stream-intersection', '--clock-seconds', 'intersection/3eventsintersect'] },
  { args: ['-c', 'sink.utils.counter', 'succeed/succeed1'] },
  { args: ['-c', 'sink.utils.counter', 'succeed/multi-domains'] },
  { args: ['-o', 'dummy', 'succeed/wk-heartbeat-u'] },
  { args: ['-o', 'ctf-metadata', 'succeed/2packets'] },
  { args: ['-o', 'ctf-metadata', 'succeed/wk-heartbeat-u'] },
];

for (const c of cases) {
  const env = c.env ?? {};
  const label = `${Object.entries(env).map(([k, v]) => `${k}=${v} `).join('')}${c.args.join(' ')}`;
  test(`same as babeltrace2: ${label}`, { skip }, () => {
    const bt = run(BT2, c.args, env);
    const ours = run(process.execPath, [process.env['LTT_BIN'] ?? LTT, 'view', ...c.args], env);
    assert.equal(ours.code, bt.code === 0 ? 0 : ours.code === 0 ? -1 : ours.code, `exit ${ours.code}: ${ours.err}`);
    assert.equal(ours.out, clean(bt.out));
    assert.equal(ours.err.split(CORPUS).join('@'), clean(bt.err).split(CORPUS).join('@'));
  });
}

test('same as babeltrace2: -w FILE', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltt-view-w-'));
  try {
    const a = join(dir, 'bt2.txt');
    const b = join(dir, 'ltt.txt');
    run(BT2, ['-w', a, 'synthetic/all-types'], {});
    const ours = run(process.execPath, [process.env['LTT_BIN'] ?? LTT, 'view', '-w', b, 'synthetic/all-types'], {});
    assert.equal(ours.code, 0, ours.err);
    assert.equal(ours.out, '');
    assert.equal(readFileSync(b, 'utf8'), readFileSync(a, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad arguments: one error line, exit 1', { skip }, () => {
  for (const args of [['--bogus', 'x'], ['--names=everything', 'x'], ['--begin=noon', 'x'], ['/nonexistent/trace']]) {
    const r = run(process.execPath, [process.env['LTT_BIN'] ?? LTT, 'view', ...args], {});
    assert.notEqual(r.code, 0, args.join(' '));
    const lines = r.err.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, r.err);
    assert.match(lines[0]!, /^Error: /);
  }
});
