// `ltt export --format perfetto` on a kernel + ltt/ust trace recorded by the real CLI: the file decodes as
// Perfetto's Trace message, and what it holds is what `ltt view` prints of the same trace (counts per event
// kind, time stamps to the nanosecond, return values, names, user-space events with their fields).
//
// Decoding uses Perfetto's own protos when a Perfetto source tree is beside the checkout (../perfetto, or
// PERFETTO_PROTOS naming perfetto_trace.proto), and otherwise the test's own description of the fields it
// reads (field numbers as Perfetto defines them), so CI checks the structure too.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import protobuf from 'protobufjs';
import { LttTestEnv, type RunResult } from '../cli/ltt-test-env.js';
import { REPO_ROOT } from '../repo-paths.js';
import { syscallNumbers } from '../../src/export/perfetto.js';

const PROTO = process.env.PERFETTO_PROTOS || resolve(REPO_ROOT, '..', 'perfetto', 'protos', 'perfetto', 'trace', 'perfetto_trace.proto');
const skip = process.getuid?.() !== 0 ? 'needs root (tracefs)' : false;

/** The fields this test reads, numbered as Perfetto's protos number them. */
const SUBSET = {
  nested: {
    perfetto: {
      nested: {
        protos: {
          nested: {
            Trace: { fields: { packet: { rule: 'repeated', type: 'TracePacket', id: 1 } } },
            TracePacket: {
              fields: {
                timestamp: { type: 'uint64', id: 8 },
                trustedPacketSequenceId: { type: 'uint32', id: 10 },
                ftraceEvents: { type: 'FtraceEventBundle', id: 1 },
                processTree: { type: 'ProcessTree', id: 2 },
                clockSnapshot: { type: 'ClockSnapshot', id: 6 },
                trackEvent: { type: 'TrackEvent', id: 11 },
                trackDescriptor: { type: 'TrackDescriptor', id: 60 },
              },
            },
            ClockSnapshot: {
              fields: { clocks: { rule: 'repeated', type: 'Clock', id: 1 }, primaryTraceClock: { type: 'uint32', id: 2 } },
              nested: { Clock: { fields: { clockId: { type: 'uint32', id: 1 }, timestamp: { type: 'uint64', id: 2 } } } },
            },
            ProcessTree: {
              fields: { processes: { rule: 'repeated', type: 'Process', id: 1 }, threads: { rule: 'repeated', type: 'Thread', id: 2 } },
              nested: {
                Process: { fields: { pid: { type: 'int32', id: 1 }, cmdline: { rule: 'repeated', type: 'string', id: 3 } } },
                Thread: { fields: { tid: { type: 'int32', id: 1 }, name: { type: 'string', id: 2 }, tgid: { type: 'int32', id: 3 } } },
              },
            },
            FtraceEventBundle: { fields: { cpu: { type: 'uint32', id: 1 }, event: { rule: 'repeated', type: 'FtraceEvent', id: 2 } } },
            FtraceEvent: {
              fields: {
                timestamp: { type: 'uint64', id: 1 },
                pid: { type: 'uint32', id: 2 },
                schedSwitch: { type: 'SchedSwitch', id: 4 },
                schedWakeup: { type: 'SchedWakeup', id: 17 },
                irqHandlerEntry: { type: 'Irq', id: 36 },
                sysEnter: { type: 'SysEnter', id: 329 },
                sysExit: { type: 'SysExit', id: 330 },
              },
            },
            SchedSwitch: {
              fields: {
                prevComm: { type: 'string', id: 1 },
                prevPid: { type: 'int32', id: 2 },
                prevState: { type: 'int64', id: 4 },
                nextComm: { type: 'string', id: 5 },
                nextPid: { type: 'int32', id: 6 },
              },
            },
            SchedWakeup: { fields: { comm: { type: 'string', id: 1 }, pid: { type: 'int32', id: 2 }, targetCpu: { type: 'int32', id: 5 } } },
            Irq: { fields: { irq: { type: 'int32', id: 1 }, name: { type: 'string', id: 2 } } },
            SysEnter: { fields: { id: { type: 'int64', id: 1 } } },
            SysExit: { fields: { id: { type: 'int64', id: 1 }, ret: { type: 'int64', id: 2 } } },
            TrackDescriptor: {
              fields: { uuid: { type: 'uint64', id: 1 }, process: { type: 'ProcessDescriptor', id: 3 }, thread: { type: 'ThreadDescriptor', id: 4 } },
            },
            ProcessDescriptor: { fields: { pid: { type: 'int32', id: 1 }, processName: { type: 'string', id: 6 } } },
            ThreadDescriptor: { fields: { pid: { type: 'int32', id: 1 }, tid: { type: 'int64', id: 2 }, threadName: { type: 'string', id: 5 } } },
            TrackEvent: {
              fields: {
                type: { type: 'int32', id: 9 },
                trackUuid: { type: 'uint64', id: 11 },
                categories: { rule: 'repeated', type: 'string', id: 22 },
                name: { type: 'string', id: 23 },
                debugAnnotations: { rule: 'repeated', type: 'DebugAnnotation', id: 4 },
              },
            },
            DebugAnnotation: {
              fields: { name: { type: 'string', id: 10 }, intValue: { type: 'int64', id: 4 }, stringValue: { type: 'string', id: 6 } },
            },
          },
        },
      },
    },
  },
};

