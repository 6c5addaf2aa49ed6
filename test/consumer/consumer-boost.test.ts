// The kernel consumer's priority is raised while it falls behind and given back once it has caught up
// (consumer-priority.ts): the timing rules with a lever that records, and the real thing in a session leader.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CALM_MS, CONSUMER_NICE, ConsumerBoost, CpuPressure, LATE_MS, PRESSURE_WINDOW_MS, RECHECK_MS, WakeWatch, type PriorityLever } from '../../src/consumer/consumer-priority.js';

function recorder(): PriorityLever & { calls: string[] } {
  const calls: string[] = [];
  return { calls, raise: () => calls.push('raise'), release: () => calls.push('release') };
}

test('raised at the first pass that finds the consumer behind, kept while it stays behind, given back after CALM_MS of calm', () => {
  const lever = recorder();
  const b = new ConsumerBoost(lever, true);
  b.update(false, 0);
  assert.deepEqual(lever.calls, [], 'not raised while the consumer keeps up');
  b.update(true, 10);
  assert.deepEqual(lever.calls, ['raise']);
  b.update(true, 15);
  assert.deepEqual(lever.calls, ['raise'], 'not raised again within RECHECK_MS');
  b.update(true, 10 + RECHECK_MS);
  assert.deepEqual(lever.calls, ['raise', 'raise'], 'made sure of again after RECHECK_MS (another channel may have given it back)');
  b.update(false, 200);
  b.update(false, 200 + CALM_MS - 1);
  assert.ok(b.isRaised, 'still raised before CALM_MS of calm');
  b.update(true, 200 + CALM_MS);
  b.update(false, 300 + CALM_MS);
  b.update(false, 300 + 2 * CALM_MS - 1);
  assert.ok(b.isRaised, 'a pass behind starts the calm again');
  b.update(false, 300 + 2 * CALM_MS);
  assert.ok(!b.isRaised);
  assert.equal(lever.calls.at(-1), 'release');
  assert.equal(b.raises, 1);
  b.release();
  assert.equal(lever.calls.filter((c) => c === 'release').length, 1, 'released once');
});

test('a late wake-up is measured from the wait the reader asked for, not from the start of the pass before it', () => {
  // The page reader's loop: late(now) as a pass starts, the pass, wait(ms) as the reader goes to sleep.
  let t = 0;
  const w = new WakeWatch(() => t);
  assert.equal(w.late(t), false, 'no wait yet');
  // A pass of 50 ms (the first touches of staging pages), then a wait of 5 ms that ends 1 ms after its time.
  t = 50;
  w.wait(5);
  t = 56;
  assert.equal(w.late(t), false, 'the pass\'s own 50 ms are not the CPUs being taken');
  t = 60;
  w.wait(5);
  t = 65 + LATE_MS + 1;
  assert.equal(w.late(t), true, 'a wait that ends more than LATE_MS after its time is late');
  w.wait(0);
  t += 1000;
  assert.equal(w.late(t), false, 'no timed wait (a pass at once): nothing to be late for');
  w.wait(5);
  w.reset();
  t += 1000;
  assert.equal(w.late(t), false, 'tracing paused: the wait is not timed');
});

test('LTT_CONSUMER_NICE=0 (disabled): never raised', () => {
  const lever = recorder();
  const b = new ConsumerBoost(lever, false);
  b.update(true, 0);
  b.update(true, 1000);
  assert.deepEqual(lever.calls, []);
});

test('a real consumer blocked during a burst: its session (or without autogroups its threads) gets CONSUMER_NICE meanwhile and its own nice back once caught up, nothing lost', { skip: CONSUMER_NICE === 0 && 'LTT_CONSUMER_NICE=0' }, async () => {
  const child = fileURLToPath(new URL(`./consumer-boost-child${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));
  // detached: setsid(2), so the child leads its own session, as ltt-sessiond does, and has an autogroup of its own.
  const p = spawn(process.execPath, [...process.execArgv.filter((a) => !a.startsWith('--test')), child, `ltt-test-boost-${process.pid}`], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (err += d));
  const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
  const code = await new Promise((r) => p.on('exit', r));
  clearTimeout(timer);
  assert.equal(code, 0, err);
  const r = JSON.parse(out.trim()) as { before?: number; during?: number; afterCalm?: number; after?: number; events: number; handedOut: number; dropped: number };
  if (r.afterCalm !== r.before) process.stderr.write(`# CPU pressure kept the consumer's priority raised after the burst (${r.afterCalm}): a loaded machine\n`);
  assert.ok(r.before !== undefined && r.before > CONSUMER_NICE, `the child starts at its own nice (${r.before})`);
  assert.equal(r.during, CONSUMER_NICE, 'raised while the consumer was behind');
  assert.equal(r.after, r.before, 'given back (once caught up and calm, or at stop)');
  assert.equal(r.dropped, 0, 'the kernel dropped nothing');
  assert.equal(r.events, r.handedOut, 'every record handed out was written');
});

test('CPU pressure: the kernel\'s 10 s average at the first reading, then the share of each window with tasks waiting', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ltt-psi-'));
  try {
    const file = path.join(dir, 'cpu');
    const psi = (avg10: string, total: number) => `some avg10=${avg10} avg60=1.00 avg300=1.00 total=${total}\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n`;
    fs.writeFileSync(file, psi('12.50', 1_000_000));
    const p = new CpuPressure(file);
    assert.equal(p.share(10_000), 0.125);
    // 50 ms of waiting in a 100 ms window.
    fs.writeFileSync(file, psi('12.50', 1_050_000));
    assert.equal(p.share(10_000 + PRESSURE_WINDOW_MS / 2), 0.125, 'no new window yet: the last value');
    assert.equal(p.share(10_000 + PRESSURE_WINDOW_MS), 0.5);
    fs.writeFileSync(file, psi('40.00', 1_050_000));
    assert.equal(p.share(10_000 + 3 * PRESSURE_WINDOW_MS), 0, 'nobody waited in the window');
    p.close();
    assert.equal(new CpuPressure(path.join(dir, 'none')).share(0), 0, 'no PSI: no pressure');
    // The real file parses (this kernel has PSI unless booted with psi=0).
    if (fs.existsSync('/proc/pressure/cpu')) {
      const real = new CpuPressure();
      const v = real.share(performance.now());
      assert.ok(v >= 0 && v <= 1, String(v));
      real.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
