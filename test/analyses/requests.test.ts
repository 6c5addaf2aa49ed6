// `ltt analyze requests` on a real recording: the kernel (sched, every system call) and an unmodified Node
// server (examples/auto-routes.mjs under `node --import ltt/auto`) in one session of the real CLI and daemon,
// 6 requests per route in flight at once, one request left unfinished by stopping the app. Each route's
// breakdown must show the work the route does, within tolerances that leave room for a loaded machine (the
// tolerances are stated per check). The app and its backend are pinned to CPU 0, kept busy by a nice-19
// spinner: this kernel does not always record the sched_switch out of the idle task (see lttng-analyses.test.ts).
// Then the bad inputs: a trace without ltt/auto events, without kernel events, a kernel trace without sched_switch.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { CLI_MAIN, LttTestEnv, run, sleep, type RunResult } from '../cli/ltt-test-env.js';
import type { RequestBreakdown, RequestsResult } from '../../src/analyses/requests.js';
import { enableRequestEvents, startRoutesApp } from '../auto/routes-app.js';

const skip = process.getuid?.() !== 0 ? 'needs root (tracefs)' : false;
const ROUTES = ['/cpu', '/read', '/timer', '/child', '/fetch', '/pool', '/worker'];
const PER_ROUTE = 6;
const MS = 1e6;

