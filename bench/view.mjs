// Benchmark of `ltt view` against babeltrace2 on two kinds of large CTF 1.8 trace:
// - kernel-like (generated here): two per-CPU streams, sched_switch-shaped events with text arrays and integers,
//   openat-shaped events with a string and a hex integer, 1 GHz clock, LTTng-style packet context;
// - ust-fields (recorded by the real LTTng at bench time): a LTTng-UST C app (bench/ust-fields-app/, compiled with
//   gcc -llttng-ust) whose events use every lttng_ust_field_* kind: doubles and floats, strings, text arrays and
//   sequences, enums, integer arrays and sequences (hex too).
// Both traces are cached in /tmp (keyed by the event count).
//
// Usage (after `npm run build`: bin/ltt loads the view bundle it makes): node bench/view.mjs [--events N] [--runs R] [--kinds kernel,ust] [--no-verify]
// Prints, per trace kind: wall/CPU time of ltt view > /dev/null, babeltrace2 > /dev/null, ltt view -o dummy and
// babeltrace2 -c sink.utils.dummy; the ratios; peak RSS (from /usr/bin/time); and whether both tools print the
// same bytes (sha256 of the whole output).

import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const N = Number(opt('--events', '2000000'));
const verify = !args.includes('--no-verify');
const kinds = opt('--kinds', 'kernel,ust').split(',');
const LTT = join(root, 'bin', 'ltt');

function metadata(uuid) {
  return `/* CTF 1.8 */
typealias integer { size = 8; align = 8; signed = false; } := uint8_t;
typealias integer { size = 16; align = 8; signed = false; } := uint16_t;
typealias integer { size = 32; align = 8; signed = false; } := uint32_t;
typealias integer { size = 64; align = 8; signed = false; } := uint64_t;
typealias integer { size = 32; align = 8; signed = true; } := int32_t;
typealias integer { size = 64; align = 8; signed = true; } := int64_t;
typealias integer { size = 64; align = 8; signed = false; base = 16; } := uint64_hex_t;
trace {
  major = 1; minor = 8; byte_order = le; uuid = "${uuid}";
  packet.header := struct { uint32_t magic; uint8_t uuid[16]; uint32_t stream_id; uint64_t stream_instance_id; };
};
env { hostname = "bench-host"; domain = "kernel"; sysname = "Linux"; };
clock { name = "monotonic"; freq = 1000000000; offset_s = 1700000000; offset = 0; precision = 1; absolute = TRUE; };
typealias integer { size = 64; align = 8; signed = false; map = clock.monotonic.value; } := uint64_clock_t;
stream {
  id = 0;
  packet.context := struct { uint64_clock_t timestamp_begin; uint64_clock_t timestamp_end; uint64_t content_size;
    uint64_t packet_size; uint64_t packet_seq_num; uint64_t events_discarded; uint32_t cpu_id; };
  event.header := struct { uint16_t id; uint64_clock_t timestamp; };
};
event {
  name = "sched_switch"; id = 0; stream_id = 0;
  fields := struct {
    integer { size = 8; align = 8; signed = false; encoding = UTF8; } prev_comm[16];
    int32_t prev_tid; int32_t prev_prio; int64_t prev_state;
    integer { size = 8; align = 8; signed = false; encoding = UTF8; } next_comm[16];
    int32_t next_tid; int32_t next_prio;
  };
};
event {
  name = "syscall_entry_openat"; id = 1; stream_id = 0;
  fields := struct { int32_t dfd; string filename; int32_t flags; uint64_hex_t mode; };
};
`;
}

const COMMS = ['swapper/0', 'kworker/1:2', 'node', 'bash', 'systemd-journal', 'sshd', 'lttng-consumerd', 'Xorg'];
const FILES = ['/etc/ld.so.cache', '/usr/lib/x86_64-linux-gnu/libc.so.6', '/proc/self/stat', '/tmp/some "quoted" file', '/dev/null'];

