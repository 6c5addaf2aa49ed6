#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node's test runner, one file at a time: kernel tests
// share tracefs and the machine's two CPUs, so running them concurrently would only make them flaky.
// Node 20's runner takes no globs, hence this list. Extra arguments narrow the run to files containing them.
// Before the run it removes the tracefs instances of test runs killed before their cleanup (sweep-test-instances.mjs).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { sweepTestInstances } from './sweep-test-instances.mjs';

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

// Instances of test runs killed before their `finally` (SIGKILL): each holds its ring buffers' memory for good.
const swept = sweepTestInstances();
if (swept.removed.length > 0) console.error(`run-tests: removed tracefs instances left by killed test runs: ${swept.removed.join(', ')}`);
for (const line of swept.failed) console.error(`run-tests: ${line}`);

const filters = process.argv.slice(2);
// tsc never deletes outputs: a compiled test whose source was moved or removed is not a test any more.
const files = findTests('dist/test')
  .filter((f) => existsSync(f.replace(/^dist\//, '').replace(/\.js$/, '.ts')))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('No test files found under dist/test (run the build first).');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
