#!/usr/bin/env node
// The relay, ltt-relayd beside lttng-relayd 2.13 (and ltt view beside babeltrace2), in four parts:
//   kernel: bench/kernel.mjs's ltt session (dd if=/dev/zero of=/dev/null bs=1 count=N: sched_switch, sched_wakeup
//          and every syscall, LTTng's kernel channel defaults) recorded by ltt-sessiond to local files and
//          streamed to ltt-relayd on loopback, alternated R times: events recorded and lost (discarded + lost
//          packets), dd's time and slowdown against dd untraced, the tracer's CPU (ltt-sessiond, which hosts the
//          consumer) and, streamed, the relay's; then streamed/local for slowdown and tracer CPU (goal: within
//          1.2x, 0 lost). Needs root.
//   cpu:   relay CPU per GB received, on one byte stream: the consumer-to-relay protocol as lttng-consumerd speaks
//          it (src/relay/relay-client.ts: a packet on the data port, then its index on the control port, whose
//          reply is awaited), from one session of STREAMS per-CPU streams. The packets are the real LTTng-UST
//          packets of test/view/lttng-ust-texts/traces/uid, repeated (a relay does not read packet contents;
//          only their sizes and count matter). Both relays write to /tmp; the stored bytes are checked equal.
//          Prints each relay's CPU seconds (user+system, from /proc) and wall time per GB, and the ratio.
//   live:  live latency, from an event's timestamp to its line in a live viewer's stdout: a real lttng-sessiond
//          records the texts app (test/relay/lttng-stream.sh, one event every --pause-ms) in two live sessions on
//          ltt-relayd, `ltt view` follows one and `babeltrace2 -i lttng-live` the other (--clock-seconds), at
//          LTTng's default live timer (1 s) and at 100 ms. Prints p50/p99 per viewer (goal: p99 under the live
//          timer + 200 ms). Needs root, lttng-tools and babeltrace2.
//   stuck: a live viewer that sends requests and reads no reply (GET_PACKET for a 1 MiB packet, over and over)
//          while a peer records: each relay's recording rate without and with that viewer, and its resident
//          memory (peak while the viewer is stuck).
//   node bench/relay.mjs [--only kernel|cpu|live|stuck] [--count N] [--runs R] [--gb N] [--packet-kib K] [--streams S]
//        [--events N] [--pause-ms P]
//   (defaults: all parts, 3,000,000, 1 run, 1 GB, 64 KiB, 4 streams, 150 events, 20 ms)

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { listLiveSessions } from '../dist/src/relay/live-client.js';
import { RelayClient } from '../dist/src/relay/relay-client.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const GB = arg('--gb', 1);
const PACKET = arg('--packet-kib', 64) * 1024;
const STREAMS = arg('--streams', 4);
const EVENTS = arg('--events', 150);
const PAUSE_MS = arg('--pause-ms', 20);
const COUNT = arg('--count', 3_000_000);
const RUNS = arg('--runs', 1);
const SOURCE = path.join(ROOT, 'test/view/lttng-ust-texts/traces/uid/ust/uid/0/64-bit');

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function waitPort(port, child) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((r) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) return;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('relay did not start');
}

function cpuSeconds(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in USER_HZ (100 on Linux)
}

/** A packet of PACKET bytes: the source's first packet, its sizes rewritten, zero-filled past its content. */
function makePacket() {
  const data = fs.readFileSync(path.join(SOURCE, 'texts_0'));
  const idx = fs.readFileSync(path.join(SOURCE, 'index', 'texts_0.idx'));
  const first = idx.subarray(16, 16 + idx.readUInt32BE(12));
  const packet = Buffer.alloc(PACKET);
  data.copy(packet, 0, 0, Math.min(PACKET, Number(first.readBigUInt64BE(16)) / 8));
  packet.writeBigUInt64LE(BigInt(PACKET * 8), 56); // packet_size in the LTTng packet context
  const entry = Buffer.from(first);
  entry.writeBigUInt64BE(BigInt(PACKET * 8), 8);
  return { packet, entry };
}