/** Writes the trace: two streams, packets of 64 KiB, N events in total. */
function generate(dir, n) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const uuid = randomUUID();
  writeFileSync(join(dir, 'metadata'), metadata(uuid));
  const uuidBytes = Buffer.from(uuid.replace(/-/g, ''), 'hex');
  const PACKET = 65536;
  const HEADER = 4 + 16 + 4 + 8;
  const CONTEXT = 8 * 6 + 4;
  for (let cpu = 0; cpu < 2; cpu++) {
    const fd = openSync(join(dir, `chan_${cpu}`), 'w');
    const pkt = Buffer.alloc(PACKET);
    let t = 1000 + cpu * 333;
    let left = Math.floor(n / 2) + (cpu === 0 ? n % 2 : 0);
    let seq = 0;
    let seed = 12345 + cpu;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / 16777216;
    while (left > 0) {
      pkt.fill(0);
      let p = HEADER + CONTEXT;
      const begin = t;
      while (left > 0) {
        const open = rnd() < 0.2;
        const file = FILES[Math.floor(rnd() * FILES.length)];
        const size = open ? 10 + 4 + Buffer.byteLength(file) + 1 + 4 + 8 : 10 + 56;
        if (p + size > PACKET) break;
        t += 200 + Math.floor(rnd() * 1500);
        pkt.writeUInt16LE(open ? 1 : 0, p);
        pkt.writeBigUInt64LE(BigInt(t), p + 2);
        p += 10;
        if (open) {
          pkt.writeInt32LE(-100, p);
          p += 4;
          p += pkt.write(file, p, 'utf8');
          pkt[p++] = 0;
          pkt.writeInt32LE(0x80000, p);
          pkt.writeBigUInt64LE(BigInt(Math.floor(rnd() * 0o777)), p + 4);
          p += 12;
        } else {
          pkt.write(COMMS[Math.floor(rnd() * COMMS.length)], p, 'utf8');
          pkt.writeInt32LE(Math.floor(rnd() * 40000), p + 16);
          pkt.writeInt32LE(120, p + 20);
          pkt.writeBigInt64LE(BigInt(Math.floor(rnd() * 3)), p + 24);
          pkt.write(COMMS[Math.floor(rnd() * COMMS.length)], p + 32, 'utf8');
          pkt.writeInt32LE(Math.floor(rnd() * 40000), p + 48);
          pkt.writeInt32LE(20, p + 52);
          p += 56;
        }
        left--;
      }
      pkt.writeUInt32LE(0xc1fc1fc1, 0);
      uuidBytes.copy(pkt, 4);
      pkt.writeUInt32LE(0, 20);
      pkt.writeBigUInt64LE(BigInt(cpu), 24);
      let c = HEADER;
      pkt.writeBigUInt64LE(BigInt(begin), c);
      pkt.writeBigUInt64LE(BigInt(t), c + 8);
      pkt.writeBigUInt64LE(BigInt(p * 8), c + 16);
      pkt.writeBigUInt64LE(BigInt(PACKET * 8), c + 24);
      pkt.writeBigUInt64LE(BigInt(seq++), c + 32);
      pkt.writeBigUInt64LE(0n, c + 40);
      pkt.writeUInt32LE(cpu, c + 48);
      writeSync(fd, pkt);
    }
    closeSync(fd);
  }
  writeFileSync(join(dir, '.events'), String(n));
}

/**
 * The timed runs go without NODE_EXTRA_CA_CERTS (babeltrace2 ignores it; only ltt's times change): with it, every
 * Node process parses that certificate bundle before any of its code runs (0.08-0.09 CPU-s here), a cost of this
 * machine's set-up that no ltt code asks for. A user who sets it pays that on every ltt command.
 */
const ENV = { ...process.env };
delete ENV.NODE_EXTRA_CA_CERTS;

/** Runs a command with stdout to /dev/null under /usr/bin/time; returns wall seconds and peak RSS (KiB). */
function timed(cmd, cmdArgs) {
  const out = `/tmp/ltt-bench-time-${process.pid}`;
  const devnull = openSync('/dev/null', 'w');
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', '-o', out, cmd, ...cmdArgs], {
    env: ENV,
    stdio: ['ignore', devnull, 'pipe'],
    maxBuffer: 64 << 20,
  });
  closeSync(devnull);
  if (r.status !== 0) {
    throw new Error(`${cmd} ${cmdArgs.join(' ')} failed (${r.status}): ${r.stderr.toString().slice(0, 2000)}`);
  }
  const [wall, user, sys, rss] = readFileSync(out, 'utf8').trim().split('\n').pop().split(/\s+/).map(Number);
  rmSync(out, { force: true });
  return { wall, user, sys, rss };
}

