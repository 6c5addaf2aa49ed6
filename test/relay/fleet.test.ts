// Many hosts, one relay: three network namespaces made here, each its own host (own UTS name, own ltt-sessiond
// with its own LTT_RUNDIR/LTT_HOME), joined by veth pairs with private addresses to one ltt-relayd in the root
// namespace. All hosts stream a live kernel + ltt/ust session at once; one `ltt view net://...` per host follows
// its session while it records; afterwards each host's trace is whole under OUTPUT/HOSTNAME and babeltrace2
// reads it. Kernel tracing is machine-wide: each host's workload runs a program under a name of its own and
// its session filters on that procname, so the counts are exact per host (and differ between hosts, so a trace
// stored under the wrong host would show). Namespaces, veths, daemons and tracefs instances go even on failure.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_MAIN, EXEC_ARGV, LttTestEnv, run, sleep } from '../cli/ltt-test-env.js';
import { REPO_ROOT } from '../repo-paths.js';
import { BT2, startRelay, type Relay } from './relay-helpers.js';

const skip =
  process.getuid?.() !== 0
    ? 'needs root (network namespaces, kernel tracing)'
    : ['/usr/sbin/ip', '/usr/bin/unshare', '/usr/bin/nsenter', BT2].find((t) => !existsSync(t))?.concat(' not installed') ?? false;

const HOSTS = 3;
const APP_EVENTS = 20;
const LTT = [process.execPath, ...EXEC_ARGV, CLI_MAIN];

interface Host {
  index: number;
  hostname: string;
  netns: string;
  address: string;
  /** The program the workload runs (a link to true): its name is the procname the session filters on. */
  program: string;
  /** Workload runs: each makes one sched_process_exec, one sched_process_exit, one exit_group entry. */
  runs: number;
  env: LttTestEnv;
  daemon?: number;
}

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

/** Runs `argv` inside the host's network and UTS namespaces (those of its ltt-sessiond). */
function inHost(h: Host, argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return run('nsenter', ['-t', String(h.daemon), '-n', '-u', ...argv], { env: h.env.env, timeoutMs: 120_000 });
}

async function ok(h: Host, ...args: string[]): Promise<string> {
  const r = await h.env.ltt(...args);
  assert.equal(r.code, 0, `${h.hostname}: ltt ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function count(text: string, pattern: RegExp): number {
  return text.split('\n').filter((l) => pattern.test(l)).length;
}

/** The lines of a host's own events in a babeltrace2 text: name => count. */
function hostCounts(h: Host, text: string): Record<string, number> {
  const name = h.program.split('/').pop()!;
  return {
    exec: count(text, new RegExp(` sched_process_exec: .*filename = "${h.program}"`)),
    exit: count(text, new RegExp(` sched_process_exit: .*comm = "${name}"`)),
    exit_group: count(text, / syscall_entry_exit_group: /),
    tick: count(text, / demo:tick: /),
  };
}

const expected = (h: Host) => ({ exec: h.runs, exit: h.runs, exit_group: h.runs, tick: 2 * APP_EVENTS });

/** Creates the host's session, from inside its namespaces: the session daemon it spawns stays in them. */
async function createSession(h: Host, relay: Relay): Promise<void> {
  const script = 'hostname "$0" && ip link set lo up && exec "$@"';
  const r = await run(
    'nsenter',
    [`--net=/run/netns/${h.netns}`, 'unshare', '-u', 'sh', '-c', script, h.hostname, ...LTT, 'create', 'fleet', '--live=100000', '-U', `net://${h.address.replace(/\.2$/, '.1')}:${relay.ports.control}:${relay.ports.data}`],
    { env: h.env.env, timeoutMs: 60_000 },
  );
  assert.equal(r.code, 0, `${h.hostname}: create: ${r.stderr}`);
  h.daemon = h.env.daemonPid();
  assert.ok(h.daemon !== undefined, `${h.hostname}: its ltt-sessiond`);
  const name = h.program.split('/').pop()!;
  await ok(h, 'enable-event', '-k', 'sched_process_exec,sched_process_exit', '--filter', `$ctx.procname == "${name}"`);
  await ok(h, 'enable-event', '-k', '--syscall', 'exit_group', '--filter', `$ctx.procname == "${name}"`);
  await ok(h, 'enable-event', '-u', 'demo:tick');
}

