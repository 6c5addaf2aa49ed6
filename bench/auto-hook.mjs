// The cost of ltt/auto's request context alone (src/auto/request-context.ts), beside the floor any async hook
// pays: a request-shaped loop (an awaited async call, then 9 nextTicks, as bench/auto-app's requests make) in
// a fresh process per variant, interleaved over rounds, CPU time per iteration (min and median):
//   none      no hook;
//   noop      createHook({ init() {}, before() {} }): Node's own bookkeeping for every resource and promise;
//   ltt/auto  ltt/auto's hook tracking a request (node:ctx disabled: the hook, not the events).
// Contract: `node bench/auto-hook.mjs [--rounds R]` after `npx tsc`; prints one line per variant and the ratio
// of ltt/auto's overhead to the no-op hook's.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CONTEXT = pathToFileURL(path.join(ROOT, 'dist', 'src', 'auto', 'request-context.js')).href;
const N = 100_000;

if (process.argv[2] === '--child') {
  const variant = process.argv[3];
  if (variant === 'noop') (await import('node:async_hooks')).createHook({ init() {}, before() {} }).enable();
  if (variant === 'ltt/auto') {
    const rc = await import(CONTEXT);
    rc.setTracking(true);
    rc.enterRequest(rc.newId());
  }
  const noop = () => {};
  const lookup = async (x) => x;
  const one = async (i) => {
    const v = await lookup(i);
    for (let j = 0; j < 9; j++) process.nextTick(noop);
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
const VARIANTS = ['none', 'noop', 'ltt/auto'];
const ns = Object.fromEntries(VARIANTS.map((v) => [v, []]));
for (let r = 0; r < rounds; r++) {
  for (const v of VARIANTS) {
    const p = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', v], { encoding: 'utf8', timeout: 120_000 });
    if (p.status !== 0) {
      process.stderr.write(`bench/auto-hook: ${v}: ${p.stderr || p.error}\n`);
      process.exit(1);
    }
    ns[v].push(Number(p.stdout));
  }
}
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const min = (xs) => Math.min(...xs);
console.log(`bench/auto-hook: ${rounds} rounds x ${N} iterations (an await + 9 nextTicks); CPU ns per iteration`);
for (const v of VARIANTS) {
  console.log(`${v.padEnd(9)} min ${min(ns[v]).toFixed(0).padStart(6)}  median ${med(ns[v]).toFixed(0).padStart(6)}  over none (min) ${(min(ns[v]) - min(ns.none)).toFixed(0).padStart(5)}`);
}
const floor = min(ns.noop) - min(ns.none);
console.log(`ltt/auto's hook over the no-op hook: ${(min(ns['ltt/auto']) - min(ns.noop)).toFixed(0)} ns per iteration (no-op hook over none: ${floor.toFixed(0)} ns)`);
