// Test environment for the control plane: a private $LTT_HOME and runtime directory per test, the real `ltt`
// CLI and `ltt-sessiond` run as separate processes (same Node, same loader flags, so this works from dist/
// under `npm test` and from the sources under tsx), and a cleanup that always stops the daemon it started
// (by its pid file) and removes the directory, even when the test failed.

import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlClient } from '../../src/control/client.js';
import { REPO_ROOT } from '../repo-paths.js';

function modulePath(relative: string): string {
  const js = fileURLToPath(new URL(`${relative}.js`, import.meta.url));
  return existsSync(js) ? js : fileURLToPath(new URL(`${relative}.ts`, import.meta.url));
}

export const CLI_MAIN = modulePath('../../src/cli/main');
/** What users run: bin/ltt (its bundles while fresh) for a build, main.ts itself under tsx. */
export const CLI_BIN = CLI_MAIN.endsWith('.js') ? join(REPO_ROOT, 'bin', 'ltt') : CLI_MAIN;
export const SESSIOND_MAIN = modulePath('../../src/sessiond/main');
export const EXEC_ARGV = process.execArgv.filter((a) => !a.startsWith('--test') && !a.startsWith('--inspect'));

let readableCopy: string | undefined;

/**
 * `file` (a module of this checkout's build) as another user can run it: itself when every folder above the
 * checkout lets others through, else its twin in a world-readable copy of the build (dist/ and package.json:
 * ltt has no runtime dependencies), made once per test process and removed when it exits. Otherwise a checkout
 * in a private folder (a `mktemp -d` clone) fails with "Cannot find module" for `nobody`. Under tsx (sources)
 * the file is returned as is: the loader itself lives in the checkout.
 */
