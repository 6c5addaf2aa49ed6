// ltt-sessiond rotating and clearing a kernel + ltt/ust session that streams to a relay, all real processes: the
// same cases against lttng-relayd and ltt-relayd (the relay is the parameter). A running app (examples/ust-demo.mjs
// in its stdin mode) and `chroot / true` execs record a known number of events in each phase: rotate twice, a
// rotation schedule, clear, then destroy (which archives the last chunk of a rotated session). The relay's
// archives/ must hold one chunk folder per rotation, each read by babeltrace2 with exactly that phase's events
// (nothing lost, nothing duplicated, the cleared phase nowhere), and `ltt view` must print what babeltrace2 prints.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ChrootRuns } from './chroot-runs.js';
import { LttTestEnv, sleep } from '../cli/ltt-test-env.js';
import { REPO_ROOT } from '../repo-paths.js';
import { BT2, startRelay, type Relay } from './relay-helpers.js';

const skip = process.getuid?.() !== 0 ? 'needs root (kernel tracing)' : !existsSync('/usr/bin/lttng-relayd') ? 'lttng-relayd not installed' : false;
const RELAYS: ReadonlyArray<'lttng' | 'ltt'> = ['lttng', 'ltt'];

const chroots = new ChrootRuns();

function execChroot(n: number): void {
  chroots.run(n);
}

function count(text: string): { execs: number; ticks: number } {
  return {
    execs: chroots.count(text),
    ticks: text.split('\n').filter((l) => / demo:tick: .*msg = "more"/.test(l)).length,
  };
}

