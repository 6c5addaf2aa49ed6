#!/usr/bin/env node
// `npm start`: a first look at ltt. Traces this machine's scheduler and system calls for a few seconds around a
// small workload, with the real CLI exactly as a user would type it (`ltt create`, which spawns a session
// daemon, `enable-event -k`, `start`, `stop`, `view`, `destroy`), then prints what was recorded: events per
// type (top 12), lost events, the trace's path, the first 20 lines of `ltt view`, then the same trace as SQL tables
// (`ltt analyze cputop`, `ltt query` for the slowest system calls).
//
// Contract: needs the build (`npm ci` builds), root and tracefs; without them it prints one line saying what
// is missing and exits 1. The daemon is private to this run (LTT_RUNDIR in a temp folder) and is stopped at
// the end, so it neither needs nor disturbs a daemon already running; the trace stays in the temp folder it
// names. Every step is time-bound; on failure or Ctrl-C the session is destroyed and the daemon stopped.

import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDaemonPid, stopProcess } from './private-daemon.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LTT = path.join(ROOT, 'bin', 'ltt');
const SESSION = 'ltt-demo';
const TRACE_SECONDS = 3;
const VIEW_LINES = 20;
const TOP = 12;

function die(msg) {
  process.stderr.write(`npm start: ${msg}\n`);
  process.exit(1);
}

async function preflight() {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js'))) die('ltt is not built: run `npm ci` (or `npm run build`) first');
  if (process.platform !== 'linux') die('kernel tracing needs Linux (tracefs)');
  if (process.getuid?.() !== 0) die('kernel tracing needs root (tracefs instances): run `sudo npm start`');
  const tracefsKnown = /\ttracefs$/m.test(fs.readFileSync('/proc/filesystems', 'utf8'));
  if (!tracefsKnown && !fs.existsSync('/sys/kernel/debug/tracing/instances')) {
    die('this kernel has no tracefs (needs CONFIG_FTRACE / CONFIG_TRACING)');
  }
  // Mounted first, as ltt mounts it (src/ftrace/tracefs.ts): only then does events/syscalls tell whether the
  // kernel has syscall tracepoints (optional: CONFIG_FTRACE_SYSCALLS).
  const { root } = await import('../dist/src/ftrace/tracefs.js');
  let tracefs;
  try {
    tracefs = root();
  } catch (err) {
    die(err.message);
  }
  return { syscalls: fs.existsSync(path.join(tracefs, 'events', 'syscalls')) };
}

/** One CLI step, time-bound; resolves its stdout or rejects with ltt's own one-line message. */
function ltt(env, args, timeoutMs = 30_000) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [LTT, ...args], { env, timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (!err) return resolve(String(stdout));
      const why = err.killed ? `no answer within ${timeoutMs / 1000} s` : String(stderr).trim().split('\n').pop() || `exit ${err.code}`;
      reject(new Error(`ltt ${args.join(' ')}: ${why}`));
    });
  });
}

/** A small, recognizable workload: a few processes that read files and sleep, over TRACE_SECONDS. */
function workload() {
  const script = `for i in 1 2 3 4 5 6; do ls -l /usr/bin > /dev/null; cat /proc/loadavg > /dev/null; sleep ${TRACE_SECONDS / 6}; done`;
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', script], { timeout: (TRACE_SECONDS + 10) * 1000, killSignal: 'SIGKILL' }, () => resolve());
  });
}

/** The first `n` lines of `ltt view DIR` (the viewer is stopped once they are in). */
function viewHead(env, dir, n) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [LTT, 'view', dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    let err = '';
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      const lines = text.split('\n').slice(0, n);
      resolve({ lines: lines.filter((l, i) => l.length > 0 || i < lines.length - 1), err: err.trim() });
    };
    const timer = setTimeout(finish, 30_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      text += d;
      if (text.split('\n').length > n) finish();
    });
    child.stderr.on('data', (d) => { err += d; });
    child.on('close', finish);
    child.on('error', (e) => { err += e.message; finish(); });
  });
}

async function countEvents(dir) {
  const { openTrace } = await import('../dist/src/ctf/index.js');
  const opened = await openTrace([dir]);
  const perName = new Map();
  let total = 0;
  let discarded = 0;
  for await (const batch of opened.messages) {
    for (const m of batch) {
      if (m.type === 'event') {
        total++;
        perName.set(m.ec.name, (perName.get(m.ec.name) ?? 0) + 1);
      } else if (m.type === 'discarded-events') discarded += m.count ?? 0;
    }
  }
  return { total, discarded, perName: [...perName].sort((a, b) => b[1] - a[1]) };
}