function workload(h: Host, runs: number): Promise<unknown> {
  return inHost(h, ['sh', '-c', `i=0; while [ $i -lt ${runs} ]; do ${h.program}; i=$((i+1)); done`]);
}

interface Viewer {
  child: ChildProcess;
  out: string;
  err: string;
  ended: Promise<void>;
}

function startViewer(url: string): Viewer {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'ltt'), 'view', url], { stdio: ['ignore', 'pipe', 'pipe'] });
  const v: Viewer = { child, out: '', err: '', ended: new Promise((resolve) => child.once('exit', () => resolve())) };
  child.stdout!.setEncoding('utf8').on('data', (t: string) => (v.out += t));
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (v.err += t));
  return v;
}

/** The lines of a host's own kernel events, without the delta (a viewer starts at its first line). */
function kernelLines(h: Host, text: string): string[] {
  const name = h.program.split('/').pop()!;
  const own = new RegExp(`filename = "${h.program}"|comm = "${name}"| syscall_entry_exit_group: `);
  return text.split('\n').filter((l) => own.test(l)).map((l) => l.replace(/ \(\+[^)]*\)/, ''));
}

/**
 * One host's whole life: live session, viewer, workload (part while followed, the rest after), stop, destroy.
 * The viewer attaches at the newest packets (as babeltrace2 does): what ran before may be missed; `after` runs
 * follow the first one it showed and must all show.
 */
async function recordHost(h: Host, relay: Relay, viewers: Viewer[]): Promise<{ viewer: Viewer; after: number }> {
  await createSession(h, relay);
  await ok(h, 'start');
  const viewer = startViewer(`net://127.0.0.1:${relay.ports.live}/host/${h.hostname}/fleet`);
  viewers.push(viewer);
  // Events seen by the viewer while the session records: run the program until its exec shows up live.
  let done = 0;
  for (const deadline = Date.now() + 60_000; hostCounts(h, viewer.out).exec === 0; await sleep(200)) {
    assert.ok(Date.now() < deadline, `${h.hostname}: no live event within 60 s: ${viewer.err}`);
    assert.equal(viewer.child.exitCode, null, `${h.hostname}: ltt view ended: ${viewer.err}`);
    await workload(h, 1);
    done++;
  }
  assert.match(await ok(h, 'list', 'fleet'), /^Recording session fleet: \[active\]/);
  // The relay holds the session as several relay sessions (kernel consumer, ltt/ust): listed once, as babeltrace2
  // lists them, with the viewer attached.
  const listed = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'ltt'), 'view', '-i', 'lttng-live', `net://127.0.0.1:${relay.ports.live}`], { encoding: 'utf8' });
  assert.equal(listed.status, 0, listed.stderr);
  const mine = listed.stdout.split('\n').filter((l) => l.includes(`/host/${h.hostname}/`));
  assert.equal(mine.length, 1, listed.stdout);
  assert.match(mine[0]!, new RegExp(`^net://127\\.0\\.0\\.1:${relay.ports.live}/host/${h.hostname}/fleet \\(timer = 100000, \\d+ stream\\(s\\), 1 client\\(s\\) connected\\)$`));
  h.runs = Math.max(h.runs, done);
  const after = h.runs - done;
  await workload(h, after);
  const app = await inHost(h, [process.execPath, join(REPO_ROOT, 'examples', 'ust-demo.mjs'), String(APP_EVENTS)]);
  assert.equal(app.code, 0, app.stderr);
  await ok(h, 'stop');
  await ok(h, 'destroy');
  return { viewer, after };
}