async function ok(env: LttTestEnv, ...args: string[]): Promise<string> {
  const r = await env.ltt(...args);
  assert.equal(r.code, 0, `ltt ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.replace(/^Spawning a session daemon\n/, '');
}

/** examples/ust-demo.mjs in stdin mode: emit(k) records k demo:tick events (msg "more") and waits for them. */
async function startApp(env: LttTestEnv): Promise<{ emit(k: number): Promise<void>; end(): Promise<void> }> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'examples', 'ust-demo.mjs'), '0', 'stdin'], { env: env.env, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => String((await lines.next()).value);
  assert.equal(await next(), 'ready');
  return {
    async emit(k) {
      child.stdin!.write(`${k}\n`);
      assert.equal(await next(), `done ${k}`);
    },
    async end() {
      child.stdin!.end();
      await new Promise((r) => child.once('exit', r));
    },
  };
}

function bt2(dir: string): string {
  const r = spawnSync(BT2, [dir], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, `babeltrace2 ${dir}: ${r.stderr}`);
  assert.equal(r.stderr, '');
  const view = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'ltt'), 'view', dir], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(view.status, 0, view.stderr);
  assert.equal(view.stdout, r.stdout, `${dir}: ltt view prints what babeltrace2 prints`);
  return r.stdout;
}

async function until(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    assert.ok(Date.now() < deadline, `${what} within ${ms / 1000} s`);
    await sleep(100);
  }
}

for (const kind of process.env.LTT_TEST_RELAY ? [process.env.LTT_TEST_RELAY as 'ltt' | 'lttng'] : RELAYS) {
  test(`a kernel + ltt/ust session on ${kind}-relayd: rotate twice, a rotation schedule, clear, destroy; each archive holds its phase's events`, { skip, timeout: 400_000 }, async () => {
    const env = new LttTestEnv();
    let relay: Relay | undefined;
    let app: Awaited<ReturnType<typeof startApp>> | undefined;
    try {
      relay = await startRelay(kind, join(env.root, 'relay', 'out'), process.env.LTT_TEST_RELAY_VERBOSE ? ['-vvv'] : []);
      const { control, data } = relay.ports;
      await ok(env, 'create', 'rot', '-U', `net://127.0.0.1:${control}:${data}`);
      await ok(env, 'enable-event', '-k', 'sched_process_exec');
      await ok(env, 'enable-event', '-u', 'demo:tick');
      await ok(env, 'start');
      app = await startApp(env);
      const sessionDir = (): string => {
        const found = readdirSync(join(relay!.output, hostname())).filter((d) => /^rot-\d{8}-\d{6}$/.test(d));
        assert.equal(found.length, 1);
        return join(relay!.output, hostname(), found[0]!);
      };
      const archives = (): string[] => (existsSync(join(sessionDir(), 'archives')) ? readdirSync(join(sessionDir(), 'archives')).sort() : []);
      const phases: Array<{ execs: number; ticks: number }> = [];
      const record = async (execs: number, ticks: number): Promise<void> => {
        execChroot(execs);
        await app!.emit(ticks);
      };

      // Two manual rotations: lttng's words, the relay's archive path.
      for (const [execs, ticks] of [[5, 20], [6, 30]] as const) {
        await record(execs, ticks);
        phases.push({ execs, ticks });
        const out = await ok(env, 'rotate');
        const m = /^Waiting for rotation to complete\.\.\.\nTrace chunk archive for session rot is now readable on relay tcp:\/\/127\.0\.0\.1\/(.*) \[control port (\d+), data port (\d+)\]\n$/.exec(out);
        assert.ok(m, out);
        assert.equal(m[2], String(control));
        assert.equal(m[3], String(data));
        // The relay's answer, as lttng prints it: lttng-relayd names the session folder for the first archive of
        // a connection's session (it has not rotated yet when it answers), the archive after.
        const archive = phases.length === 1 ? '' : `/archives/\\d{8}T\\d{6}[+-]\\d{4}-\\d{8}T\\d{6}[+-]\\d{4}-${phases.length - 1}`;
        assert.match(m[1]!, new RegExp(`^${hostname()}/rot-\\d{8}-\\d{6}${archive}$`));
        await until('the archive', () => archives().length === phases.length);
      }
      assert.equal(archives().length, 2);

      // A rotation schedule: the timer fires once the period since the last rotation passed (on a loaded
      // machine maybe twice before it is disabled: later scheduled archives hold nothing).
      await record(2, 9);
      phases.push({ execs: 2, ticks: 9 });
      await ok(env, 'enable-rotation', '--timer', '1s');
      await until('a scheduled rotation', () => archives().length >= 3);
      await ok(env, 'disable-rotation', '--timer');
      for (let n = archives().length; n > 3; n--) phases.push({ execs: 0, ticks: 0 });

      // Clear: what was recorded since goes (the relay deletes that chunk); recording goes on.
      await record(4, 10);
      assert.match(await ok(env, 'clear'), /Session "rot" cleared\n$/);
      await record(3, 7);
      phases.push({ execs: 3, ticks: 7 });
      await app.end();
      app = undefined;
      await ok(env, 'stop');
      const destroyed = await ok(env, 'destroy');
      // The cleared chunk's id is skipped: the relay deleted it.
      const lastId = phases.length;
      assert.match(destroyed, new RegExp(`is now readable on relay tcp://127\\.0\\.0\\.1/.*archives/.*-${lastId} \\[control port`));
      await until('the last archive', () => archives().length === phases.length);

      // Each archive reads alone with exactly its phase's events; nothing is left outside archives/.
      const names = archives().sort((a, b) => Number(a.split('-').pop()) - Number(b.split('-').pop()));
      assert.deepEqual(names.map((n) => Number(n.split('-').pop())), [...phases.keys()].map((i) => (i === phases.length - 1 ? lastId : i)));
      for (const [i, name] of names.entries()) {
        const dir = join(sessionDir(), 'archives', name);
        assert.ok(existsSync(join(dir, 'kernel', 'metadata')), `${dir}/kernel`);
        assert.equal(readdirSync(join(dir, 'ust', 'uid')).length, 1, `${dir}: the app's user (per-UID)`);
        assert.deepEqual(count(bt2(dir)), phases[i], `${name}: its phase's events`);
      }
      // (lttng-relayd may leave its empty .tmp_new_chunk behind.)
      const left = readdirSync(sessionDir()).filter((d) => d !== 'archives' && !(d.startsWith('.tmp_') && readdirSync(join(sessionDir(), d)).length === 0));
      assert.deepEqual(left, [], spawnSync('find', [sessionDir()], { encoding: 'utf8' }).stdout);
    } catch (error) {
      if (process.env.LTT_TEST_RELAY_VERBOSE) writeFileSync(process.env.LTT_TEST_RELAY_VERBOSE, relay?.stderr() ?? '');
      throw new Error(`${(error as Error).message}\n--- ltt-sessiond log:\n${env.log().slice(0, 4000)}\n--- relay:\n${relay?.stderr().split("\n").filter((l) => /Error|ERR|rotat|chunk/i.test(l)).slice(-60).join("\n")}`, { cause: error });
    } finally {
      await app?.end().catch(() => undefined);
      await env.cleanup().catch(() => undefined);
      await relay?.stop();
    }
  });
}

