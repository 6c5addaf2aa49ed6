// A non-root user without LTT_RUNDIR: `ltt create` starts the user's own daemon in $LTT_HOME/.ltt (private
// 0700 directory), user-space commands work, and kernel commands get LTTng's one-line "requires a root
// session daemon" error. Real processes running as the `nobody` user.

import { strict as assert } from 'node:assert';
import { chownSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { alive, LttTestEnv, lttAs, waitExit } from './ltt-test-env.js';

const NOBODY = 65534;
const lttAsNobody = (env: NodeJS.ProcessEnv, ...args: string[]) => lttAs({ uid: NOBODY, gid: NOBODY }, env, ...args);

test("a user's own daemon in ~/.ltt, started by create, refuses kernel commands", { timeout: 90_000 }, async () => {
  const env = new LttTestEnv();
  chownSync(env.root, NOBODY, NOBODY);
  chownSync(env.home, NOBODY, NOBODY);
  const userEnv: NodeJS.ProcessEnv = { ...env.env, HOME: env.home };
  delete userEnv.LTT_RUNDIR;
  const rundir = join(env.home, '.ltt');
  let pid: number | undefined;
  try {
    const create = await lttAsNobody(userEnv, 'create', 'mine');
    assert.equal(create.code, 0, create.stderr);
    assert.equal(create.stdout.split('\n')[0], 'Spawning a session daemon');
    pid = Number.parseInt(readFileSync(join(rundir, 'ltt-sessiond.pid'), 'utf8'), 10);
    assert.ok(alive(pid));
    const dir = statSync(rundir);
    assert.deepEqual([dir.uid, dir.mode & 0o777], [NOBODY, 0o700]);
    assert.equal(statSync(join(rundir, 'client-ltt-sessiond')).uid, NOBODY);

    const ust = await lttAsNobody(userEnv, 'enable-event', '-u', 'app:*');
    assert.deepEqual([ust.code, ust.stdout], [0, 'ust event app:* created in channel channel0\n']);
    const kernel = await lttAsNobody(userEnv, 'enable-event', '-k', 'sched_switch');
    assert.equal(kernel.code, 1);
    assert.equal(
      kernel.stderr,
      'Error: Event sched_switch: Tracing the kernel requires a root ltt-sessiond daemon, as well as "tracing" group membership or root user ID for the ltt client (channel channel0, session mine)\n',
    );
    const listKernel = await lttAsNobody(userEnv, 'list', '-k');
    assert.equal(listKernel.code, 1);
    assert.match(listKernel.stderr, /^Error: Unable to list kernel events: Tracing the kernel requires a root ltt-sessiond daemon/);
    assert.equal((await lttAsNobody(userEnv, 'destroy')).code, 0);
  } finally {
    if (pid !== undefined && alive(pid)) {
      process.kill(pid, 'SIGTERM');
      await waitExit(pid);
    }
    rmSync(rundir, { recursive: true, force: true });
    await env.cleanup();
  }
});
