// What the relay tests share: free loopback ports, a running ltt-relayd or lttng-relayd on them (stopped by the
// test), a real lttng-sessiond streaming the texts app (lttng-stream.sh), and babeltrace2's text without
// timestamps (two recordings of one app differ only there).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../repo-paths.js';

export const LTT_RELAYD = join(REPO_ROOT, 'bin', 'ltt-relayd');
export const STREAM_SCRIPT = join(REPO_ROOT, 'test', 'relay', 'lttng-stream.sh');
export const BT2 = '/usr/bin/babeltrace2';

/** Why the real-peer tests cannot run here, or false. */
export function missingPeers(): string | false {
  if (process.getuid?.() !== 0) return 'not root (lttng-sessiond runs in a private mount namespace)';
  for (const t of [BT2, '/usr/bin/lttng', '/usr/bin/lttng-sessiond', '/usr/bin/lttng-relayd', '/usr/bin/gcc', '/usr/bin/unshare', '/usr/bin/taskset']) {
    if (!existsSync(t)) return `${t} not installed`;
  }
  return false;
}

/** `count` distinct free TCP ports on 127.0.0.1 (the kernel's choice, released just before use). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<import('node:net').Server>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as import('node:net').AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

export interface Relay {
  readonly ports: { control: number; data: number; live: number };
  readonly output: string;
  readonly child: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Starts `ltt` (ltt-relayd) or `lttng` (lttng-relayd) in the foreground on free ports, writing under `output`;
 * control and data on `streamAddress` (0.0.0.0 for session daemons in other network namespaces), live on loopback.
 */
export async function startRelay(kind: 'ltt' | 'lttng', output: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}, streamAddress = '127.0.0.1'): Promise<Relay> {
  const [control, data, live] = (await freePorts(3)) as [number, number, number];
  const url = (p: number, address = '127.0.0.1') => `tcp://${address}:${p}`;
  const args = ['-C', url(control, streamAddress), '-D', url(data, streamAddress), '-L', url(live), '-o', output, ...extra];
  const child =
    kind === 'ltt'
      ? spawn(process.execPath, [LTT_RELAYD, ...args], { env: { ...process.env, LTT_RUNDIR: join(output, '..', 'ltt-run'), ...env }, stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn('lttng-relayd', args, { env: { ...process.env, LTTNG_HOME: join(output, '..'), ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (err += t));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; !(await canConnect(live)); i++) {
    if (child.exitCode !== null || i > 200) {
      child.kill('SIGKILL');
      throw new Error(`${kind} relay did not start: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    ports: { control, data, live },
    output,
    child,
    stderr: () => err,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** What lttng-stream.sh does besides one app run (its CREATE_OPTS, SETUP and STEPS). */
export interface StreamSteps {
  createOpts?: string;
  setup?: string;
  steps?: string;
}

function stepsEnv(steps: StreamSteps): NodeJS.ProcessEnv {
  return { ...process.env, CREATE_OPTS: steps.createOpts ?? '', SETUP: steps.setup ?? '', STEPS: steps.steps ?? 'app' };
}

/** Runs lttng-stream.sh against a relay's control and data ports; its output; throws with its stderr when it fails. */
export function streamWithLttng(relay: Relay, session: string, iterations: number, steps: StreamSteps = {}): string {
  const r = spawnSync('bash', [STREAM_SCRIPT, `tcp://127.0.0.1:${relay.ports.control}`, `tcp://127.0.0.1:${relay.ports.data}`, session, String(iterations)], {
    encoding: 'utf8',
    timeout: 180_000,
    env: stepsEnv(steps),
  });
  if (r.status !== 0) throw new Error(`lttng-stream.sh: ${r.stderr}${r.error ?? ''}`);
  return r.stdout;
}

/** Every file under `dir`, relative, sorted. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** babeltrace2's text of `inputs` with each line's timestamp and delta cut (the rest must match exactly). */
export function babeltraceText(args: string[]): { text: string; err: string; code: number | null; lines: number } {
  const r = spawnSync(BT2, args, { encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, TZ: 'UTC' } });
  const text = r.stdout.replace(/^\[[^\]]*\] \([^)]*\) /gm, '');
  return { text, err: r.stderr, code: r.status, lines: text.split('\n').length - 1 };
}

/** A live recording under way (lttng-stream.sh with a GO file): its output lines as they come. */
export interface LiveRecording {
  /** Resolves once the script printed `line`. */
  reached(line: 'started' | 'stopping'): Promise<void>;
  go(): void;
  done: Promise<void>;
  /** What the script printed so far. */
  output(): string;
}

export function startLiveRecording(relay: Relay, session: string, iterations: number, liveUs: number, pauseUs: number, goFile: string, steps: StreamSteps = {}): LiveRecording {
  const child = spawn('bash', [STREAM_SCRIPT, `tcp://127.0.0.1:${relay.ports.control}`, `tcp://127.0.0.1:${relay.ports.data}`, session, String(iterations), String(liveUs), String(pauseUs), goFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: stepsEnv(steps),
  });
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  child.stdout!.setEncoding('utf8').on('data', (t: string) => {
    out += t;
    for (const w of waiters.splice(0)) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (err += t));
  const done = new Promise<void>((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`lttng-stream.sh exited with ${code}: ${err}`)))),
  );
  return {
    reached: (line) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (out.split('\n').includes(line)) resolve();
          else if (child.exitCode !== null) reject(new Error(`lttng-stream.sh ended before "${line}": ${err}`));
          else waiters.push(check);
        };
        done.catch(reject);
        check();
      }),
    go: () => writeFileSync(goFile, ''),
    done,
    output: () => out,
  };
}

/** One stream of a stored LTTng trace folder: its packets as the index lists them. */
export interface StoredStream {
  channel: string;
  packets: Array<{ bytes: Buffer; entry: Buffer }>;
}

/** The metadata and data streams of one trace folder (`metadata`, CHANNEL_CPU files with index/CHANNEL_CPU.idx). */
export function readStoredTrace(dir: string): { metadata: Buffer; streams: StoredStream[] } {
  const streams: StoredStream[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name === 'metadata' || name === 'index') continue;
    const data = readFileSync(join(dir, name));
    const idx = readFileSync(join(dir, 'index', `${name}.idx`));
    const size = idx.readUInt32BE(12);
    const packets = [];
    for (let at = 16; at + size <= idx.length; at += size) {
      const entry = idx.subarray(at, at + size);
      const offset = Number(entry.readBigUInt64BE(0));
      packets.push({ bytes: data.subarray(offset, offset + Number(entry.readBigUInt64BE(8)) / 8), entry });
    }
    streams.push({ channel: name, packets });
  }
  return { metadata: readFileSync(join(dir, 'metadata')), streams };
}
