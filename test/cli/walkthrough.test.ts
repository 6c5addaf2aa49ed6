// The kernel walkthrough with the real CLI, a real daemon spawned by `ltt create`, real tracefs and the real
// viewer: create -> enable-event -k sched_switch -> start -> sleep 1 -> stop -> view | grep sleep -> destroy,
// once with human output (lttng's exact messages) and once with --mi json.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { alive, LttTestEnv } from './ltt-test-env.js';

function tracefsInstances(): string[] {
  try {
    return readdirSync('/sys/kernel/tracing/instances');
  } catch {
    return [];
  }
}

test('kernel walkthrough with human output, daemon spawned by create', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  const session = `walk${process.pid}`;
  try {
    assert.equal(env.daemonPid(), undefined);
    const create = await env.ltt('create', session);
    assert.equal(create.code, 0, create.stderr);
    const lines = create.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'Spawning a session daemon');
    assert.equal(lines[1], `Session ${session} created.`);
    assert.match(lines[2]!, new RegExp(`^Traces will be written in ${env.home}/ltt-traces/${session}-\\d{8}-\\d{6}$`));
    const output = lines[2]!.slice('Traces will be written in '.length);
    const pid = env.daemonPid();
    assert.ok(pid !== undefined && alive(pid), 'the daemon runs and wrote its pid file');
    assert.equal(readFileSync(join(env.home, '.lttrc'), 'utf8'), `session=${session}\n`);

    const enable = await env.ltt('enable-event', '-k', 'sched_switch');
    assert.equal(enable.code, 0, enable.stderr);
    assert.equal(enable.stdout, 'Kernel event sched_switch created in channel channel0\n');
    const instancesWhileSet = tracefsInstances().filter((name) => name.includes(session));
    assert.equal(instancesWhileSet.length, 1, `one tracefs instance for channel0: ${instancesWhileSet.join(', ')}`);

    const start = await env.ltt('start');
    assert.equal(start.code, 0, start.stderr);
    assert.equal(start.stdout, `Tracing started for session ${session}\n`);
    spawnSync('sleep', ['1']);
    const stop = await env.ltt('stop');
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(stop.stdout, `Waiting for data availability\nTracing stopped for session ${session}\n`);

    const list = await env.ltt('list', session);
    assert.equal(list.code, 0, list.stderr);
    assert.ok(list.stdout.startsWith(`Recording session ${session}: [inactive]\n    Trace output: ${output}\n\n=== Domain: Linux kernel ===\n`));
    assert.match(list.stdout, /\n- channel0: \[enabled\]\n\n    Attributes:\n      Event-loss mode:  discard\n      Sub-buffer size:  1048576 bytes\n      Sub-buffer count: 4\n      Switch timer:     inactive\n      Read timer:       200000 us\n/);
    assert.match(list.stdout, /\n    Statistics:\n      Discarded events: \d+\n/);
    assert.match(list.stdout, /\n    Recording event rules:\n      sched_switch \(type: tracepoint\) \[enabled\]\n/);

    const view = await env.ltt('view');
    assert.equal(view.code, 0, view.stderr);
    const sleepLines = view.stdout.split('\n').filter((line) => line.includes('sleep'));
    assert.ok(sleepLines.length > 0, 'the sleep process appears in the trace');
    assert.match(sleepLines[0]!, /sched_switch: \{ cpu_id = \d+ \}, \{ prev_comm = /);
    // The viewer's output is babeltrace2's: same line count as the real babeltrace2 on the same trace.
    const bt = spawnSync('babeltrace2', [output], { encoding: 'utf8', maxBuffer: 256 << 20 });
    if (bt.status === 0) assert.equal(view.stdout.split('\n').length, bt.stdout.split('\n').length);

    const destroy = await env.ltt('destroy');
    assert.equal(destroy.code, 0, destroy.stderr);
    assert.equal(destroy.stdout, `Session ${session} destroyed\n`);
    assert.equal(existsSync(join(env.home, '.lttrc')), false, 'destroying the current session forgets it');
    assert.deepEqual(tracefsInstances().filter((name) => name.includes(session)), [], 'instances removed');
    assert.ok(statSync(join(output, 'kernel', 'metadata')).size > 0, 'the trace stays on disk');
  } finally {
    await env.cleanup();
  }
});

test('kernel walkthrough with --mi json', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  const session = `walkmi${process.pid}`;
  const mi = async (...args: string[]) => {
    const result = await env.ltt('--mi', 'json', ...args);
    const doc = JSON.parse(result.stdout) as { command: string; output: any; success: boolean; error?: unknown };
    return { ...result, doc };
  };
  try {
    const create = await mi('create', session, '-o', join(env.root, 'trace'));
    assert.equal(create.code, 0, create.stderr);
    assert.equal(create.doc.command, 'create');
    assert.equal(create.doc.success, true);
    assert.deepEqual(create.doc.output, {
      session: { name: session, path: join(env.root, 'trace'), enabled: false, snapshot_mode: 0, live_timer_interval: 0 },
    });

    const enable = await mi('enable-event', '-k', 'sched_switch', '-s', session);
    assert.equal(enable.code, 0, enable.stderr);
    assert.deepEqual(enable.doc.output.events.map((e: any) => [e.name, e.type, e.enabled, e.success]), [
      ['sched_switch', 'TRACEPOINT', true, true],
    ]);
    const start = await mi('start', session);
    assert.deepEqual(start.doc, { command: 'start', output: { sessions: [{ name: session, enabled: true }] }, success: true });
    spawnSync('sleep', ['1']);
    const stop = await mi('stop', session);
    assert.equal(stop.doc.success, true);

    const list = await mi('list', session);
    assert.equal(list.code, 0);
    const [detail] = list.doc.output.sessions;
    assert.equal(detail.name, session);
    assert.equal(detail.domains[0].type, 'KERNEL');
    const channel = detail.domains[0].channels[0];
    assert.equal(channel.name, 'channel0');
    assert.equal(channel.attributes.subbuffer_size, 1048576);
    assert.equal(channel.attributes.read_timer_interval, 200000);
    assert.equal(typeof channel.attributes.discarded_events, 'number');
    assert.deepEqual(channel.events.map((e: any) => e.name), ['sched_switch']);

    const view = await env.ltt('view', session);
    assert.ok(view.stdout.split('\n').some((line) => line.includes('sleep')));

    // A failing command still yields one document, with the same text as the human error.
    const again = await mi('start', 'no-such-session');
    assert.equal(again.code, 1);
    assert.equal(again.doc.success, false);
    assert.deepEqual(again.doc.error, { code: 'SESS_NOT_FOUND', message: 'Session name not found' });
    assert.equal(again.stderr, 'Error: Session name not found\n');

    const destroy = await mi('destroy', session);
    assert.equal(destroy.doc.success, true);
    assert.equal(destroy.doc.output.sessions[0].name, session);
  } finally {
    await env.cleanup();
  }
});