test('three hosts (network namespaces) stream live to one ltt-relayd at once: each followed live, each stored whole under its hostname', { skip, timeout: 600_000 }, async () => {
  const tag = `${process.pid % 100000}`;
  const subnet = 100 + (process.pid % 100);
  const hosts: Host[] = [];
  let relay: Relay | undefined;
  const viewers: Viewer[] = [];
  const root = new LttTestEnv();
  try {
    mkdirSync(join(root.root, 'bin'));
    for (let i = 0; i < HOSTS; i++) {
      const name = `fl${tag}h${i}`;
      const h: Host = {
        index: i,
        hostname: `ltt-fleet-${tag}-${i}`,
        netns: `ltt-fleet-${tag}-${i}`,
        address: `10.${subnet}.${i}.2`,
        program: join(root.root, 'bin', name),
        runs: 5 + 3 * i,
        env: new LttTestEnv(),
      };
      hosts.push(h);
      symlinkSync('/usr/bin/true', h.program);
      ip('netns', 'add', h.netns);
      ip('link', 'add', `${name}r`, 'type', 'veth', 'peer', 'name', `${name}n`, 'netns', h.netns);
      ip('addr', 'add', `10.${subnet}.${i}.1/24`, 'dev', `${name}r`);
      ip('link', 'set', `${name}r`, 'up');
      ip('-n', h.netns, 'addr', 'add', `${h.address}/24`, 'dev', `${name}n`);
      ip('-n', h.netns, 'link', 'set', `${name}n`, 'up');
    }
    relay = await startRelay('ltt', join(root.root, 'relay', 'out'), [], {}, '0.0.0.0');
    const r = relay;
    const followed = await Promise.all(hosts.map((h) => recordHost(h, r, viewers)));

    // Each viewer ends by itself once its session is destroyed, with every event of its host (and no other's).
    for (const { viewer: v } of followed) {
      const timer = setTimeout(() => v.child.kill('SIGKILL'), 60_000);
      await v.ended;
      clearTimeout(timer);
    }
    for (const [i, h] of hosts.entries()) {
      const folders = readdirSync(join(r.output, h.hostname));
      assert.equal(folders.length, 1, folders.join(' '));
      assert.match(folders[0]!, /^fleet-\d{8}-\d{6}$/);
      const dir = join(r.output, h.hostname, folders[0]!);
      assert.equal(readdirSync(join(dir, 'ust', 'uid')).length, 1, `${h.hostname}: one user's trace (per-UID)`);
      const bt = spawnSync(BT2, [dir], { encoding: 'utf8', maxBuffer: 1 << 28 });
      assert.equal(bt.status, 0, bt.stderr);
      assert.equal(bt.stderr, '');
      assert.deepEqual(hostCounts(h, bt.stdout), expected(h), `${h.hostname}: its stored trace`);
      assert.equal(count(bt.stdout, new RegExp(`\\b${h.hostname}\\b`)), count(bt.stdout, /./), `${h.hostname}: every event names its host`);

      // The viewer: no error, and the stored kernel events from its first one on, the same lines. (Not yet the
      // app's events: neither ltt view nor babeltrace2 gets them live from ltt-relayd when the app registers
      // after the viewer attached; see the report of this test's commit.)
      const { viewer: v, after } = followed[i]!;
      assert.equal(v.child.exitCode, 0, `${h.hostname}: ltt view: ${v.err}`);
      assert.equal(v.err, '');
      const live = kernelLines(h, v.out);
      const stored = kernelLines(h, bt.stdout);
      assert.ok(hostCounts(h, v.out).exec >= after + 1, `${h.hostname}: ${hostCounts(h, v.out).exec} execs live, ${after + 1} expected at least`);
      assert.deepEqual(live, stored.slice(stored.length - live.length), `${h.hostname}: the live lines are the stored ones`);
    }
  } finally {
    for (const v of viewers) v.child.kill('SIGKILL');
    for (const h of hosts) await h.env.cleanup().catch(() => undefined);
    await relay?.stop();
    // Deleting a namespace deletes its veth end, and with it the root-namespace peer.
    for (const h of hosts) spawnSync('ip', ['netns', 'delete', h.netns]);
    await root.cleanup();
  }
});