function best(cmd, cmdArgs, runs) {
  let b;
  for (let i = 0; i < runs; i++) {
    const r = timed(cmd, cmdArgs);
    if (!b || r.wall < b.wall) b = r;
  }
  return b;
}

/** sha256 of a command's whole stdout, streamed (the text of millions of events does not fit comfortably in memory). */
function outputHash(cmd, cmdArgs) {
  return new Promise((res, rej) => {
    const h = createHash('sha256');
    const child = spawn(cmd, cmdArgs, { stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.on('data', (b) => h.update(b));
    child.on('error', rej);
    child.on('close', () => res(h.digest('hex')));
  });
}

/** Records the ust-fields trace with the real LTTng (bench/ust-fields-app/record.sh). */
function record(dir, n) {
  const r = spawnSync('bash', [join(root, 'bench', 'ust-fields-app', 'record.sh'), dir, String(n)], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`recording the ust-fields trace failed (${r.status})`);
  writeFileSync(join(dir, '.events'), String(n));
}

const { freshBundle } = await import(join(root, 'dist', 'src', 'cli', 'entry.js'));
if (process.env.NODE_EXTRA_CA_CERTS) console.log('note: NODE_EXTRA_CA_CERTS is set here; the timed runs leave it out (Node would parse that bundle at each start)');
if (freshBundle('view') === undefined) console.log('note: the view bundle is missing or stale (npm run build makes it): bin/ltt loads the view module by module');
const runs = Math.max(1, Number(opt('--runs', '2')));
const summary = [];
for (const kind of kinds) {
  const traceDir = `/tmp/ltt-bench-${kind}-${N}`;
  if (!existsSync(join(traceDir, '.events')) || readFileSync(join(traceDir, '.events'), 'utf8') !== String(N)) {
    const t0 = Date.now();
    if (kind === 'kernel') generate(traceDir, N);
    else if (kind === 'ust') record(traceDir, N);
    else throw new Error(`unknown trace kind ${kind} (kernel or ust)`);
    console.log(`made the ${kind} trace: ${N} events in ${traceDir} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } else {
    console.log(`reusing ${traceDir} (${kind}, ${N} events)`);
  }
  const rows = [
    ['ltt view > /dev/null', () => best(process.execPath, [LTT, 'view', traceDir], runs)],
    ['babeltrace2 > /dev/null', () => best('babeltrace2', [traceDir], runs)],
    ['ltt view -o dummy', () => best(process.execPath, [LTT, 'view', '-o', 'dummy', traceDir], runs)],
    ['babeltrace2 -c sink.utils.dummy', () => best('babeltrace2', [traceDir, '-c', 'sink.utils.dummy'], runs)],
  ];
  const res = {};
  for (const [name, fn] of rows) {
    const r = fn();
    res[name] = r;
    console.log(
      `${kind.padEnd(6)} ${name.padEnd(31)} ${r.wall.toFixed(2).padStart(6)} s wall ${(r.user + r.sys).toFixed(2).padStart(6)} s cpu  ` +
        `${(N / r.wall / 1e6).toFixed(3)} M events/s (wall) ${(N / (r.user + r.sys) / 1e6).toFixed(3)} M events/s (cpu)  ` +
        `peak RSS ${(r.rss / 1024).toFixed(0)} MiB`,
    );
  }
  // Both ratios: wall time is what a user waits for, CPU time is steadier on a shared, loaded machine.
  const ratio = (a, b) =>
    `${(res[b].wall / res[a].wall).toFixed(2)}x (wall), ${((res[b].user + res[b].sys) / (res[a].user + res[a].sys)).toFixed(2)}x (cpu)`;
  summary.push(`${kind}: pretty: ltt is ${ratio('ltt view > /dev/null', 'babeltrace2 > /dev/null')} babeltrace2's events/s`);
  summary.push(`${kind}: decode only: ltt is ${ratio('ltt view -o dummy', 'babeltrace2 -c sink.utils.dummy')} babeltrace2's events/s`);
  if (verify) {
    const a = await outputHash(process.execPath, [LTT, 'view', traceDir]);
    const b = await outputHash('babeltrace2', [traceDir]);
    summary.push(`${kind}: output identical: ${a === b} (${a.slice(0, 16)} vs ${b.slice(0, 16)})`);
    if (a !== b) process.exitCode = 1;
  }
}
console.log(`load average at the end: ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (const line of summary) console.log(line);
