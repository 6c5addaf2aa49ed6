// Kernel tracing overhead: ltt vs trace-cmd on a syscall-heavy workload, in one run.
//
// Also a module: bench/relay.mjs runs lttRun's session streamed to a relay beside the same session on local files.
// Contract: `node bench/kernel.mjs [--count N] [--runs R] [--fast-read-timer US] [--skip-trace-cmd] [--skip-trace-cmd-mono] [--skip-kernel-only] [--ltt-env NAME=VALUE] [--keep] [--verbose]` (root, after `npx tsc`).
// The workload `dd if=/dev/zero of=/dev/null bs=1 count=N` (default 3,000,000: N reads + N writes) runs three
// ways, R times each (default 1), alternated so machine drift hits every mode alike:
//   untraced  - the workload alone;
//   ltt       - the real CLI with a private session daemon (LTT_RUNDIR in a temp folder): sched_switch,
//               sched_wakeup and every syscall into one kernel channel of 4 x 1 MiB sub-buffers per CPU
//               (LTTng's kernel default), discard mode, LTTng's default 200 ms read timer; with
//               --fast-read-timer US also again with that read timer, which shows how much of a loss is the timer's;
//   trace-cmd - `trace-cmd record -d --no-filter -B <own instance> -b 4096` with the same events and the same
//               4 MiB per CPU (trace-cmd's default overwrite mode). Its own instance keeps the top-level buffer
//               untouched; -d --no-filter are needed on this kernel (see shared/peers/README.md, sec. 4);
//   ltt NAME=VALUE - with --ltt-env, the ltt mode again with that variable in the session daemon's environment
//               (LTT_CONSUMER_NICE=0, for example), to compare a setting in the same runs;
//   kernel only - the kernel's share alone: an instance of our own with the same events, buffers and clock as
//               ltt's, in overwrite mode and read by nobody. What a tool adds to dd's time beyond this mode is
//               its consumer's doing; with trace-cmd also `kernel only local`, the same with trace-cmd's default
//               clock (--skip-kernel-only leaves both out);
//   trace-cmd mono - the same with `-C mono`, the trace clock ltt (like LTTng) uses so that kernel and
//               CLOCK_MONOTONIC user-space events line up. The kernel reads the trace clock for every event, and
//               mono costs more than trace-cmd's default `local` (sched_clock): this mode compares the consumers
//               with the same work in the kernel (--skip-trace-cmd-mono leaves it out).
// Per mode it prints: events recorded (counted from the trace: ltt's own CTF reader; `trace-cmd report`),
// events lost (each tool's own accounting: `ltt list` "Discarded events", the reader's discarded-events
// messages; `trace-cmd report --stat` overrun + dropped + entries left unread, and "[LOST n EVENTS]" lines),
// the workload's own elapsed time (dd's "copied, X s") and slowdown vs untraced, and the tracer's CPU time
// (ltt: the session daemon, which hosts the consumer, from /proc/PID/stat between `start` and `stop` returning;
// trace-cmd: user+sys of trace-cmd and its recorder children, from the shell's `times`), split in three: before dd
// (`ltt start` only: the daemon's start-up, create and enable-event come before; trace-cmd's whole set-up up to its
// banner, its events enabled), while dd ran, and after (`ltt stop`; trace-cmd's end, when it writes trace.dat from
// its per-CPU files, compressed), with each phase's median over the runs at the end. trace-cmd's first two phases
// are read from /proc (10 ms ticks per process, live processes only), so up to ~0.03 s of them shows in its end.
// Per run it also prints how fast the CPUs ran meanwhile ("CPU loop": bench/cpu-speed.mjs, µs of a fixed loop per
// CPU, lower is faster): this VM's vCPUs run the same code up to 1.9x slower in stretches of seconds, and the
// CPU times above move with it, so compare tools on runs with similar loop times.
// Everything it creates (sessions, daemon, tracefs instances, temp folders) is removed in `finally` and on
// SIGINT/SIGTERM; every child process is time-bound.

