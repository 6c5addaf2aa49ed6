// Finding the traces under a path: folders holding `metadata`, symbolic links followed (as babeltrace2 does) but
// each folder walked once, so a link back up the tree (/proc/self/root, a loop made by hand) ends the walk
// instead of recursing forever, and a trace reachable twice is read once.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTraceDirs } from '../../src/graph/source-ctf-fs.js';
import { CORPUS } from './corpus-helpers.js';

test('symbolic link loops end the walk; a trace reachable twice is found once', () => {
  const root = mkdtempSync(join(tmpdir(), 'ltt-discovery-'));
  try {
    cpSync(join(CORPUS, 'succeed', '2packets'), join(root, 't'), { recursive: true });
    symlinkSync(root, join(root, 'loop'));
    symlinkSync(join(root, 't'), join(root, 'again'));
    const started = Date.now();
    const found = findTraceDirs(root);
    assert.ok(Date.now() - started < 2000);
    assert.equal(found.length, 1, found.join(' '));
    assert.match(found[0]!, /\/(again|t)$/);
    assert.deepEqual(findTraceDirs(join(root, 'loop', 'loop', 'loop')).length, 1);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