/** A relay on free loopback ports, writing under WORK/out. */
async function startRelay(kind, work) {
  const [control, data, live] = [await freePort(), await freePort(), await freePort()];
  const url = (p) => `tcp://127.0.0.1:${p}`;
  const args = ['-C', url(control), '-D', url(data), '-L', url(live), '-o', path.join(work, 'out')];
  const child =
    kind === 'ltt-relayd'
      ? spawn(process.execPath, [path.join(ROOT, 'bin/ltt-relayd'), ...args], { env: { ...process.env, LTT_RUNDIR: path.join(work, 'run') }, stdio: 'ignore' })
      : spawn('lttng-relayd', args, { env: { ...process.env, LTTNG_HOME: work }, stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitPort(live, child);
  } catch (e) {
    await stop();
    throw e;
  }
  return { child, control, data, live, stop };
}

async function run(kind) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `relay-bench-${kind}-`));
  const relay = await startRelay(kind, work);
  const { child, control, data: dataPort } = relay;
  try {
    const { packet, entry } = makePacket();
    const c = await RelayClient.connect('127.0.0.1', control, dataPort);
    await c.version();
    await c.createSession({ name: 'bench', hostname: 'benchhost', liveTimerUs: 0, sessiondUuid: randomBytes(16), sessiondSessionId: 1n, creationTime: Math.floor(Date.now() / 1000) });
    await c.createTraceChunk(0n, Math.floor(Date.now() / 1000));
    const meta = await c.addStream('metadata', 'ust/uid/0/64-bit', 0n);
    const handles = [];
    for (let i = 0; i < STREAMS; i++) handles.push(await c.addStream(`chan_${i}`, 'ust/uid/0/64-bit', 0n));
    await c.streamsSent();
    await c.sendMetadata(meta, fs.readFileSync(path.join(SOURCE, 'metadata')));
    const packets = Math.ceil((GB * 1e9) / PACKET);
    const cpu0 = cpuSeconds(child.pid);
    const t0 = process.hrtime.bigint();
    for (let n = 0; n < packets; n++) {
      const h = handles[n % STREAMS];
      const seq = BigInt(Math.floor(n / STREAMS));
      entry.writeBigUInt64BE(seq, 64);
      await c.sendPacket(h, seq, packet);
      await c.sendIndex(h, seq, entry);
    }
    // As a consumer at `lttng stop`: wait until the relay wrote everything, then close the streams.
    const last = handles.map((_, i) => BigInt(Math.floor((packets - 1 - i) / STREAMS)));
    for (const [i, h] of handles.entries()) while (await c.dataPending(h, last[i])) await new Promise((r) => setTimeout(r, 5));
    for (const [i, h] of handles.entries()) await c.closeStream(h, last[i]);
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = cpuSeconds(child.pid) - cpu0;
    c.close();
    const bytes = packets * PACKET;
    return { kind, cpuPerGB: cpu / (bytes / 1e9), wallPerGB: wall / (bytes / 1e9), bytes, work };
  } finally {
    await relay.stop();
  }
}

