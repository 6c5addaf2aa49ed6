// The per-request CPU cost of ltt/auto, measured without a network: bench/auto's server-load numbers swing with
// the machine's other jobs, a tight loop's CPU time (the least disturbed of several rounds) does not. Each
// iteration is shaped like one of bench/auto-app's requests: the HTTP server's request-start diagnostics
// message, an awaited async call, 9 nextTicks (what Node's HTTP response makes), the response-finish message.
// Every variant runs in a fresh process, interleaved over rounds; CPU time per iteration (min and median):
//   none      no hook, no subscriber (Node's `hasSubscribers` checks only);
//   init      createHook({ init() {} }): what AsyncLocalStorage needs on Node 20 (an init hook, which also turns
//             on Node's promise tracking), the floor of any context propagation;
//   als       an AsyncLocalStorage entered once per request (enterWith in the request-start subscriber): the
//             standard context propagation, for comparison;
//   noop      createHook({ init() {}, before() {} }): the floor of a context that is told when it changes (what
//             node:ctx needs: a hook at each callback's start);
//   context   ltt/auto's request-context hook alone, tracking a request (no event recorded);
//   ltt/auto  ltt/auto loaded with a local session recording `node:*` (vpid, vtid): the hook, the channels'
//             subscribers, the events (request_start, request_end, ctx, loop) written to the ring.
// Contract: `node bench/auto-hook.mjs [--rounds R]` after `npx tsc`; prints one line per variant, ltt/auto's cost
// per request over none and over the no-op hook (the floor any context propagation pays on Node 20).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CONTEXT = pathToFileURL(path.join(ROOT, 'dist', 'src', 'auto', 'request-context.js')).href;
const AUTO = path.join(ROOT, 'dist', 'src', 'auto', 'index.js');
const N = 100_000;

if (process.argv[2] === '--child') {
  const variant = process.argv[3];
  if (variant === 'init') (await import('node:async_hooks')).createHook({ init() {} }).enable();
  if (variant === 'noop') (await import('node:async_hooks')).createHook({ init() {}, before() {} }).enable();
  if (variant === 'als') {
    const { AsyncLocalStorage } = await import('node:async_hooks');
    const als = new AsyncLocalStorage();
    const dc0 = await import('node:diagnostics_channel');
    let n = 0;
    dc0.subscribe('http.server.request.start', () => als.enterWith(++n));
  }
  if (variant === 'context') {
    const rc = await import(CONTEXT);
    rc.setTracking(true);
    rc.enterRequest(rc.newId());
  }
  const dc = await import('node:diagnostics_channel');
  const start = dc.channel('http.server.request.start');
  const finish = dc.channel('http.server.response.finish');
  const noop = () => {};
  const lookup = async (x) => x;
  const socket = { _bytesDispatched: 0, _httpMessage: null, bytesWritten: 0 };
  const one = async (i) => {
    const request = { method: 'GET', url: '/?q=1' };
    const response = { statusCode: 200 };
    if (start.hasSubscribers) start.publish({ request, response, socket, server: undefined });
    const v = await lookup(i);
    for (let j = 0; j < 9; j++) process.nextTick(noop);
    socket._bytesDispatched += 200;
    if (finish.hasSubscribers) finish.publish({ request, response, socket, server: undefined });
    return v;
  };
  const run = async (n) => {
    for (let i = 0; i < n; i++) await one(i);
  };
  await run(N / 5);
  const c0 = process.cpuUsage();
  await run(N);
  const c = process.cpuUsage(c0);
  process.stdout.write(`${((c.user + c.system) * 1000) / N}\n`);
  process.exit(0);
}

const ri = process.argv.indexOf('--rounds');
const rounds = ri > 0 ? Number(process.argv[ri + 1]) : 6;
if (!Number.isInteger(rounds) || rounds <= 0) {
  process.stderr.write('bench/auto-hook: --rounds needs a positive integer\n');
  process.exit(1);
}
const VARIANTS = ['none', 'init', 'als', 'noop', 'context', 'ltt/auto'];
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ltt-bench-auto-hook-'));
const autoEnv = { ...process.env, LTT_UST_OUTPUT: work, LTT_UST_EVENTS: 'node:*', LTT_UST_CONTEXTS: 'vpid,vtid' };
const ns = Object.fromEntries(VARIANTS.map((v) => [v, []]));
for (let r = 0; r < rounds; r++) {
  for (const v of VARIANTS) {
    const preload = v === 'ltt/auto' ? ['--import', AUTO] : [];
    const p = spawnSync(process.execPath, [...preload, fileURLToPath(import.meta.url), '--child', v], {
      encoding: 'utf8',
      timeout: 120_000,
      env: v === 'ltt/auto' ? autoEnv : process.env,
    });
    if (p.status !== 0) {
      fs.rmSync(work, { recursive: true, force: true });
      process.stderr.write(`bench/auto-hook: ${v}: ${p.stderr || p.error}\n`);
      process.exit(1);
    }
    ns[v].push(Number(p.stdout));
  }
}
fs.rmSync(work, { recursive: true, force: true });
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const min = (xs) => Math.min(...xs);
console.log(`bench/auto-hook: ${rounds} rounds x ${N} request-shaped iterations; CPU ns per iteration, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (const v of VARIANTS) {
  console.log(`${v.padEnd(9)} min ${min(ns[v]).toFixed(0).padStart(6)}  median ${med(ns[v]).toFixed(0).padStart(6)}  over none (min) ${(min(ns[v]) - min(ns.none)).toFixed(0).padStart(5)}`);
}
const over = (v, base) => (min(ns[v]) - min(ns[base])).toFixed(0);
console.log(`ltt/auto recording: ${over('ltt/auto', 'none')} ns per request over none, ${over('ltt/auto', 'noop')} ns over the no-op hook; its context hook alone ${over('context', 'noop')} ns over the no-op hook`);
console.log(`floors over none: an init hook (AsyncLocalStorage's) ${over('init', 'none')} ns, AsyncLocalStorage entered per request ${over('als', 'none')} ns, init and before hooks (a context told of its changes) ${over('noop', 'none')} ns`);