import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readDaemonPid, stopProcess } from '../scripts/private-daemon.mjs';
import { formatCpuSpeed, startCpuSpeed } from './cpu-speed.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LTT = path.join(ROOT, 'bin', 'ltt');
const TRACEFS = '/sys/kernel/tracing';
const CLK_TCK = 100; // USER_HZ: the unit of /proc/PID/stat times on Linux.
const T0 = Date.now();
const verbose = process.argv.includes('--verbose');
const step = (msg) => {
  if (verbose) process.stderr.write(`[${((Date.now() - T0) / 1000).toFixed(1)} s] ${msg}\n`);
};

function parseArgs(argv) {
  const o = { count: 3_000_000, runs: 1, traceCmd: true, traceCmdMono: true, kernelOnly: true, lttEnv: [], keep: false, fastTimerUs: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v <= 0) fail(`${a} needs a positive integer`);
      return v;
    };
    if (a === '--count') o.count = num();
    else if (a === '--runs') o.runs = num();
    else if (a === '--fast-read-timer') o.fastTimerUs = num();
    else if (a === '--skip-trace-cmd') o.traceCmd = false;
    else if (a === '--skip-trace-cmd-mono') o.traceCmdMono = false;
    else if (a === '--skip-kernel-only') o.kernelOnly = false;
    else if (a === '--ltt-env') {
      const v = argv[++i] ?? '';
      if (!/^[A-Za-z_]\w*=/.test(v)) fail('--ltt-env needs NAME=VALUE');
      o.lttEnv.push(v);
    }
    // The fast-timer mode is opt-in now (--fast-read-timer US); the old flag that left it out still parses.
    else if (a === '--skip-fast-timer') continue;
    else if (a === '--keep') o.keep = true;
    else if (a === '--verbose') continue;
    else fail(`unknown argument ${a} (usage: node bench/kernel.mjs [--count N] [--runs R] [--fast-read-timer US] [--skip-trace-cmd] [--skip-trace-cmd-mono] [--skip-kernel-only] [--ltt-env NAME=VALUE] [--keep] [--verbose])`);
  }
  return o;
}

function fail(msg) {
  process.stderr.write(`bench/kernel: ${msg}\n`);
  process.exit(1);
}

/** Runs a command to completion (time-bound); resolves {code, stdout, stderr}, never rejects on exit status. */
/** Children still running (killed on SIGINT/SIGTERM: the workload would otherwise outlive the bench). */
const running = new Set();

function run(file, args, { timeoutMs = 60_000, env } = {}) {
  return new Promise((resolve) => {
    const child = execFile(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL', env: env ?? process.env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : err.killed ? 'timeout' : String(err.code)) : 0;
      running.delete(child);
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    running.add(child);
  });
}

async function must(file, args, opts) {
  step(`${path.basename(file)} ${args.join(' ')}`);
  const r = await run(file, args, opts);
  if (r.code !== 0) throw new Error(`${path.basename(file)} ${args.join(' ')} failed (${r.code}): ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
  return r;
}

const ddArgs = (count) => ['if=/dev/zero', 'of=/dev/null', 'bs=1', `count=${count}`];

/** dd's own elapsed seconds, from its "copied, X s" summary (LC_ALL=C keeps the format). */
function ddSeconds(stderr) {
  const m = /copied, ([\d.]+) s/.exec(stderr);
  if (!m) throw new Error(`no elapsed time in dd's output: ${stderr.trim()}`);
  return Number(m[1]);
}

export async function runWorkload(count) {
  const r = await must('dd', ddArgs(count), { timeoutMs: 300_000, env: { ...process.env, LC_ALL: 'C' } });
  return ddSeconds(r.stderr);
}

/** CPU seconds and voluntary context switches (sleeps: wake-ups) of each thread of a process, by tid. */
function threadCpuSeconds(pid) {
  const out = new Map();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'latin1');
      out.set(tid, { s: procCpuSeconds(`${pid}/task/${tid}`), sys: procSysSeconds(`${pid}/task/${tid}`), wakes: Number(/voluntary_ctxt_switches:\s*(\d+)/.exec(status)?.[1] ?? 0) });
    } catch {
      // The thread ended in between.
    }
  }
  return out;
}