interface Decoded {
  packet: {
    timestamp?: string;
    clockSnapshot?: { clocks: { clockId: number; timestamp: string }[] };
    processTree?: { threads: { tid: number; name?: string; tgid?: number }[] };
    ftraceEvents?: { cpu: number; event: Record<string, unknown>[] };
    trackDescriptor?: { uuid: string; thread?: { pid: number; tid: string; threadName?: string }; process?: { pid: number; processName?: string } };
    trackEvent?: { type: number; trackUuid?: string; name: string; categories: string[]; debugAnnotations: { name: string; intValue?: string; stringValue?: string }[] };
  }[];
}

function decode(file: string, root: protobuf.Root): Decoded {
  const Trace = root.lookupType('perfetto.protos.Trace');
  const message = Trace.decode(readFileSync(file));
  return Trace.toObject(message, { longs: String, enums: Number, defaults: false, arrays: true }) as unknown as Decoded;
}

describe('ltt export --format perfetto', { skip, timeout: 300_000 }, () => {
  let env: LttTestEnv;
  let trace: string;
  let view: string[];
  const roots: [string, protobuf.Root][] = [];

  before(async () => {
    env = new LttTestEnv();
    trace = join(env.root, 'trace');
    const ltt = async (...args: string[]): Promise<RunResult> => {
      const r = await env.ltt(...args);
      assert.equal(r.code, 0, `ltt ${args.join(' ')}: ${r.stderr}`);
      return r;
    };
    await ltt('create', 'pf', '-o', trace);
    await ltt('enable-event', '-k', 'sched_switch,sched_wakeup,sched_process_fork,sched_process_exit,irq_handler_entry,irq_handler_exit');
    await ltt('enable-event', '-k', '--syscall', 'openat,read,close');
    // Per-PID buffers: the app's pid is in its trace's env (a per-UID trace would need the vpid context).
    await ltt('enable-channel', '-u', '--buffers-pid', 'channel0');
    await ltt('enable-event', '-u', 'demo:*');
    await ltt('add-context', '-u', '-t', 'vtid', '-t', 'procname');
    await ltt('start');
    const app = spawn(process.execPath, [join(REPO_ROOT, 'examples', 'ust-demo.mjs'), '50'], { stdio: 'ignore', env: { ...process.env, ...env.env } });
    assert.equal(await new Promise((r) => app.once('exit', r)), 0);
    // Reads that fail (a missing file: openat returns -ENOENT) for a negative return value.
    await new Promise((r) => spawn('cat', ['/nonexistent-ltt-perfetto', '/proc/version'], { stdio: 'ignore' }).once('exit', r));
    await ltt('stop');
    await ltt('destroy');
    const v = await ltt('view', '--clock-cycles', trace);
    view = v.stdout.trim().split('\n');
    roots.push(['subset', protobuf.Root.fromJSON(SUBSET)]);
    if (existsSync(PROTO)) roots.push(["Perfetto's protos", protobuf.loadSync(PROTO)]);
  });

  after(async () => {
    await env?.cleanup();
  });

  it('holds every kernel event ltt view prints, at the same nanosecond, and the user-space events', async () => {
    const out = join(env.root, 'trace.pftrace');
    const r = await env.ltt('export', '--format', 'perfetto', out, trace);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\d+ kernel events, 100 user-space events, \d+ threads written to /);
    const nums = syscallNumbers();
    assert.ok(!('why' in nums), 'this machine has <asm/unistd_64.h> (linux-libc-dev, a dependency of gcc)');

    // What ltt view prints: [cycles] (monotonic ns: the clock runs at 1 GHz) name: ...
    const line = /^\[(\d+)\] \([^)]*\) \S+ ([\w:]+): (.*)$/;
    const viewed = view.map((l) => line.exec(l)!).filter(Boolean);
    const timesOf = (name: string): string[] => viewed.filter((m) => m[2] === name).map((m) => BigInt(m[1]!).toString());

    for (const [what, root] of roots) {
      const t = decode(out, root);
      const clock = t.packet[0]!.clockSnapshot;
      assert.ok(clock && clock.clocks.some((c) => c.clockId === 3), `${what}: a clock snapshot with MONOTONIC first`);
      const events: Record<string, unknown>[] = t.packet.flatMap((p) => p.ftraceEvents?.event ?? []);
      const kind = (k: string): Record<string, unknown>[] => events.filter((e) => e[k] !== undefined);

      assert.deepEqual(kind('schedSwitch').map((e) => e.timestamp as string).sort(), timesOf('sched_switch').sort(), `${what}: sched_switch`);
      assert.deepEqual(kind('schedWakeup').map((e) => e.timestamp as string).sort(), timesOf('sched_wakeup').sort(), `${what}: sched_wakeup`);
      assert.equal(kind('irqHandlerEntry').length, timesOf('irq_handler_entry').length, `${what}: irq_handler_entry`);
      const entries = ['openat', 'read', 'close'].flatMap((n) => timesOf(`syscall_entry_${n}`));
      assert.deepEqual(kind('sysEnter').map((e) => e.timestamp as string).sort(), entries.sort(), `${what}: syscall entries`);
      assert.ok(entries.length > 0);

      // Names and ids agree: a switch's fields, and openat's number on every entry.
      const sw = viewed.find((m) => m[2] === 'sched_switch')!;
      const first = kind('schedSwitch').find((e) => e.timestamp === BigInt(sw[1]!).toString())!.schedSwitch as Record<string, unknown>;
      assert.equal(first.nextComm, /next_comm = "([^"]*)"/.exec(sw[3]!)![1]);
      // protobufjs 8 decodes a zero as absent (implicit presence), so a switch away from the idle task (0) has none.
      assert.equal(first.prevPid ?? 0, Number(/prev_tid = (\d+)/.exec(sw[3]!)![1]));
      const openat: number = 'why' in nums ? -1 : nums.numbers.get('openat')!;
      const openatTimes = new Set(timesOf('syscall_entry_openat'));
      for (const e of kind('sysEnter')) {
        if (openatTimes.has(e.timestamp as string)) assert.equal(Number((e.sysEnter as { id: string }).id), openat);
      }
      // The failed openat's -ENOENT (-2) survives as a negative int64.
      const rets = viewed.filter((m) => m[2] === 'syscall_exit_openat').map((m) => Number(/ret = (-?\d+)/.exec(m[3]!)![1]));
      assert.ok(rets.includes(-2), 'cat opened a missing file');
      const exported: number[] = kind('sysExit').filter((e) => Number((e.sysExit as { id: string }).id) === openat).map((e) => Number((e.sysExit as { ret?: string }).ret ?? 0));
      assert.deepEqual(exported.sort((a, b) => a - b), rets.sort((a, b) => a - b), `${what}: openat return values`);

      // User-space events: instants on their thread's track, fields as annotations, names on the track.
      const demo = t.packet.filter((p) => p.trackEvent);
      assert.equal(demo.length, 100, `${what}: user-space events`);
      assert.deepEqual(demo.map((p) => p.timestamp).sort(), timesOf('demo:tick').sort());
      const tracks = new Map(t.packet.filter((p) => p.trackDescriptor).map((p) => [p.trackDescriptor!.uuid, p.trackDescriptor!]));
      for (const p of demo) {
        assert.equal(p.trackEvent!.type, 3);
        assert.ok(tracks.has(p.trackEvent!.trackUuid!), `${what}: the event's track is described`);
      }
      const tick = demo.find((p) => p.trackEvent!.name === 'demo:tick')!.trackEvent!;
      assert.deepEqual(tick.categories, ['demo']);
      assert.ok(tick.debugAnnotations.some((a) => a.name === 'msg' && typeof a.stringValue === 'string'), JSON.stringify(tick));
      // The events go on their thread's track (the vtid context), in their process (the per-PID trace's vpid).
      const demoTrack = tracks.get(tick.trackUuid!)!;
      const app = /\(\d+\)/.exec(view.find((l) => l.includes(' demo:tick: '))!)![0].slice(1, -1);
      assert.equal(demoTrack.thread?.pid, Number(app), JSON.stringify(demoTrack));
      const mainThread = [...tracks.values()].find((d) => d.thread?.tid === app);
      assert.ok(mainThread, 'the main thread has its track');
    }
  });

  it('ltt analyze cputop: a thread that both the kernel and the ltt/ust trace know is one row', async () => {
    const r = await env.ltt('analyze', 'cputop', '--format', 'json', trace);
    assert.equal(r.code, 0, r.stderr);
    const tids = (JSON.parse(r.stdout) as { threads: { tid: number }[] }).threads.map((t) => t.tid);
    assert.equal(new Set(tids).size, tids.length, `duplicate tids: ${tids.join(' ')}`);
    const app = /\(\d+\)/.exec(view.find((l) => l.includes(' demo:tick: '))!)![0].slice(1, -1);
    assert.ok(tids.includes(Number(app)), 'the app ran');
  });

  it('refuses an OUTPUT it cannot write, in one line', async () => {
    const r = await env.ltt('export', '--format', 'perfetto', '/nonexistent-dir/x.pftrace', trace);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^Error: Cannot write \/nonexistent-dir\/x\.pftrace: No such file or directory\n$/);
  });
});
