// scripts/run-tests.mjs, run for real, removes before its run the tracefs instances that killed test runs left
// (ltt-test-NAME-PID, ltt-test-NAME-PID-CHANNEL of a pid that no longer runs), tracing in them or not, and only
// those: a live test's instances and another tool's stay.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import * as tracefs from '../../src/ftrace/tracefs.js';
import { REPO_ROOT } from '../repo-paths.js';

test('run-tests removes the instances of test processes that are gone, and no other', () => {
  // A pid that ran and is gone (pids are reused only after pid_max more processes).
  const dead = spawnSync('/bin/true').pid!;
  const live = process.pid;
  const gone = [`ltt-test-sweep-${dead}`, `ltt-test-c-sweep-${dead}-chan`];
  const kept = [`ltt-test-sweep-${live}`, `ltt-test-c-sweep-${live}-chan`, `ltt-other-sweep-${dead}`, `ltt-test-sweep-${dead}-${live}`];
  try {
    for (const name of [...gone, ...kept]) tracefs.mkdirInstance(name);
    // As a killed burst test leaves its instance: an event enabled and tracing on.
    tracefs.writeText('events/sched/sched_switch/enable', '1', gone[0]);
    tracefs.writeText('tracing_on', '1', gone[0]);
    // A filter that matches no test file: the run itself stops at once (exit 1), after the sweep.
    const r = spawnSync(process.execPath, ['scripts/run-tests.mjs', 'no-such-test-file-for-the-sweep'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 1, r.stderr);
    for (const name of gone) assert.equal(tracefs.instanceExists(name), false, `${name} removed`);
    for (const name of kept) assert.equal(tracefs.instanceExists(name), true, `${name} kept`);
    const said = r.stderr.split('\n').find((l) => l.startsWith('run-tests: removed tracefs instances left by killed test runs: '));
    assert.ok(said !== undefined, r.stderr);
    const names = said.slice(said.lastIndexOf(': ') + 2).split(', ');
    for (const name of gone) assert.ok(names.includes(name), said);
    for (const name of kept) assert.ok(!said.includes(name), said);
  } finally {
    for (const name of [...gone, ...kept]) if (tracefs.instanceExists(name)) tracefs.rmdirInstance(name);
  }
});
