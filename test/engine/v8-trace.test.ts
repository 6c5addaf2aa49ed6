// The reader of V8's --trace-opt / --trace-deopt output that the no-deoptimization tests rely on (v8-trace.ts)
// sees a real optimization and a real deoptimization of this Node's V8: if the output's wording changed, those
// tests would find no bailout whatever happened, and this one fails instead.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { bailoutsOf, optimizedFunctions } from './v8-trace.js';

it('finds an optimized function and its deoptimization in V8\'s own trace', () => {
  const code = `
    function hotAdd(a, b) { return a + b; }
    %PrepareFunctionForOptimization(hotAdd);
    hotAdd(1, 2); hotAdd(3, 4);
    %OptimizeFunctionOnNextCall(hotAdd);
    hotAdd(5, 6);
    // Strings where it saw only small integers: its optimized code bails out.
    hotAdd('a', 'b');`;
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--trace-opt', '--trace-deopt', '-e', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(optimizedFunctions(r.stdout).has('hotAdd'), r.stdout);
  assert.equal(bailoutsOf(r.stdout, /hotAdd/).length, 1, r.stdout);
  assert.deepEqual(bailoutsOf(r.stdout, /hot/), [], 'whole names only');
});
