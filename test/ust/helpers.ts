// Helpers for the ltt/ust tests: run a real traced Node process (examples/ust-demo.mjs or a script written by
// the test) with LTT_UST_OUTPUT, find the per-PID trace it wrote, and read it with /usr/bin/babeltrace2.
// The traced processes import the built package (dist/), so `npm run build` must have run (npm test does).

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const BT = '/usr/bin/babeltrace2';
/** Repository root (tests run from it, as dist/test/... or test/... under tsx). */
export const ROOT = resolve(process.cwd());
export const DEMO = join(ROOT, 'examples', 'ust-demo.mjs');
export const UST_MODULE = pathToFileURL(join(ROOT, 'dist', 'src', 'ust', 'index.js')).href;

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `ltt-ust-${tag}-`));
}

export function cleanup(dir: string): void {
  if (!process.env['LTT_KEEP_TMP']) rmSync(dir, { recursive: true, force: true });
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

// The apps these tests start must not meet a session daemon that happens to run on the machine (it would
// register them and start an agent thread, shifting worker thread ids): point them at a daemon-less runtime dir.
const ISOLATED = { LTT_RUNDIR: '/nonexistent/ltt-test-no-daemon' };

export function runNode(args: readonly string[], env: Record<string, string>, timeoutMs = 120_000): RunResult {
  const p = spawnSync(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...ISOLATED, ...env }, encoding: 'utf8', timeout: timeoutMs });
  return { code: p.status, signal: p.signal, stdout: p.stdout, stderr: p.stderr };
}

/** Runs a process, sends `signal` once it printed "ready", and waits for it. */
export function runNodeAndSignal(args: readonly string[], env: Record<string, string>, signal: NodeJS.Signals): Promise<RunResult> {
  return new Promise((res, rej) => {
    const c = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...ISOLATED, ...env } });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      c.kill('SIGKILL');
      rej(new Error('traced process did not finish'));
    }, 60_000);
    c.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) c.kill(signal);
    });
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('exit', (code, sig) => {
      clearTimeout(timer);
      res({ code, signal: sig, stdout: out, stderr: err });
    });
  });
}

/** Writes a script next to nothing in particular (a temp dir) that imports ltt/ust from the build. */
export function writeScript(dir: string, name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `import * as ust from ${JSON.stringify(UST_MODULE)};\n${body}`);
  return p;
}

/** The single per-PID trace directory under OUT/ust/pid/. */
export function traceDirOf(out: string): string {
  const base = join(out, 'ust', 'pid');
  const entries = existsSync(base) ? readdirSync(base) : [];
  if (entries.length !== 1) throw new Error(`expected one trace under ${base}, found ${entries.length}`);
  return join(base, entries[0]!);
}

export interface Bt2Result {
  readonly lines: string[];
  readonly stderr: string;
  readonly status: number | null;
}

export function babeltrace(dir: string, extra: readonly string[] = []): Bt2Result {
  const p = spawnSync(BT, [...extra, dir], { encoding: 'utf8', maxBuffer: 1 << 30 });
  return { lines: p.stdout.split('\n').filter((l) => l !== ''), stderr: p.stderr, status: p.status };
}

/** Sum of "WARNING: Tracer discarded N events" lines. */
export function discardedEvents(stderr: string): number {
  let n = 0;
  for (const m of stderr.matchAll(/Tracer discarded (\d+) events? /g)) n += Number(m[1]);
  return n;
}

export function discardedPackets(stderr: string): number {
  let n = 0;
  for (const m of stderr.matchAll(/Tracer discarded (\d+) packets? /g)) n += Number(m[1]);
  return n;
}

export interface Tick {
  readonly cpu: number;
  readonly i: number;
  readonly msg: string;
}

const TICK_RE = /demo:tick: \{ cpu_id = (\d+) \}, \{ i = (-?\d+), msg = "([^"]*)" \}$/;

export function parseTicks(lines: readonly string[]): Tick[] {
  const out: Tick[] = [];
  for (const l of lines) {
    const m = TICK_RE.exec(l);
    if (!m) throw new Error(`unexpected babeltrace2 line: ${l}`);
    out.push({ cpu: Number(m[1]), i: Number(m[2]), msg: m[3]! });
  }
  return out;
}

/** Checks that each emitting thread's events are exactly 0..n-1 in order; returns counts per msg. */
export function ticksByThread(ticks: readonly Tick[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const t of ticks) {
    let a = m.get(t.msg);
    if (a === undefined) m.set(t.msg, (a = []));
    a.push(t.i);
  }
  return m;
}
