// auto-routes: an HTTP server whose routes do known work, to be traced unmodified with ltt/auto:
//   node --import ltt/auto examples/auto-routes.mjs [PORT]
// prints "listening PORT" once ready. Routes:
//   /cpu      20 ms of its thread's CPU time  /read    a large synchronous file read (readFileSync, 16 MiB)
//   /timer    a 30 ms timer                  /child   a child process (sh counting to 20000)
//   /fetch    a fetch to a second local server (a child process of this one; it answers after 10 ms)
//   /pool     the same file read on the libuv thread pool (fs.promises.readFile)
//   /worker   20 ms of CPU time in a new worker thread
//   /hang     never answers (a request left unfinished when the app is stopped)
//   /ok       answers at once
// `--backend` runs the second server itself.
import http from 'node:http';
import { execFile, spawn } from 'node:child_process';
import { openSync, readFileSync, readSync, writeFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, isMainThread } from 'node:worker_threads';

const FILE_SIZE = 16 << 20;

/**
 * This thread's own CPU time in µs: /proc/thread-self/schedstat's first field (ns on the CPU), read with one pread
 * on a descriptor kept open; where Linux does not offer it, the process's CPU clock. The process's clock also
 * counts its other threads (V8's GC, the trace consumer), which a loaded machine runs on the same CPU.
 */
let schedstat;
const stat = Buffer.alloc(64);
function cpuMicros() {
  if (schedstat === undefined) {
    try {
      schedstat = openSync('/proc/thread-self/schedstat', 'r');
    } catch {
      schedstat = null;
    }
  }
  if (schedstat === null) {
    const u = process.cpuUsage();
    return u.user + u.system;
  }
  const n = readSync(schedstat, stat, 0, stat.length, 0);
  return Number(stat.toString('latin1', 0, n).split(' ')[0]) / 1000;
}

/** Runs on the CPU for `ms` of this thread's CPU time (not wall time: a preempted loop must still do its work). */
function spin(ms) {
  const start = cpuMicros();
  let x = 0;
  for (;;) {
    for (let i = 0; i < 10000; i++) x += Math.sqrt(x + i);
    if (cpuMicros() - start >= ms * 1000) return x;
  }
}

function listen(server, port) {
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server.address().port)));
}

if (!isMainThread) {
  // The /worker route's thread (a file, not `eval`: Node runs --import preloads only in file workers).
  spin(20);
} else if (process.argv.includes('--backend')) {
  const server = http.createServer((req, res) => setTimeout(() => res.end('backend'), 10));
  const port = await listen(server, 0);
  process.stdout.write(`listening ${port}\n`);
  process.on('SIGTERM', () => process.exit(0));
  // Gone with its parent, however that ended (its stdin is a pipe from it).
  process.stdin.on('end', () => process.exit(0)).resume();
} else {
  const file = join(tmpdir(), `auto-routes-${process.pid}.bin`);
  writeFileSync(file, Buffer.alloc(FILE_SIZE, 7));
  const backend = spawn(process.execPath, [new URL(import.meta.url).pathname, '--backend'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const backendPort = await new Promise((resolve) => {
    let out = '';
    backend.stdout.on('data', (d) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
  });
  const routes = {
    '/cpu': async () => String(spin(20)),
    '/ok': async () => 'ok',
    '/read': async () => String(readFileSync(file).length),
    '/timer': () => new Promise((resolve) => setTimeout(() => resolve('timer'), 30)),
    '/child': () => new Promise((resolve, reject) =>
      execFile('/bin/sh', ['-c', 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo $i'], (err, out) => (err ? reject(err) : resolve(out)))),
    '/fetch': async () => (await fetch(`http://127.0.0.1:${backendPort}/`)).text(),
    '/pool': async () => String((await readFile(file)).length),
    '/hang': () => new Promise(() => {}),
    '/worker': () => new Promise((resolve, reject) => {
      const w = new Worker(new URL(import.meta.url));
      w.once('error', reject).once('exit', () => resolve('worker'));
    }),
  };
  const server = http.createServer(async (req, res) => {
    const route = routes[req.url];
    if (route === undefined) {
      res.writeHead(404).end('no such route\n');
      return;
    }
    try {
      res.end(await route());
    } catch (err) {
      res.writeHead(500).end(String(err));
    }
  });
  const port = await listen(server, Number(process.argv[2] ?? 0));
  const stop = () => {
    backend.kill();
    rmSync(file, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`listening ${port}\n`);
}