/** Bytes stored under DIR. */
function storedBytes(dir) {
  let total = 0;
  const walk = (d) => fs.readdirSync(d).forEach((n) => (fs.statSync(path.join(d, n)).isDirectory() ? walk(path.join(d, n)) : (total += fs.statSync(path.join(d, n)).size)));
  walk(dir);
  return total;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function cpuPart() {
  // Each run starts with no dirty page cache: a relay that runs while the other's gigabyte is written back pays
  // for that writeback in its own write(2) calls (the second relay of a pair took 1.6-5x the first's CPU per GB
  // before). Runs alternate which relay goes first, and each run's output is checked, removed and synced away.
  const per = { 'lttng-relayd': [], 'ltt-relayd': [] };
  const sizes = { 'lttng-relayd': new Set(), 'ltt-relayd': new Set() };
  for (let i = 0; i < RUNS; i++) {
    const order = i % 2 === 0 ? ['lttng-relayd', 'ltt-relayd'] : ['ltt-relayd', 'lttng-relayd'];
    for (const kind of order) {
      spawnSync('sync');
      const r = await run(kind);
      sizes[kind].add(storedBytes(path.join(r.work, 'out')));
      fs.rmSync(r.work, { recursive: true, force: true });
      per[kind].push(r);
      console.log(`${kind.padEnd(13)} ${(r.bytes / 1e9).toFixed(2)} GB in ${STREAMS} streams of ${PACKET / 1024} KiB packets: CPU ${r.cpuPerGB.toFixed(2)} s/GB, wall ${r.wallPerGB.toFixed(2)} s/GB`);
    }
  }
  const stored = [...sizes['lttng-relayd'], ...sizes['ltt-relayd']];
  if (new Set(stored).size !== 1) console.log(`WARNING: stored bytes differ: lttng-relayd ${[...sizes['lttng-relayd']].join(', ')}, ltt-relayd ${[...sizes['ltt-relayd']].join(', ')}`);
  const m = (kind, key) => median(per[kind].map((r) => r[key]));
  console.log(`medians of ${RUNS} run(s): lttng-relayd CPU ${m('lttng-relayd', 'cpuPerGB').toFixed(2)} s/GB, ltt-relayd CPU ${m('ltt-relayd', 'cpuPerGB').toFixed(2)} s/GB`);
  console.log(`ratio ltt-relayd / lttng-relayd: CPU ${(m('ltt-relayd', 'cpuPerGB') / m('lttng-relayd', 'cpuPerGB')).toFixed(2)}x, wall ${(m('ltt-relayd', 'wallPerGB') / m('lttng-relayd', 'wallPerGB')).toFixed(2)}x`);
}

/** A live viewer process: the arrival time (ms since the epoch) of each line of its stdout. */
function spawnViewer(cmd, args) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TZ: 'UTC' } });
  const v = { child, lines: [], err: '', ended: new Promise((r) => child.once('exit', (code, signal) => r({ code, signal }))) };
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (t) => {
    const at = performance.timeOrigin + performance.now();
    const parts = (partial + t).split('\n');
    partial = parts.pop();
    for (const line of parts) v.lines.push({ line, at });
  });
  child.stderr.setEncoding('utf8').on('data', (t) => (v.err += t));
  return v;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Latencies (ms) of one live recording followed by ltt view and babeltrace2 side by side. */