/**
 * Where a daemon's CPU went between two threadCpuSeconds() snapshots: main thread, then the other threads by CPU
 * (with a page reader, the two busiest are the consumer and its reader), each with its wake-ups.
 */
function cpuSplit(pid, before, after) {
  const deltas = [...after].map(([tid, v]) => [tid, v.s - (before.get(tid)?.s ?? 0), v.wakes - (before.get(tid)?.wakes ?? 0), v.sys - (before.get(tid)?.sys ?? 0)]);
  // The kernel's share (copying pages out of the ring, writing files) apart from the transcoding's.
  const fmt = ([, s, w, sys]) => `${s.toFixed(2)} s (sys ${sys.toFixed(2)})/${w} wake-ups`;
  const main = deltas.find(([tid]) => tid === String(pid));
  const others = deltas.filter(([tid]) => tid !== String(pid)).sort((a, b) => b[1] - a[1]);
  const rest = others.slice(2).reduce((a, [, v]) => a + v, 0);
  return `busiest threads ${others.slice(0, 2).map(fmt).join(', ')}, main ${main ? fmt(main) : '-'}, other threads (V8 GC and compilers, libuv) ${rest.toFixed(2)} s`;
}

/** System (kernel) CPU seconds of /proc/PID/stat. */
function procSysSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[12]) / CLK_TCK;
}

function procCpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 (utime, stime) are at 11 and 12 after the comm.
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

// ---- ltt ----------------------------------------------------------------------------------------------------

export const cleanups = [];

/**
 * The ltt session on the dd workload, writing under `work`, or, with `relay` ({ url, output }), streamed to the
 * relay at `url` (net://...) that stores under `output` (the trace is counted there, as stored).
 */
export async function lttRun(count, work, readTimerUs, relay, extraEnv = {}) {
  const rundir = fs.mkdtempSync(path.join(os.tmpdir(), 'ltt-bench-rundir-'));
  let out = path.join(work, `ltt-${Date.now()}`);
  const session = `ltt-bench-${process.pid}-${Date.now()}`;
  const env = { ...process.env, ...extraEnv, LTT_RUNDIR: rundir };
  const ltt = (...args) => must(process.execPath, [LTT, ...args], { env, timeoutMs: 120_000 });
  let daemonPid;
  const cleanup = async () => {
    await run(process.execPath, [LTT, 'destroy', session], { env, timeoutMs: 60_000 });
    daemonPid ??= readDaemonPid(rundir);
    if (daemonPid) await stopProcess(daemonPid);
    fs.rmSync(rundir, { recursive: true, force: true });
  };
  cleanups.push(cleanup);
  try {
    await ltt('create', session, ...(relay ? ['-U', relay.url] : ['-o', out]));
    daemonPid = readDaemonPid(rundir);
    if (!daemonPid) throw new Error(`no daemon pid file in ${rundir}`);
    await ltt('enable-channel', '-k', '--subbuf-size=1M', '--num-subbuf=4', `--read-timer=${readTimerUs}`, 'channel0');
    await ltt('enable-event', '-k', '-c', 'channel0', 'sched_switch,sched_wakeup');
    await ltt('enable-event', '-k', '-c', 'channel0', '--syscall', '-a');
    const speed = await startCpuSpeed();
    const cpu0 = procCpuSeconds(daemonPid);
    await ltt('start', session);
    const cpu1 = procCpuSeconds(daemonPid);
    // After start: the consumer thread exists.
    const threads0 = threadCpuSeconds(daemonPid);
    const ddS = await runWorkload(count);
    const cpu2 = procCpuSeconds(daemonPid);
    await ltt('stop', session);
    const cpuS = procCpuSeconds(daemonPid) - cpu0;
    const phases = { before: cpu1 - cpu0, during: cpu2 - cpu1, after: cpu0 + cpuS - cpu2 };
    const split = cpuSplit(daemonPid, threads0, threadCpuSeconds(daemonPid));
    const cpuSpeed = await speed.stop();
    const list = await ltt('list', session);
    const discarded = sumMatches(list.stdout, /Discarded events:\s*(\d+)/g);
    const lostPackets = sumMatches(list.stdout, /Lost packets:\s*(\d+)/g);
    await ltt('destroy', session);
    if (relay) {
      const host = path.join(relay.output, os.hostname());
      out = path.join(host, fs.readdirSync(host).find((d) => d.startsWith(`${session}-`)));
    }
    step('counting the ltt trace');
    const counted = await countLttTrace(out);
    return { ddS, cpuS, phases, events: counted.events, byKind: counted.byKind, lost: discarded + lostPackets, lostDetail: `list: discarded ${discarded}, lost packets ${lostPackets}; reader: discarded-events ${counted.discarded}; ${split}`, bytes: dirBytes(out), cpuSpeed };
  } finally {
    cleanups.splice(cleanups.indexOf(cleanup), 1);
    await cleanup();
  }
}

