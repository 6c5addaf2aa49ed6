#!/usr/bin/env node
// Relay CPU per GB received, ltt-relayd beside lttng-relayd 2.13, on one byte stream: the consumer-to-relay
// protocol as lttng-consumerd speaks it (src/relay/relay-client.ts: a packet on the data port, then its index
// on the control port, whose reply is awaited), from one session of STREAMS per-CPU streams. The packets are
// the real LTTng-UST packets of test/view/lttng-ust-texts/traces/uid, repeated (a relay does not read packet
// contents; only their sizes and count matter). Both relays write to /tmp; the stored bytes are checked equal.
//   node bench/relay.mjs [--gb N] [--packet-kib K] [--streams S]     (defaults 1 GB, 64 KiB, 4)
// Prints each relay's CPU seconds (user+system, from /proc) and wall time per GB, and the ratio.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RelayClient } from '../dist/src/relay/relay-client.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const GB = arg('--gb', 1);
const PACKET = arg('--packet-kib', 64) * 1024;
const STREAMS = arg('--streams', 4);
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

async function run(kind) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `relay-bench-${kind}-`));
  const [control, dataPort, live] = [await freePort(), await freePort(), await freePort()];
  const url = (p) => `tcp://127.0.0.1:${p}`;
  const args = ['-C', url(control), '-D', url(dataPort), '-L', url(live), '-o', path.join(work, 'out')];
  const child =
    kind === 'ltt-relayd'
      ? spawn(process.execPath, [path.join(ROOT, 'bin/ltt-relayd'), ...args], { env: { ...process.env, LTT_RUNDIR: path.join(work, 'run') }, stdio: 'ignore' })
      : spawn('lttng-relayd', args, { env: { ...process.env, LTTNG_HOME: work }, stdio: 'ignore' });
  try {
    await waitPort(live, child);
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
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
  }
}

const results = [];
for (const kind of ['lttng-relayd', 'ltt-relayd']) {
  const r = await run(kind);
  results.push(r);
  console.log(`${kind.padEnd(13)} ${(r.bytes / 1e9).toFixed(2)} GB in ${STREAMS} streams of ${PACKET / 1024} KiB packets: CPU ${r.cpuPerGB.toFixed(2)} s/GB, wall ${r.wallPerGB.toFixed(2)} s/GB`);
}
const sizes = results.map((r) => {
  let total = 0;
  const walk = (d) => fs.readdirSync(d).forEach((n) => (fs.statSync(path.join(d, n)).isDirectory() ? walk(path.join(d, n)) : (total += fs.statSync(path.join(d, n)).size)));
  walk(path.join(r.work, 'out'));
  fs.rmSync(r.work, { recursive: true, force: true });
  return total;
});
if (sizes[0] !== sizes[1]) console.log(`WARNING: stored ${sizes[0]} bytes (lttng-relayd) vs ${sizes[1]} (ltt-relayd)`);
console.log(`ratio ltt-relayd / lttng-relayd: CPU ${(results[1].cpuPerGB / results[0].cpuPerGB).toFixed(2)}x, wall ${(results[1].wallPerGB / results[0].wallPerGB).toFixed(2)}x`);