async function liveLatency(timerUs) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-bench-live-'));
  const relay = await startRelay('ltt-relayd', work);
  const viewers = [];
  let rec;
  try {
    const go = path.join(work, 'go');
    rec = spawn('bash', [path.join(ROOT, 'test/relay/lttng-stream.sh'), `tcp://127.0.0.1:${relay.control}`, `tcp://127.0.0.1:${relay.data}`, 'lat_ltt,lat_bt2', String(EVENTS), String(timerUs), String(PAUSE_MS * 1000), go], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    rec.stdout.setEncoding('utf8').on('data', (t) => (out += t));
    rec.stderr.setEncoding('utf8').on('data', (t) => (err += t));
    const recDone = new Promise((r) => rec.once('exit', r));
    while (!out.includes('started')) {
      if (rec.exitCode !== null) throw new Error(`lttng-stream.sh: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const url = (s) => `net://localhost:${relay.live}/host/${os.hostname()}/${s}`;
    viewers.push(['ltt view', spawnViewer(process.execPath, [path.join(ROOT, 'bin/ltt'), 'view', '--clock-seconds', url('lat_ltt')])]);
    viewers.push(['babeltrace2', spawnViewer('babeltrace2', ['-i', 'lttng-live', '--clock-seconds', url('lat_bt2')])]);
    // Both attached (seek LAST) before the app starts: every event is new to them.
    for (let i = 0; ; i++) {
      const listed = await listLiveSessions('127.0.0.1', relay.live);
      if (listed.filter((l) => l.clients === 1).length === 2) break;
      if (i > 300) throw new Error('the viewers did not attach');
      await new Promise((r) => setTimeout(r, 100));
    }
    fs.writeFileSync(go, '');
    const code = await recDone;
    if (code !== 0) throw new Error(`lttng-stream.sh exited with ${code}: ${err}`);
    const timer = setTimeout(() => viewers.forEach(([, v]) => v.child.kill('SIGKILL')), 60_000);
    await Promise.all(viewers.map(([, v]) => v.ended));
    clearTimeout(timer);
    return viewers.map(([name, v]) => {
      const ms = v.lines
        .map(({ line, at }) => {
          const m = /^\[(\d+)\.(\d{9})\]/.exec(line);
          return m === null ? undefined : at - (Number(m[1]) * 1000 + Number(m[2]) / 1e6);
        })
        .filter((x) => x !== undefined)
        .sort((a, b) => a - b);
      return { name, n: ms.length, p50: percentile(ms, 50), p99: percentile(ms, 99), err: v.err.split('\n')[0] };
    });
  } finally {
    for (const [, v] of viewers) v.child.kill('SIGKILL');
    if (rec !== undefined && rec.exitCode === null) rec.kill('SIGTERM');
    await relay.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function livePart() {
  for (const timerUs of [1000000, 100000]) {
    const results = await liveLatency(timerUs);
    for (const r of results) {
      const goal = timerUs / 1000 + 200;
      console.log(
        `live timer ${String(timerUs / 1000).padStart(4)} ms, ${r.name.padEnd(11)} ${r.n}/${EVENTS} events: latency p50 ${r.p50?.toFixed(0)} ms, p99 ${r.p99?.toFixed(0)} ms (goal p99 < ${goal} ms: ${r.p99 < goal ? 'met' : 'NOT met'})${r.err ? ` [${r.err}]` : ''}`,
      );
    }
  }
}

function rssMiB(pid) {
  return Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
}

/** A viewer that attaches from the beginning, reads one index, then asks for the packet forever and reads nothing. */
async function stuckViewer(port, sessionId) {
  const s = net.connect(port, '127.0.0.1');
  await new Promise((r) => s.once('connect', r));
  let buf = Buffer.alloc(0);
  let want;
  s.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    want?.();
  });
  const read = async (n) => {
    while (buf.length < n) await new Promise((r) => (want = r));
    const out = buf.subarray(0, n);
    buf = buf.subarray(n);
    return out;
  };
  const send = (cmd, payload) => {
    const h = Buffer.alloc(16);
    h.writeBigUInt64BE(BigInt(payload.length), 0);
    h.writeUInt32BE(cmd, 8);
    s.write(Buffer.concat([h, payload]));
  };
  const u64 = (v) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(v));
    return b;
  };
  const hello = Buffer.alloc(20);
  hello.writeBigInt64BE(-1n, 0);
  hello.writeUInt32BE(2, 8);
  hello.writeUInt32BE(4, 12);
  hello.writeUInt32BE(1, 16);
  send(1, hello);
  await read(20);
  send(8, Buffer.alloc(0));
  await read(4);
  send(3, Buffer.concat([u64(sessionId), u64(0), Buffer.from([0, 0, 0, 1])]));
  const count = (await read(8)).readUInt32BE(4);
  let id;
  for (let i = 0; i < count; i++) {
    const st = await read(4371);
    if (st.readUInt32BE(16) === 0) id ??= st.readBigUInt64BE(0);
  }
  let index;
  for (let i = 0; ; i++) {
    send(4, u64(id));
    index = await read(64);
    if (index.readUInt32BE(56) === 1) break;
    if (i > 500) throw new Error(`the stuck viewer got no index (status ${index.readUInt32BE(56)})`);
    await new Promise((r) => setTimeout(r, 10));
  }
  s.pause();
  const len = Buffer.alloc(4);
  len.writeUInt32BE(Number(index.readBigUInt64BE(8) / 8n));
  const req = Buffer.concat([u64(id), index.subarray(0, 8), len]);
  let stop = false;
  const flood = async () => {
    // Requests as fast as the relay takes them (the socket's own backpressure paces this loop).
    while (!stop) {
      const h = Buffer.alloc(16);
      h.writeBigUInt64BE(20n, 0);
      h.writeUInt32BE(5, 8);
      if (!s.write(Buffer.concat([h, req]))) await new Promise((r) => s.once('drain', r));
    }
  };
  flood().catch(() => undefined);
  return () => {
    // The flood loop may wait for a drain that never comes: the socket's end is its end.
    stop = true;
    s.destroy();
  };
}