export function readableByOthers(file: string): string {
  if (file.endsWith('.ts')) return file;
  const open = (dir: string): boolean => (statSync(dir).mode & 0o005) === 0o005 && (dir === '/' || open(dirname(dir)));
  if (open(dirname(file))) return file;
  if (readableCopy === undefined) {
    const copy = mkdtempSync('/tmp/ltt-build-');
    chmodSync(copy, 0o755);
    process.once('exit', () => rmSync(copy, { recursive: true, force: true }));
    cpSync(join(REPO_ROOT, 'dist'), join(copy, 'dist'), { recursive: true });
    cpSync(join(REPO_ROOT, 'package.json'), join(copy, 'package.json'));
    readableCopy = copy;
  }
  return join(readableCopy, relative(REPO_ROOT, file));
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function run(
  file: string,
  args: string[],
  options: SpawnOptions & { input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...options, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} ${args.join(' ')} did not finish within ${options.timeoutMs ?? 60000} ms`));
    }, options.timeoutMs ?? 60000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
    // A child that exits before reading its stdin (ltt with no arguments prints usage at once) makes this write
    // fail with EPIPE; that is not a test failure.
    child.stdin!.on('error', () => {});
    child.stdin!.end(options.input ?? '');
  });
}

export class LttTestEnv {
  readonly root = mkdtempSync('/tmp/ltt-ctl-');
  readonly home = join(this.root, 'home');
  readonly rundir = join(this.root, 'run');
  readonly env: NodeJS.ProcessEnv;

  constructor(extraEnv: NodeJS.ProcessEnv = {}) {
    this.env = {
      ...process.env,
      LTT_HOME: this.home,
      LTT_RUNDIR: this.rundir,
      // Where the kernel domain records instance owners; private so reclaim tests only see their own.
      LTT_KERNEL_OWNER_DIR: join(this.root, 'kernel-owners'),
      // Apps wait for registration as long as it takes: on a loaded CI machine the default bound (500 ms) can
      // pass, and a test that counts events must not depend on the machine's load.
      LTT_UST_REGISTER_TIMEOUT: '20000',
      ...extraEnv,
    };
    // The home must exist (it holds .lttrc and ltt-traces/).
    mkdirSync(this.home, { recursive: true });
  }

  /** Runs `ltt ARGS` and collects its output. */
  ltt(...args: string[]): Promise<RunResult> {
    return this.lttWith({}, ...args);
  }

  /** Runs `ltt ARGS` with `extra` over this environment's variables. */
  lttWith(extra: NodeJS.ProcessEnv, ...args: string[]): Promise<RunResult> {
    return run(process.execPath, [...EXEC_ARGV, CLI_BIN, ...args], { env: { ...this.env, ...extra } });
  }

  /** Runs `ltt-sessiond ARGS`. */
  sessiond(...args: string[]): Promise<RunResult> {
    return run(process.execPath, [...EXEC_ARGV, SESSIOND_MAIN, ...args], { env: this.env });
  }

  daemonPid(): number | undefined {
    try {
      return Number.parseInt(readFileSync(join(this.rundir, 'ltt-sessiond.pid'), 'utf8'), 10);
    } catch {
      return undefined;
    }
  }

  log(): string {
    try {
      return readFileSync(join(this.rundir, 'ltt-sessiond.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /**
   * Stops the daemon (SIGTERM, then SIGKILL after 10 s), removes any tracefs instance a daemon of this
   * environment still owns (a test that failed, or killed its daemon, must not leak instances), then the files.
   */
  async cleanup(): Promise<void> {
    const pid = this.daemonPid();
    if (pid !== undefined && alive(pid)) {
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + 10000;
      while (alive(pid) && Date.now() < deadline) await sleep(50);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    removeOwnedInstances(join(this.root, 'kernel-owners'));
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Removes the tracefs instances listed in the kernel domain's owner records of a test environment. */
function removeOwnedInstances(ownerDir: string): void {
  let files: string[];
  try {
    files = readdirSync(ownerDir);
  } catch {
    return;
  }
  for (const file of files) {
    let record: { instances?: string[] };
    try {
      record = JSON.parse(readFileSync(join(ownerDir, file), 'utf8')) as { instances?: string[] };
    } catch {
      continue;
    }
    for (const instance of record.instances ?? []) {
      const dir = join('/sys/kernel/tracing/instances', instance);
      if (!instance.startsWith('ltt-') || !existsSync(dir)) continue;
      try {
        writeFileSync(join(dir, 'tracing_on'), '0');
        writeFileSync(join(dir, 'events/enable'), '0');
        rmdirSync(dir);
      } catch {
        // Still in use by a live daemon of this environment: nothing more a cleanup can do.
      }
    }
  }
}

/** Whether `pid` runs. A zombie does not: detached daemons are reparented to an init that may reap late. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `pid` has exited (or the deadline passes); returns whether it exited. */
export async function waitExit(pid: number, timeoutMs = 10000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < deadline) await sleep(20);
  return !alive(pid);
}

/** Runs `ltt ARGS` as another user (uid, gid), from / and from a build that user can read. */
export function lttAs(user: { uid: number; gid: number }, env: NodeJS.ProcessEnv, ...args: string[]): Promise<RunResult> {
  return run(process.execPath, [...EXEC_ARGV, readableByOthers(CLI_MAIN), ...args], { env, uid: user.uid, gid: user.gid, cwd: '/' });
}

/**
 * Runs ltt-sessiond in the foreground as a child of the test (so the test reaps it and can SIGKILL it) and
 * resolves once its socket answers.
 */
export async function startForegroundDaemon(
  env: LttTestEnv,
  args: string[] = [],
  options: SpawnOptions = {},
): Promise<ChildProcess> {
  const main = options.uid !== undefined && options.uid !== process.getuid?.() ? readableByOthers(SESSIOND_MAIN) : SESSIOND_MAIN;
  const child = spawn(process.execPath, [...EXEC_ARGV, main, '--rundir', env.rundir, ...args], {
    env: env.env,
    stdio: ['ignore', 'ignore', 'pipe'],
    ...options,
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`ltt-sessiond exited with ${child.exitCode}: ${stderr}`);
    if (await ControlClient.isAlive(env.rundir, { connectTimeoutMs: 1000 })) return child;
    await sleep(30);
  }
  child.kill('SIGKILL');
  throw new Error(`ltt-sessiond did not serve within 15 s: ${stderr}`);
}

/** Resolves with the exit code (or signal name) of a child once it has exited. */
export function exited(child: ChildProcess): Promise<number | string> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode !== null) return Promise.resolve(child.signalCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
}

/** Entries of `dir` (itself included) whose mode is not LTTng's (folders 0770, files 0660), as "mode path". */
export function badModes(dir: string): string[] {
  const out: string[] = [];
  const check = (p: string) => {
    const st = lstatSync(p);
    const mode = st.mode & 0o7777;
    if (mode !== (st.isDirectory() ? 0o770 : 0o660)) out.push(`${mode.toString(8)} ${p}`);
    if (st.isDirectory()) for (const name of readdirSync(p)) check(join(p, name));
  };
  check(dir);
  return out;
}