/** A tool's CPU in its three phases: before the workload (`first`: start, set-up), while it ran, after (`last`). */
function formatPhases(p, first, last) {
  return `${first} ${p.before.toFixed(2)}, while dd ran ${p.during.toFixed(2)}, ${last} ${p.after.toFixed(2)}`;
}

/** A difference with its sign always shown. */
function signed(v, digits) {
  return `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`;
}

function sumMatches(text, re) {
  let n = 0;
  for (const m of text.matchAll(re)) n += Number(m[1]);
  return n;
}

function dirBytes(dir) {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += fs.statSync(path.join(e.parentPath ?? e.path, e.name)).size;
  }
  return n;
}

function kindOf(name) {
  if (name === 'sched_switch') return 'sched_switch';
  if (name === 'sched_wakeup') return 'sched_wakeup';
  if (name.startsWith('syscall_entry_') || name.startsWith('sys_enter_')) return 'syscall entry';
  if (name.startsWith('syscall_exit_') || name.startsWith('sys_exit_')) return 'syscall exit';
  return 'other';
}

async function countLttTrace(dir) {
  const { openTrace } = await import('../dist/src/ctf/index.js');
  const opened = await openTrace([dir]);
  const perClass = new Map();
  let events = 0;
  let discarded = 0;
  for await (const batch of opened.messages) {
    for (const m of batch) {
      if (m.type === 'event') {
        events++;
        perClass.set(m.ec.name, (perClass.get(m.ec.name) ?? 0) + 1);
      } else if (m.type === 'discarded-events') discarded += m.count ?? 0;
    }
  }
  const byKind = {};
  for (const [name, n] of perClass) byKind[kindOf(name)] = (byKind[kindOf(name)] ?? 0) + n;
  return { events, discarded, byKind };
}

// ---- kernel only ------------------------------------------------------------------------------------------

/** dd under an instance with ltt's events, sizes and clock, overwrite mode, never read: the kernel's own cost. */
async function kernelOnlyRun(count, clock) {
  const instance = `ltt-bench-ko-${process.pid}`;
  const dir = path.join(TRACEFS, 'instances', instance);
  if (fs.existsSync(dir)) throw new Error(`instance ${instance} already exists`);
  const cleanup = async () => removeInstance(instance);
  cleanups.push(cleanup);
  try {
    fs.mkdirSync(dir);
    for (const [f, v] of [['buffer_size_kb', '4096'], ['options/overwrite', '1'], ['trace_clock', clock],
      ['events/sched/sched_switch/enable', '1'], ['events/sched/sched_wakeup/enable', '1'], ['events/syscalls/enable', '1'], ['tracing_on', '1']]) {
      fs.writeFileSync(path.join(dir, f), v);
    }
    const speed = await startCpuSpeed();
    const ddS = await runWorkload(count);
    const cpuSpeed = await speed.stop();
    fs.writeFileSync(path.join(dir, 'tracing_on'), '0');
    return { ddS, cpuSpeed };
  } finally {
    cleanups.splice(cleanups.indexOf(cleanup), 1);
    await cleanup();
  }
}