async function stopDaemon(rundir) {
  const pid = readDaemonPid(rundir);
  if (pid) await stopProcess(pid);
}

async function main() {
  const { syscalls } = await preflight();
  const rundir = fs.mkdtempSync(path.join(os.tmpdir(), 'ltt-demo-rundir-'));
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ltt-demo-trace-'));
  const env = { ...process.env, LTT_RUNDIR: rundir };
  let created = false;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    if (created) await ltt(env, ['destroy', SESSION]).catch(() => {});
    await stopDaemon(rundir);
    fs.rmSync(rundir, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      process.stderr.write(`npm start: ${sig}: destroying the session\n`);
      cleanup().finally(() => process.exit(130));
    });
  }
  try {
    console.log(`$ ltt create ${SESSION} -o ${out}`);
    await ltt(env, ['create', SESSION, '-o', out]);
    created = true;
    const tracepoints = 'sched_switch,sched_wakeup,sched_process_fork,sched_process_exec,sched_process_exit';
    console.log(`$ ltt enable-event -k ${tracepoints}`);
    await ltt(env, ['enable-event', '-k', tracepoints]);
    if (syscalls) {
      console.log('$ ltt enable-event -k --syscall -a');
      await ltt(env, ['enable-event', '-k', '--syscall', '-a']);
    } else {
      console.log('(this kernel has no syscall tracepoints: CONFIG_FTRACE_SYSCALLS is off; tracing the scheduler only)');
    }
    console.log('$ ltt start');
    await ltt(env, ['start']);
    console.log(`  ... tracing the whole machine for ${TRACE_SECONDS} s while a small shell loop runs (ls, cat, sleep)`);
    await workload();
    console.log('$ ltt stop');
    await ltt(env, ['stop'], 60_000);
    const list = await ltt(env, ['list', SESSION]);
    const discarded = [...list.matchAll(/Discarded events:\s*(\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
    const lostPackets = [...list.matchAll(/Lost packets:\s*(\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);

    const counts = await countEvents(out);
    console.log(`\nRecorded ${counts.total} events of ${counts.perName.length} types; lost: ${discarded} discarded events, ${lostPackets} lost packets (reader saw ${counts.discarded} discarded)`);
    const width = Math.max(...counts.perName.slice(0, TOP).map(([n]) => n.length), 10);
    for (const [name, n] of counts.perName.slice(0, TOP)) console.log(`  ${name.padEnd(width)} ${String(n).padStart(9)}`);
    if (counts.perName.length > TOP) {
      const rest = counts.perName.slice(TOP).reduce((a, [, n]) => a + n, 0);
      console.log(`  ${`(${counts.perName.length - TOP} more types)`.padEnd(width)} ${String(rest).padStart(9)}`);
    }
    console.log(`\nTrace: ${out}`);
    console.log(`\n$ ltt view ${out} | head -${VIEW_LINES}`);
    const view = await viewHead(env, out, VIEW_LINES);
    for (const l of view.lines) console.log(l);
    if (view.lines.length === 0) throw new Error(`ltt view printed nothing${view.err ? `: ${view.err}` : ''}`);

    // The same trace as SQL tables: who used the CPU (lttng-cputop's numbers), and the slowest system calls.
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'ltt-demo-tables-'));
    const tables = { ...env, LTT_CACHE: cache };
    try {
      console.log(`\n$ ltt analyze cputop --top 5 ${out}`);
      process.stdout.write(await ltt(tables, ['analyze', 'cputop', '--top', '5', out], 120_000));
      if (syscalls) {
        const sql = 'SELECT s.name AS syscall, t.name AS process, s.tid, s.dur / 1000 AS us FROM syscalls s JOIN threads t USING (trace_id, tid) ORDER BY s.dur DESC LIMIT 5';
        console.log(`\n$ ltt query ${out} "${sql}"`);
        process.stdout.write(await ltt(tables, ['query', out, sql], 120_000));
      }
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }

    console.log(`\n$ ltt destroy ${SESSION}`);
    await ltt(env, ['destroy', SESSION]);
    created = false;
    console.log(`\nThe trace stays in ${out}: view it with \`node bin/ltt view ${out}\` or \`babeltrace2 ${out}\`,`);
    console.log(`see it as a timeline with \`node bin/ltt web ${out}\`, or open \`node bin/ltt export -f perfetto t.pftrace ${out}\` in ui.perfetto.dev.`);
  } finally {
    await cleanup();
  }
}

main().catch((err) => {
  process.stderr.write(`npm start: ${err.message}\n`);
  process.exitCode = 1;
});