/** Recording rate (MB/s) of a live session without, then with, a stuck viewer; the relay's memory. */
async function stuckRun(kind) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `relay-bench-stuck-${kind}-`));
  const relay = await startRelay(kind, work);
  try {
    const { packet, entry } = makePacket();
    const c = await RelayClient.connect('127.0.0.1', relay.control, relay.data);
    await c.version();
    const session = await c.createSession({ name: 'stuck', hostname: 'benchhost', liveTimerUs: 100000, sessiondUuid: randomBytes(16), sessiondSessionId: 1n, creationTime: Math.floor(Date.now() / 1000) });
    await c.createTraceChunk(0n, Math.floor(Date.now() / 1000));
    const meta = await c.addStream('metadata', 'ust/uid/0/64-bit', 0n);
    const handles = [];
    for (let i = 0; i < STREAMS; i++) handles.push(await c.addStream(`chan_${i}`, 'ust/uid/0/64-bit', 0n));
    await c.streamsSent();
    await c.sendMetadata(meta, fs.readFileSync(path.join(SOURCE, 'metadata')));
    const perPhase = Math.ceil((GB * 1e9) / 4 / PACKET);
    let n = 0;
    // A phase that has not ended after STALL_S is reported as stalled, with the bytes it got through.
    const STALL_S = 30;
    const phase = async () => {
      const t0 = process.hrtime.bigint();
      const n0 = n;
      let timer;
      const stalled = new Promise((r) => (timer = setTimeout(() => r('stalled'), STALL_S * 1000)));
      const done = await Promise.race([sendPhase(), stalled]);
      clearTimeout(timer);
      const mb = ((n - n0) * PACKET) / 1e6;
      return { rate: mb / (Number(process.hrtime.bigint() - t0) / 1e9), stalled: done === 'stalled', mb };
    };
    const sendPhase = async () => {
      for (const end = n + perPhase; n < end; n++) {
        const h = handles[n % STREAMS];
        const seq = BigInt(Math.floor(n / STREAMS));
        entry.writeBigUInt64BE(seq, 64);
        await c.sendPacket(h, seq, packet);
        await c.sendIndex(h, seq, entry);
      }
      const last = (i) => BigInt(Math.floor((n - 1 - ((n - 1 - i) % STREAMS + STREAMS) % STREAMS) / STREAMS));
      for (const [i, h] of handles.entries()) while (await c.dataPending(h, last(i))) await new Promise((r) => setTimeout(r, 5));
      return 'done';
    };
    const free = await phase();
    const rssFree = rssMiB(relay.child.pid);
    const release = await stuckViewer(relay.live, session.id);
    let peak = rssMiB(relay.child.pid);
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(relay.child.pid))), 50);
    const stuck = await phase();
    await new Promise((r) => setTimeout(r, 500));
    clearInterval(sampler);
    peak = Math.max(peak, rssMiB(relay.child.pid));
    release();
    c.close();
    return { kind, free, stuck, rssFree, peak };
  } finally {
    await relay.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function stuckPart() {
  for (const kind of ['lttng-relayd', 'ltt-relayd']) {
    const r = await stuckRun(kind);
    console.log(
      `${kind.padEnd(13)} stuck viewer: recording ${r.free.rate.toFixed(0)} MB/s without it (${r.free.mb.toFixed(0)} MB), ` +
        `${r.stuck.rate.toFixed(0)} MB/s with it (${r.stuck.mb.toFixed(0)} MB${r.stuck.stalled ? `, STALLED: not done after 30 s` : ''}); ` +
        `relay RSS ${r.rssFree.toFixed(0)} MiB before, peak ${r.peak.toFixed(0)} MiB while stuck`,
    );
  }
}

async function kernelPart() {
  if (process.getuid?.() !== 0) {
    console.log('kernel: skipped (needs root: kernel tracing)');
    return;
  }
  const { lttRun, runWorkload, cleanups } = await import('./kernel.mjs');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-bench-kernel-'));
  const relay = await startRelay('ltt-relayd', work);
  const stream = { url: `net://127.0.0.1:${relay.control}:${relay.data}`, output: path.join(work, 'out') };
  const rs = { untraced: [], local: [], streamed: [] };
  // Every process's system calls are recorded: on a shared machine the event count varies from run to run, so
  // the tracer's CPU is also compared per event.
  const perEvent = (r) => ({ ...r, nsPerEvent: (r.cpuS * 1e9) / r.events });
  try {
    console.log(`# kernel: dd bs=1 count=${COUNT} (${COUNT} reads + ${COUNT} writes), ${RUNS} run(s), ${os.cpus().length} CPUs, loadavg ${fs.readFileSync('/proc/loadavg', 'utf8').trim()}`);
    for (let i = 1; i <= RUNS; i++) {
      rs.untraced.push({ ddS: await runWorkload(COUNT) });
      rs.local.push(perEvent(await lttRun(COUNT, work, 200_000)));
      const relayCpu = cpuSeconds(relay.child.pid);
      const s = perEvent(await lttRun(COUNT, work, 200_000, stream));
      s.relayCpuS = cpuSeconds(relay.child.pid) - relayCpu;
      rs.streamed.push(s);
    }
  } finally {
    for (const c of [...cleanups].reverse()) await c().catch(() => {});
    await relay.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];
  const m = (mode, key) => median(rs[mode].map((r) => r[key]));
  const base = m('untraced', 'ddS');
  console.log(`untraced       dd ${base.toFixed(3)} s`);
  for (const mode of ['local', 'streamed']) {
    const relayCpu = mode === 'streamed' ? `, relay CPU ${m(mode, 'relayCpuS').toFixed(2)} s` : '';
    console.log(
      `${`ltt ${mode}`.padEnd(14)} dd ${m(mode, 'ddS').toFixed(3)} s (x${(m(mode, 'ddS') / base).toFixed(2)}), events ${m(mode, 'events')}, lost ${m(mode, 'lost')}, ` +
        `tracer CPU ${m(mode, 'cpuS').toFixed(2)} s (${m(mode, 'nsPerEvent').toFixed(0)} ns/event)${relayCpu}, trace ${(m(mode, 'bytes') / 1e6).toFixed(1)} MB`,
    );
  }
  const slow = (mode) => m(mode, 'ddS') / base;
  console.log(`streamed/local: slowdown x${(slow('streamed') / slow('local')).toFixed(2)}, tracer CPU x${(m('streamed', 'cpuS') / m('local', 'cpuS')).toFixed(2)}, per event x${(m('streamed', 'nsPerEvent') / m('local', 'nsPerEvent')).toFixed(2)} (goal: within 1.2x, 0 lost; medians over runs)`);
}

if (ONLY === undefined || ONLY === 'kernel') await kernelPart();
if (ONLY === undefined || ONLY === 'cpu') await cpuPart();
if (ONLY === undefined || ONLY === 'live') await livePart();
if (ONLY === undefined || ONLY === 'stuck') await stuckPart();