// ---- trace-cmd ----------------------------------------------------------------------------------------------

function removeInstance(name) {
  const dir = path.join(TRACEFS, 'instances', name);
  if (!fs.existsSync(dir)) return;
  for (const [f, v] of [['tracing_on', '0'], ['events/enable', '0']]) {
    try {
      fs.writeFileSync(path.join(dir, f), v);
    } catch {
      // rmdir below reports what matters.
    }
  }
  fs.rmdirSync(dir);
}

function childPids(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** CPU seconds of a process and of its children so far (trace-cmd and its per-CPU recorders, all still running). */
function treeCpuSeconds(pid) {
  let s = 0;
  for (const p of [pid, ...childPids(pid)]) {
    try {
      s += procCpuSeconds(p);
    } catch {
      // A recorder that just ended: its CPU shows in the shell's `times` at the end.
    }
  }
  return s;
}

async function traceCmdRun(count, work, clock) {
  const instance = `ltt-bench-tc-${process.pid}`;
  if (fs.existsSync(path.join(TRACEFS, 'instances', instance))) throw new Error(`instance ${instance} already exists`);
  const file = path.join(work, `tc-${Date.now()}.dat`);
  // The samplers start before trace-cmd records, as in lttRun: their start-up is not traced or billed to it.
  const speed = await startCpuSpeed();
  const record = ['trace-cmd', 'record', '-d', '--no-filter', '-B', instance, '-b', '4096', ...(clock ? ['-C', clock] : []),
    '-e', 'sched:sched_switch', '-e', 'sched:sched_wakeup', '-e', 'syscalls', '-o', file];
  // bash's `times` gives the CPU of trace-cmd and of the per-CPU recorders it reaped.
  // stdbuf: trace-cmd's "Hit Ctrl^C" banner would otherwise sit in a stdio buffer until it exits. Own process
  // group, so cleanup can kill the shell, trace-cmd and its recorders at once.
  const sh = spawn('bash', ['-c', `stdbuf -oL -eL ${record.map((a) => `'${a}'`).join(' ')}; echo "rc=$?"; times`], {
    stdio: ['ignore', 'pipe', 'pipe'], cwd: work, env: { ...process.env, LC_ALL: 'C' }, detached: true,
  });
  let output = '';
  sh.stdout.on('data', (d) => { output += d; });
  sh.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => sh.on('exit', resolve));
  let tcPid;
  const cleanup = async () => {
    try {
      process.kill(-sh.pid, 'SIGKILL');
    } catch {
      // The whole group is gone already.
    }
    // Pipes held by dying recorders make rmdir fail with EBUSY for a moment.
    for (let i = 0; i < 50; i++) {
      try {
        removeInstance(instance);
        break;
      } catch (err) {
        if (i === 49) process.stderr.write(`bench/kernel: could not remove instance ${instance}: ${err.message}\n`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  cleanups.push(cleanup);
  try {
    const deadline = Date.now() + 30_000;
    while (!/Hit Ctrl\^C to stop recording/.test(output)) {
      if (sh.exitCode !== null || Date.now() > deadline) throw new Error(`trace-cmd record did not start: ${output.trim().split('\n').slice(-2).join(' / ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    tcPid = childPids(sh.pid).find((p) => fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'trace-cmd');
    if (!tcPid) throw new Error('cannot find the trace-cmd process');
    const setUp = treeCpuSeconds(tcPid);
    const ddS = await runWorkload(count);
    const recorded = treeCpuSeconds(tcPid);
    process.kill(tcPid, 'SIGINT');
    let timer;
    const code = await Promise.race([exited, new Promise((r) => { timer = setTimeout(() => r('timeout'), 120_000); })]);
    clearTimeout(timer);
    const cpuSpeed = await speed.stop();
    if (code === 'timeout') throw new Error('trace-cmd record did not finish within 120 s of SIGINT');
    const t = /rc=(\d+)\s+\S+\s+\S+\s+(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/.exec(output);
    if (!t) throw new Error(`no CPU times from the shell: ${output.slice(-300)}`);
    const cpuS = Number(t[2]) * 60 + Number(t[3]) + Number(t[4]) * 60 + Number(t[5]);
    const phases = { before: setUp, during: recorded - setUp, after: cpuS - recorded };
    // trace-cmd 3.1.6 exits 1 at the very end on this kernel (set_ftrace_filter: EPERM) after trace.dat is
    // complete; any other failure is real.
    if (t[1] !== '0' && !/set_ftrace_filter/.test(output)) throw new Error(`trace-cmd record failed (rc ${t[1]}): ${output.slice(-300)}`);
    step('counting the trace-cmd trace');
    const counted = await countTraceCmd(file);
    const stat = await must('trace-cmd', ['report', '--stat', file], { timeoutMs: 120_000 });
    const overrun = sumMatches(stat.stdout, /^overrun:\s*(\d+)/gm);
    const dropped = sumMatches(stat.stdout, /^dropped events:\s*(\d+)/gm);
    const left = sumMatches(stat.stdout, /^entries:\s*(\d+)/gm);
    const bytes = fs.statSync(file).size;
    fs.rmSync(file, { force: true });
    return {
      ddS, cpuS, phases, events: counted.events, byKind: counted.byKind, lost: overrun + dropped + left + counted.lostLines,
      lostDetail: `overrun ${overrun}, dropped ${dropped}, left unread in the buffer ${left}, [LOST] ${counted.lostLines}`, bytes, cpuSpeed,
    };
  } finally {
    cleanups.splice(cleanups.indexOf(cleanup), 1);
    await cleanup();
  }
}

/** Streams `trace-cmd report FILE`, counting event lines per kind and summing "[LOST n EVENTS]". */
function countTraceCmd(file) {
  return new Promise((resolve, reject) => {
    const p = spawn('trace-cmd', ['report', file], { stdio: ['ignore', 'pipe', 'ignore'] });
    const timer = setTimeout(() => p.kill('SIGKILL'), 600_000);
    const byKind = {};
    let events = 0;
    let lostLines = 0;
    let rest = '';
    const eventRe = /\]\s+[\d.]+: ([\w]+):/;
    const line = (l) => {
      if (l.length === 0 || l.startsWith('cpus=')) return;
      const lost = /LOST (\d+) EVENTS/.exec(l);
      if (lost) {
        lostLines += Number(lost[1]);
        return;
      }
      const m = eventRe.exec(l);
      if (!m) return;
      events++;
      const k = kindOf(m[1]);
      byKind[k] = (byKind[k] ?? 0) + 1;
    };
    p.stdout.setEncoding('latin1');
    p.stdout.on('data', (chunk) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop();
      for (const l of lines) line(l);
    });
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      line(rest);
      if (code !== 0) reject(new Error(`trace-cmd report exited ${code}`));
      else resolve({ events, byKind, lostLines });
    });
  });
}

// ---- main ---------------------------------------------------------------------------------------------------

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) fail('needs root (tracefs instances)');
  if (!fs.existsSync(path.join(TRACEFS, 'instances'))) fail(`needs tracefs mounted at ${TRACEFS}`);
  if (!fs.existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js'))) fail('build first: npx tsc -p .');
  if (o.traceCmd && (await run('trace-cmd', ['--version'])).code === 'ENOENT') {
    process.stderr.write('bench/kernel: trace-cmd not installed: skipping it\n');
    o.traceCmd = false;
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ltt-bench-kernel-'));
  cleanups.push(async () => {
    if (!o.keep) fs.rmSync(work, { recursive: true, force: true });
  });
  const onSignal = async (sig) => {
    process.stderr.write(`bench/kernel: ${sig}: cleaning up\n`);
    for (const child of running) child.kill('SIGKILL');
    for (const c of [...cleanups].reverse()) await c().catch(() => {});
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const lttModes = [['ltt', 200_000, {}], ...(o.fastTimerUs ? [[`ltt rt=${o.fastTimerUs / 1000}ms`, o.fastTimerUs, {}]] : []),
    ...o.lttEnv.map((v) => [`ltt ${v}`, 200_000, { [v.slice(0, v.indexOf('='))]: v.slice(v.indexOf('=') + 1) }])];
  const tcModes = o.traceCmd ? [['trace-cmd', undefined], ...(o.traceCmdMono ? [['trace-cmd mono', 'mono']] : [])] : [];
  // The kernel's share with ltt's clock, and with trace-cmd's default one when trace-cmd runs.
  const kernelModes = o.kernelOnly ? [['kernel only', 'mono'], ...(o.traceCmd ? [['kernel only local', 'local']] : [])] : [];
  const results = { untraced: [], ...Object.fromEntries(kernelModes.map(([m]) => [m, []])), ...Object.fromEntries([...lttModes, ...tcModes].map(([m]) => [m, []])) };
  try {
    console.log(`# ${new Date().toISOString()} ${os.hostname()} ${os.release()}, ${os.cpus().length} CPUs, loadavg ${fs.readFileSync('/proc/loadavg', 'utf8').trim()}`);
    console.log(`# workload: dd ${ddArgs(o.count).join(' ')} (${o.count} reads + ${o.count} writes); runs: ${o.runs}`);
    for (let i = 1; i <= o.runs; i++) {
      const speed = await startCpuSpeed();
      const u = await runWorkload(o.count);
      const cpuSpeed = await speed.stop();
      results.untraced.push({ ddS: u, cpuSpeed });
      console.log(`run ${i} untraced  dd ${u.toFixed(3)} s, CPU loop ${formatCpuSpeed(cpuSpeed)}`);
      for (const [mode, clock] of kernelModes) {
        const k = await kernelOnlyRun(o.count, clock);
        results[mode].push(k);
        console.log(`run ${i} ${mode} dd ${k.ddS.toFixed(3)} s, CPU loop ${formatCpuSpeed(k.cpuSpeed)}`);
      }
      for (const [mode, timer, extraEnv] of lttModes) {
        const l = await lttRun(o.count, work, timer, undefined, extraEnv);
        results[mode].push(l);
        console.log(`run ${i} ${mode.padEnd(9)} dd ${l.ddS.toFixed(3)} s, events ${l.events}, lost ${l.lost} (${l.lostDetail}), daemon CPU ${l.cpuS.toFixed(2)} s (${formatPhases(l.phases, 'start', 'stop')}), trace ${(l.bytes / 1e6).toFixed(1)} MB, CPU loop ${formatCpuSpeed(l.cpuSpeed)}, ${JSON.stringify(l.byKind)}`);
      }
      for (const [mode, clock] of tcModes) {
        const t = await traceCmdRun(o.count, work, clock);
        results[mode].push(t);
        console.log(`run ${i} ${mode} dd ${t.ddS.toFixed(3)} s, events ${t.events}, lost ${t.lost} (${t.lostDetail}), trace-cmd CPU ${t.cpuS.toFixed(2)} s (${formatPhases(t.phases, 'set-up', 'the end')}), trace.dat ${(t.bytes / 1e6).toFixed(1)} MB, CPU loop ${formatCpuSpeed(t.cpuSpeed)}, ${JSON.stringify(t.byKind)}`);
      }
    }
    const base = median(results.untraced.map((r) => r.ddS));
    // One number per run: the mean over CPUs of their median loop times.
    const loopUs = (rs) => median(rs.map((r) => r.cpuSpeed.perCpu.reduce((a, c) => a + c.medianUs, 0) / r.cpuSpeed.perCpu.length)).toFixed(0);
    console.log(`\n${'mode'.padEnd(24)} ${'events recorded'.padStart(16)} ${'events lost'.padStart(12)} ${'lost %'.padStart(7)} ${'dd wall s'.padStart(10)} ${'slowdown'.padStart(9)} ${'tracer CPU s'.padStart(13)} ${'CPU loop µs'.padStart(12)}`);
    for (const [mode, rs] of Object.entries(results)) {
      if (rs.length === 0) continue;
      const dd = median(rs.map((r) => r.ddS));
      if (mode === 'untraced' || mode.startsWith('kernel only')) {
        console.log(`${mode.padEnd(24)} ${'-'.padStart(16)} ${'-'.padStart(12)} ${'-'.padStart(7)} ${dd.toFixed(3).padStart(10)} ${`x${(dd / base).toFixed(2)}`.padStart(9)} ${'-'.padStart(13)} ${loopUs(rs).padStart(12)}`);
        continue;
      }
      const ev = median(rs.map((r) => r.events));
      const lost = median(rs.map((r) => r.lost));
      const pct = ev + lost > 0 ? (100 * lost) / (ev + lost) : 0;
      console.log(`${mode.padEnd(24)} ${String(ev).padStart(16)} ${String(lost).padStart(12)} ${pct.toFixed(1).padStart(7)} ${dd.toFixed(3).padStart(10)} ${`x${(dd / base).toFixed(2)}`.padStart(9)} ${median(rs.map((r) => r.cpuS)).toFixed(2).padStart(13)} ${loopUs(rs).padStart(12)}`);
    }
    // Run by run, as the issue asks ("in the same runs"): in how many runs ltt did at least as well.
    for (const [mode] of tcModes) {
      const pairs = results.ltt.map((l, k) => [l, results[mode][k]]);
      const atMost = (f) => pairs.filter(([l, t]) => f(l) <= f(t)).length;
      console.log(`ltt vs ${mode}, run by run: dd time at or below in ${atMost((r) => r.ddS)} of ${pairs.length}, tracer CPU at or below in ${atMost((r) => r.cpuS)} of ${pairs.length}, lost at or below in ${atMost((r) => r.lost)} of ${pairs.length}`);
    }
    // Where each tool's CPU went: trace-cmd splices pages to files while recording and writes trace.dat (compressed)
    // at the end; ltt writes the CTF trace while recording. Medians per phase, run by run.
    const phased = Object.entries(results).filter(([, rs]) => rs.length > 0 && rs[0].phases);
    if (phased.length) {
      const phase = (rs, k) => median(rs.map((r) => r.phases[k])).toFixed(2);
      const names = (mode) => (mode.startsWith('ltt') ? ['in `ltt start`', 'in `ltt stop`'] : ['from its start to its banner (events enabled)', 'at its end']);
      console.log(`tracer CPU by phase (each phase's median over the runs, s): ${phased.map(([mode, rs]) => `${mode} ${phase(rs, 'before')} ${names(mode)[0]} + ${phase(rs, 'during')} while dd ran + ${phase(rs, 'after')} ${names(mode)[1]}`).join('; ')}`);
    }
    // What each tool's consumer adds to dd's time over the kernel's share with the same clock, run by run.
    const floorOf = { ltt: 'kernel only', 'trace-cmd': 'kernel only local', 'trace-cmd mono': 'kernel only' };
    const added = Object.entries(floorOf)
      .filter(([mode, floor]) => results[mode]?.length && results[floor]?.length)
      .map(([mode, floor]) => `${mode} ${signed(median(results[mode].map((r, k) => r.ddS - results[floor][k].ddS)), 3)} s (over ${floor})`);
    if (added.length) console.log(`dd time added by the consumer, median of run-by-run differences: ${added.join(', ')}`);
    console.log('(medians over runs; ltt: discard mode, lost = discarded events + lost packets; trace-cmd: overwrite mode, lost = overrun + dropped + left unread + [LOST]; CPU loop: lower = faster CPUs)');
  } finally {
    for (const c of [...cleanups].reverse()) await c().catch((err) => process.stderr.write(`bench/kernel: cleanup: ${err.message}\n`));
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    process.stderr.write(`bench/kernel: ${err.message}\n`);
    process.exitCode = 1;
  });
}
