// What the robustness tests share: a tiny tmpfs (a disk that fills up for real) that is always unmounted, a
// traced app driven line by line on stdin (so a test decides when it emits, and can SIGKILL it mid-run), and
// small readers of `ltt list` and babeltrace2 output.

import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { LttTestEnv, RunResult } from '../cli/ltt-test-env.js';
import { BT, ROOT } from '../ust/helpers.js';

export interface Tmpfs {
  readonly dir: string;
  unmount(): void;
}

/** Mounts a tmpfs of `size` (e.g. "512k") on a fresh directory under /tmp. */
export function mountTmpfs(size: string): Tmpfs {
  const dir = mkdtempSync('/tmp/ltt-full-');
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (m.status !== 0) {
    rmdirSync(dir);
    throw new Error(`mount -t tmpfs failed: ${m.stderr}`);
  }
  return {
    dir,
    unmount() {
      // A process of a failed test may still hold a file there: detach lazily rather than leak the mount.
      if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
      try {
        rmdirSync(dir);
      } catch {
        // Still busy (lazy unmount): the directory goes with the last holder.
      }
    },
  };
}

/** Fills the file system of `dir` to the last byte with a file named `filler`; returns its size. */
export function fillDisk(dir: string): number {
  const fd = openSync(join(dir, 'filler'), 'w');
  const chunk = Buffer.alloc(4096, 0x55);
  let size = 0;
  try {
    for (;;) size += writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return size;
}

export async function ok(env: LttTestEnv, ...args: string[]): Promise<RunResult> {
  const r = await env.ltt(...args);
  assert.equal(r.code, 0, `ltt ${args.join(' ')}: ${r.stderr}`);
  return r;
}

export function outputOf(create: RunResult): string {
  const line = create.stdout.split('\n').find((l) => l.startsWith('Traces will be written in '));
  assert.ok(line, create.stdout);
  return line.slice('Traces will be written in '.length);
}

/** "Discarded events: N" / "Lost packets: N" of the first channel in `ltt list SESSION` output. */
export function listedCount(list: string, what: 'Discarded events' | 'Lost packets'): number {
  const m = new RegExp(`${what}: +(\\d+)`).exec(list);
  assert.ok(m, list);
  return Number(m[1]);
}

export interface Bt2 {
  readonly status: number | null;
  readonly lines: string[];
  readonly stderr: string;
}

export function bt2(dir: string): Bt2 {
  const p = spawnSync(BT, [dir], { encoding: 'utf8', maxBuffer: 1 << 30 });
  return { status: p.status, lines: p.stdout.split('\n').filter((l) => l !== ''), stderr: p.stderr };
}

/** The per-PID trace folders under OUT/ust/pid/. */
export function pidTraces(out: string): string[] {
  const base = join(out, 'ust', 'pid');
  return existsSync(base) ? readdirSync(base).map((d) => join(base, d)) : [];
}

/**
 * An app driven on stdin: "emit TAG N" emits N demo:tick (i = 0..N-1, msg = TAG), and as many demo:other (i)
 * with `other`, then prints "done TAG"; "quit" exits. It prints "ready" once loaded.
 */
export function drivenAppSource(other = false): string {
  return `
const tick = ust.provider('demo').event('tick', [ust.int32('i'), ust.string('msg')], { logLevel: 'TRACE_INFO' });
${other ? "const other = ust.provider('demo').event('other', [ust.int32('i')], { logLevel: 'TRACE_INFO' });" : ''}
process.stdin.setEncoding('utf8');
let buf = '';
process.stdin.on('data', (d) => {
  buf += d;
  let nl;
  while ((nl = buf.indexOf('\\n')) >= 0) {
    const [cmd, tag, n] = buf.slice(0, nl).split(' ');
    buf = buf.slice(nl + 1);
    if (cmd === 'quit') process.exit(0);
    for (let i = 0; i < Number(n); i++) { if (tick.enabled) tick.emit(i, tag);${other ? ' if (other.enabled) other.emit(i);' : ''} }
    process.stdout.write('done ' + tag + '\\n');
  }
});
process.stdout.write('ready\\n');
`;
}

export interface Driven {
  readonly pid: number;
  emit(tag: string, n: number): Promise<void>;
  quit(): Promise<number | null>;
  kill(): Promise<void>;
  stderr(): string;
}

export function startDrivenApp(env: LttTestEnv, script: string): Promise<Driven> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [script], { cwd: ROOT, env: env.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const waiters: Array<{ text: string; resolve: () => void }> = [];
    const exit = new Promise<number | null>((r) => c.once('exit', (code) => r(code)));
    c.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => {
      c.kill('SIGKILL');
      reject(new Error(`app did not get ready: ${err}`));
    }, 30_000);
    c.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      for (const w of [...waiters]) {
        if (out.includes(w.text)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
      if (out.includes('ready\n')) {
        clearTimeout(timer);
        resolve({
          pid: c.pid!,
          emit: (tag, n) =>
            new Promise<void>((r) => {
              waiters.push({ text: `done ${tag}\n`, resolve: r });
              c.stdin.write(`emit ${tag} ${n}\n`);
            }),
          quit: () => {
            c.stdin.write('quit\n');
            return exit;
          },
          kill: async () => {
            c.kill('SIGKILL');
            await exit;
          },
          stderr: () => err,
        });
      }
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
