// The commands in a checkout that was never built (or whose dist/ is gone): one line naming the fix, exit 1,
// no stack trace, for `ltt view` (which tries the view bundle first), any other `ltt` command and both daemons.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../repo-paths.js';

test('no build: ltt, ltt view, ltt-sessiond and ltt-relayd say so in one line', () => {
  const root = mkdtempSync(join(tmpdir(), 'ltt-not-built-'));
  try {
    cpSync(join(REPO_ROOT, 'bin'), join(root, 'bin'), { recursive: true });
    for (const [bin, args] of [['ltt', ['view', root]], ['ltt', ['list']], ['ltt-sessiond', ['--version']], ['ltt-relayd', ['--version']]] as const) {
      const r = spawnSync(process.execPath, [join(root, 'bin', bin), ...args], { encoding: 'utf8' });
      assert.equal(r.status, 1, `${bin} ${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, `${bin}: cannot load ltt's build (ERR_MODULE_NOT_FOUND): run \`npm run build\` in ${root}\n`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
