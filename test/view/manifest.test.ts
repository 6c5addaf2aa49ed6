// Runs every babeltrace2 2.0.4 run of the shared corpus manifest (shared/ctf-traces/expected/manifest.jsonl)
// through the real CLI (`node bin/ltt view ARGS` in shared/ctf-traces with the run's TZ) and compares stdout byte
// for byte, the exit status (zero vs non-zero), and stderr: warnings exactly (corpus path as @CORPUS@) for
// successful runs, one clean `Error: ...` line and no stack trace for failing ones.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

/** Repo root, whether this runs from test/view (tsx) or dist/test/view (compiled). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

const ROOT = repoRoot();
// Real path: the viewer prints stream paths resolved, and shared/ may be reached through a link.
const CORPUS_LINK = resolve(ROOT, '..', 'shared', 'ctf-traces');
const CORPUS = existsSync(CORPUS_LINK) ? realpathSync(CORPUS_LINK) : CORPUS_LINK;
const LTT = join(ROOT, 'bin', 'ltt');

interface Run {
  readonly stdout: string;
  readonly stderr: string | null;
  readonly exit: number;
  readonly TZ: string;
  readonly args: string[];
}

function runLtt(args: string[], tz: string): Promise<{ stdout: Buffer; stderr: string; code: number | null }> {
  return new Promise((res, rej) => {
    const env: NodeJS.ProcessEnv = { ...process.env, TZ: tz };
    delete env['BABELTRACE_TERM_COLOR'];
    // LTT_BIN=/path/to/bin/ltt runs another build (a private copy while others rebuild dist/).
    const child = spawn(process.execPath, [process.env['LTT_BIN'] ?? LTT, 'view', ...args], {
      cwd: CORPUS,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', rej);
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8'), code });
    });
  });
}

/** babeltrace2 log lines (`MM-DD HH:MM:SS.mmm PID TID L ...`) are not part of the compared output. */
function withoutLogLines(text: string): string {
  return text
    .split('\n')
    .filter((l) => !/^\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} +\d+ +\d+ [A-Z] /.test(l))
    .join('\n');
}

const haveCorpus = existsSync(join(CORPUS, 'expected', 'manifest.jsonl'));
const runs: Run[] = haveCorpus
  ? readFileSync(join(CORPUS, 'expected', 'manifest.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Run)
  : [];

test('the shared corpus is present', { skip: haveCorpus ? false : `no corpus at ${CORPUS}` }, () => {
  assert.equal(runs.length, 187);
});

for (const run of runs) {
  const name = `${run.TZ === 'UTC' ? '' : `TZ=${run.TZ} `}babeltrace2 ${run.args.join(' ')}`;
  test(name, async () => {
    const expected = readFileSync(join(CORPUS, run.stdout));
    const got = await runLtt(run.args, run.TZ);
    // succeed/meta-ctx-sequence: Debian's 2.0.4 aborts (exit 134); upstream prints nothing and exits 0, which is
    // what we expect (corpus README).
    const metaCtxSequence = run.args.includes('succeed/meta-ctx-sequence');
    const expectFailure = run.exit !== 0 && !metaCtxSequence;
    if (!got.stdout.equals(expected)) {
      const a = got.stdout.toString('utf8').split('\n');
      const b = expected.toString('utf8').split('\n');
      let i = 0;
      while (i < a.length && i < b.length && a[i] === b[i]) i++;
      assert.fail(
        `stdout differs at line ${i + 1} (got ${a.length - 1} lines, expected ${b.length - 1}):\n` +
          `  got:      ${JSON.stringify(a[i])}\n  expected: ${JSON.stringify(b[i])}\n  stderr: ${got.stderr.slice(0, 500)}`,
      );
    }
    if (expectFailure) {
      assert.notEqual(got.code, 0, 'expected a non-zero exit status');
      const lines = got.stderr.split('\n').filter((l) => l !== '');
      const errors = lines.filter((l) => l.startsWith('Error: '));
      assert.equal(errors.length, 1, `expected one "Error: " line on stderr, got:\n${got.stderr}`);
      assert.ok(!/^\s+at /m.test(got.stderr), `stack trace on stderr:\n${got.stderr}`);
    } else {
      assert.equal(got.code, 0, `exit status ${got.code}, stderr:\n${got.stderr}`);
      const want = run.stderr && !metaCtxSequence ? withoutLogLines(readFileSync(join(CORPUS, run.stderr), 'utf8')) : '';
      const ours = got.stderr.split(CORPUS).join('@CORPUS@');
      assert.equal(ours, want, 'stderr (warnings) differ');
    }
  });
}