for (const kind of process.env.LTT_TEST_RELAY ? [process.env.LTT_TEST_RELAY as 'ltt' | 'lttng'] : RELAYS) {
  test(`snapshots of a kernel + ltt/ust session to ${kind}-relayd: the session's net output, then a -C/-D one; each as lttng-relayd lays them out`, { skip, timeout: 300_000 }, async () => {
    const env = new LttTestEnv();
    let relay: Relay | undefined;
    let app: Awaited<ReturnType<typeof startApp>> | undefined;
    try {
      relay = await startRelay(kind, join(env.root, 'relay', 'out'));
      const { control, data } = relay.ports;
      await ok(env, 'create', 'snap', '--snapshot', '-U', `net://127.0.0.1:${control}:${data}`);
      assert.equal(await ok(env, 'snapshot', 'list-output'), `Snapshot output list for session snap\n    [1] snapshot-1: tcp4://127.0.0.1:${control}/\n`);
      // As lttng lists a snapshot session: its output is its snapshot output, not a "Trace output".
      assert.match(await ok(env, 'list', 'snap'), /^Recording session snap: \[inactive snapshot\]\n$/);
      await ok(env, 'enable-event', '-k', 'sched_process_exec');
      await ok(env, 'enable-event', '-u', 'demo:tick');
      await ok(env, 'start');
      app = await startApp(env);
      execChroot(4);
      await app.emit(12);
      assert.equal(await ok(env, 'snapshot', 'record'), 'Snapshot recorded successfully for session snap\n');
      execChroot(3);
      await app.emit(5);
      const second = await ok(env, 'snapshot', 'record', '-n', 'second', '-C', `tcp://127.0.0.1:${control}`, '-D', `tcp://127.0.0.1:${data}`);
      assert.equal(second, `Snapshot recorded successfully for session snap\nSnapshot written at: tcp://127.0.0.1:${control}\n`);
      // --max-size: shared by the streams; one below a packet per stream is lttng's error, large enough is all.
      const tiny = await env.ltt('snapshot', 'record', '-m', '1');
      assert.equal(tiny.code, 1);
      assert.match(tiny.stderr, /^Error: Invalid snapshot size\. Cannot fit at least one packet per stream.*\n$/);
      await ok(env, 'snapshot', 'record', '-n', 'sized', '-m', '256M');
      await app.end();
      app = undefined;
      await ok(env, 'stop');
      await ok(env, 'destroy');

      // HOSTNAME/SESSION-DATE/NAME-DATE-N/{kernel,ust/uid/UID/64-bit}: each snapshot holds everything recorded so far
      // (the buffers are large enough), so the second overlaps the first, as lttng's snapshots do.
      const sessions = readdirSync(join(relay.output, hostname())).filter((d) => /^snap-\d{8}-\d{6}$/.test(d));
      assert.equal(sessions.length, 1, readdirSync(join(relay.output, hostname())).join(', '));
      const dir = join(relay.output, hostname(), sessions[0]!);
      const snapshots = readdirSync(dir).sort();
      // The refused snapshot left no empty folder (its chunk was closed with DELETE).
      const held = snapshots.filter((n) => readdirSync(join(dir, n)).length > 0);
      assert.deepEqual(held, snapshots);
      assert.equal(held.length, 3, snapshots.join(', '));
      assert.match(held[0]!, /^second-\d{8}-\d{6}-1$/);
      assert.match(held[1]!, /^sized-\d{8}-\d{6}-2$/);
      assert.match(held[2]!, /^snapshot-1-\d{8}-\d{6}-0$/);
      const expected = { [held[0]!]: { execs: 7, ticks: 17 }, [held[1]!]: { execs: 7, ticks: 17 }, [held[2]!]: { execs: 4, ticks: 12 } };
      for (const name of held) {
        assert.equal(readdirSync(join(dir, name, 'ust', 'uid')).length, 1, `${name}: the app's user (per-UID)`);
        assert.deepEqual(count(bt2(join(dir, name))), expected[name], name);
      }
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- ltt-sessiond log:\n${env.log().slice(-4000)}`, { cause: error });
    } finally {
      await app?.end().catch(() => undefined);
      await env.cleanup().catch(() => undefined);
      await relay?.stop();
    }
  });
}

for (const kind of process.env.LTT_TEST_RELAY ? [process.env.LTT_TEST_RELAY as 'ltt' | 'lttng'] : RELAYS) {
  test(`${kind}-relayd --disallow-clear refuses clear with lttng's error; a relay gone: rotate, clear and snapshots fail in one line, the daemon stays up`, { skip, timeout: 200_000 }, async () => {
    const env = new LttTestEnv();
    let relay: Relay | undefined;
    try {
      relay = await startRelay(kind, join(env.root, 'relay', 'out'), ['--disallow-clear']);
      const { control, data } = relay.ports;
      const url = `net://127.0.0.1:${control}:${data}`;
      await ok(env, 'create', 'noclear', '-U', url);
      await ok(env, 'enable-event', '-k', 'sched_process_exec');
      await ok(env, 'start');
      const refused = await env.ltt('clear');
      assert.deepEqual([refused.code, refused.stderr], [1, 'Error: Clearing a session is not supported by the relay daemon\n']);
      await ok(env, 'create', 'snap', '--snapshot', '-U', url);
      await ok(env, 'enable-event', '-k', 'sched_process_exec', '-s', 'snap');
      await ok(env, 'start', 'snap');

      await relay.stop();
      relay = undefined;
      for (const args of [['rotate', 'noclear'], ['clear', 'noclear'], ['snapshot', 'record', '-s', 'snap']]) {
        const r = await env.ltt(...args);
        assert.equal(r.code, 1, `ltt ${args.join(' ')}: ${r.stdout}`);
        assert.match(r.stderr, new RegExp(`^Error: .*127\\.0\\.0\\.1:${control}.*\\n$`), `ltt ${args.join(' ')}: one line naming the relay`);
      }
      const listed = await ok(env, 'list');
      assert.match(listed, /\) noclear \[/, 'the daemon is still up');
      assert.match(listed, /\) snap \[/);
      // Destroy says the data lost with the relay (one line) and destroys all the same.
      const destroyed = await env.ltt('destroy', '-a');
      assert.match(destroyed.stderr, /^(Error: .*relay at 127\.0\.0\.1:\d+ is gone.*\n)?$/);
      assert.match(await ok(env, 'list'), /no available recording session/);
    } finally {
      await env.cleanup().catch(() => undefined);
      await relay?.stop();
    }
  });
}