describe('ltt analyze requests', { skip, timeout: 900_000 }, () => {
  let env: LttTestEnv;
  let trace: string;
  let result: RequestsResult;
  let spinner: ChildProcess | undefined;
  let app: ChildProcess | undefined;
  // The first analysis imports the trace (every system call of a loaded machine): minutes, not the usual 60 s.
  const slow = (...args: string[]): Promise<RunResult> => run(process.execPath, [...process.execArgv.filter((a) => !a.startsWith('--test')), CLI_MAIN, ...args], { env: env.env, timeoutMs: 600_000 });
  const ltt = async (...args: string[]): Promise<RunResult> => {
    const r = await env.ltt(...args);
    assert.equal(r.code, 0, `ltt ${args.join(' ')}: ${r.stderr}`);
    return r;
  };

  before(async () => {
    env = new LttTestEnv();
    trace = join(env.root, 'trace');
    await ltt('create', 'requests', '-o', trace);
    await enableRequestEvents(ltt);

    const started = await startRoutesApp(env.env, ['taskset', '-c', '0']);
    app = started.app;
    const { port, exited } = started;
    const get = async (path: string): Promise<void> => {
      const r = await fetch(`http://127.0.0.1:${port}${path}`);
      const body = await r.text();
      assert.equal(r.status, 200, `${path}: ${body}`);
    };
    // Before tracing: the thread pool's threads exist (the statedump names them the app's), code is compiled.
    for (const path of ROUTES) await get(path);

    spinner = spawn('taskset', ['-c', '0', 'nice', '-n', '19', 'sh', '-c', 'while :; do :; done'], { stdio: 'ignore' });
    await ltt('start');
    await sleep(300);
    const hang = fetch(`http://127.0.0.1:${port}/hang`).catch(() => undefined);
    await Promise.all(ROUTES.flatMap((path) => Array.from({ length: PER_ROUTE }, () => get(path))));
    await sleep(300);
    // Stopped with its /hang request open: that one never ends.
    app.kill('SIGTERM');
    assert.equal(await exited, 0);
    await hang;
    await ltt('stop');
    await ltt('destroy');
    spinner.kill();
    spinner = undefined;

    const r = await slow('analyze', 'requests', trace, '--top', '1000', '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    result = JSON.parse(r.stdout) as RequestsResult;
  });

  after(async () => {
    spinner?.kill();
    app?.kill('SIGKILL');
    await env.cleanup();
  });

  const of = (path: string): RequestBreakdown[] => result.slowest.filter((b) => b.path === path);
  const onCpu = (b: RequestBreakdown): number => b.userNs + b.sysNs;
  const blocked = (b: RequestBreakdown): number => b.blocked.reduce((s, x) => s + x.ns, 0);
  const sys = (b: RequestBreakdown, name: string): number => b.syscalls.filter((s) => s.name === name).reduce((t, s) => t + s.ns, 0);
  const show = (b: RequestBreakdown): string => JSON.stringify(b);

  it('finds every request, and the unfinished one', () => {
    assert.equal(result.count, ROUTES.length * PER_ROUTE + 1);
    for (const path of ROUTES) assert.equal(of(path).length, PER_ROUTE, path);
    assert.equal(result.unfinished, 1);
    const hang = of('/hang');
    assert.equal(hang.length, 1);
    assert.equal(hang[0]!.finished, false);
    assert.equal(hang[0]!.status, null);
    for (const b of result.slowest) if (b.path !== '/hang') assert.equal(b.status, 200);
    // The parts add up: work + queued + idle = wall (each part is clamped at 0, hence <=).
    for (const b of result.slowest) assert.ok(b.workNs + b.queuedNs + b.idleNs <= b.wallNs + 1, show(b));
    assert.ok(result.unattributedNs >= 0 && result.unattributedNs <= result.jsCpuNs);
  });

  it("/cpu: its 20 ms of its own thread's CPU time (12-40 ms in the trace), hardly blocked", () => {
    for (const b of of('/cpu')) {
      assert.ok(onCpu(b) >= 12 * MS && onCpu(b) <= 40 * MS, show(b));
      assert.ok(blocked(b) < 5 * MS, show(b));
      assert.ok(b.userNs > b.sysNs, show(b));
    }
  });

  // 16 MiB from the page cache takes ~1 ms on this machine, less on a faster one (CI saw 0.97 ms): the bound is
  // what no memory copies faster than (80 GB/s), and read must be most of the request's kernel time.
  it('/read: its time in read system calls on its own thread (16 MiB: most of its system time, the largest call)', () => {
    for (const b of of('/read')) {
      assert.ok(sys(b, 'read') >= 0.2 * MS, show(b));
      assert.ok(sys(b, 'read') >= 0.5 * b.sysNs, show(b));
      assert.equal(b.syscalls[0]?.name, 'read', show(b));
    }
  });

  it('/timer: waits its 30 ms idle or queued, on CPU under 5 ms', () => {
    for (const b of of('/timer')) {
      assert.ok(b.wallNs >= 29 * MS, show(b));
      assert.ok(b.idleNs + b.queuedNs >= 25 * MS, show(b));
      assert.ok(onCpu(b) < 5 * MS, show(b));
    }
  });

  it('/child: the child process CPU time on its behalf (sh counting to 20000: over 1 ms)', () => {
    for (const b of of('/child')) assert.ok(b.childCpuNs > 1 * MS, show(b));
  });

  it('/fetch: one outgoing request of at least the backend 10 ms', () => {
    for (const b of of('/fetch')) {
      assert.equal(b.clients, 1, show(b));
      assert.ok(b.clientNs >= 9 * MS && b.clientNs <= b.wallNs, show(b));
    }
  });

  it('/pool: its reads done by the thread pool, not its own thread', () => {
    for (const b of of('/pool')) {
      assert.ok(b.poolOps >= 3, show(b));
      const poolRead = b.poolSyscalls.filter((s) => s.name === 'read').reduce((t, s) => t + s.ns, 0);
      assert.ok(poolRead > 0 && poolRead > sys(b, 'read'), show(b));
      assert.ok(b.poolCpuNs > 0, show(b));
    }
  });

  it('/worker: the worker thread CPU time on its behalf (its 20 ms, at least 15 ms)', () => {
    for (const b of of('/worker')) assert.ok(b.workerCpuNs >= 15 * MS, show(b));
  });

  it('text: the slowest with their timelines, per-route percentiles, what it could not attribute', async () => {
    const r = await slow('analyze', 'requests', trace, '--top', '2');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Requests: 43 \(1 unfinished\); not attributed: [\d.]+ ms of/m);
    assert.match(r.stdout, /^ {2}1\. GET \/hang .*unfinished$/m);
    for (const path of ROUTES) assert.match(r.stdout, new RegExp(`^${path} +${PER_ROUTE} `, 'm'));
    assert.equal(r.stdout.match(/^Timeline of request/gm)?.length, 2);
    assert.match(r.stdout, /unfinished at the end of the trace$/m);
    // The requests are a table of the engine, for SQL and exports.
    const q = await slow('query', trace, 'SELECT count(*) AS n, count(*) FILTER (WHERE NOT finished) AS open FROM requests', '--format', 'csv');
    assert.equal(q.code, 0, q.stderr);
    assert.match(q.stdout, /^n,open\n43,1\n$/);
  });

  it('bad input: one line naming what is missing and the command that records it', async () => {
    // A small kernel trace with system calls but no sched_switch.
    const noSched = join(env.root, 'nosched');
    await ltt('create', 'nosched', '-o', noSched);
    await ltt('enable-event', '-k', '--syscall', 'read,write,openat,close');
    await ltt('start');
    await sleep(200);
    await ltt('stop');
    await ltt('destroy');
    const kernelOnly = await slow('analyze', 'requests', join(noSched, 'kernel'));
    assert.equal(kernelOnly.code, 1);
    assert.match(kernelOnly.stderr, /^Error: requests needs ltt\/auto's node:request_start events, which the trace lacks: .*`ltt enable-event -u 'node:\*'`\n$/);
    const ustOnly = await slow('analyze', 'requests', join(trace, 'ust'));
    assert.equal(ustOnly.code, 1);
    assert.match(ustOnly.stderr, /^Error: requests needs kernel events, which the trace lacks: record them with `ltt enable-event -k sched_switch.*--syscall -a`\n$/);
    const r = await slow('analyze', 'requests', join(trace, 'ust'), join(noSched, 'kernel'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: requests needs sched_switch events, which the kernel trace lacks: record them with `ltt enable-event -k sched_switch,sched_waking,sched_wakeup`\n$/);
  });
});
