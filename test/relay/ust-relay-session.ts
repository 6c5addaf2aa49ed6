// What the user-space relay tests share: ltt commands that must succeed, ltt-relayd in the test's own folder, the
// stored session's folder and its demo:tick count (examples/ust-demo.mjs's event) as babeltrace2 reads it.

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LttTestEnv } from '../cli/ltt-test-env.js';
import { REPO_ROOT } from '../repo-paths.js';
import { BT2, startRelay, type Relay } from './relay-helpers.js';

export const DEMO = join(REPO_ROOT, 'examples', 'ust-demo.mjs');

/** `ltt ARGS`, which must exit 0; its standard output. */
export async function ok(env: LttTestEnv, ...args: string[]): Promise<string> {
  const r = await env.ltt(...args);
  assert.equal(r.code, 0, `ltt ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** babeltrace2's demo:tick count in `dir`, which must parse. */
export function ticks(dir: string): number {
  const r = spawnSync(BT2, [dir], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, `babeltrace2 ${dir}: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => / demo:tick: /.test(l)).length;
}

/** The one folder (OUTPUT/HOST/NAME-DATE) the relay stored session `name` in. */
export function sessionFolder(relay: Relay, name: string): string {
  const host = join(relay.output, hostname());
  const found = readdirSync(host).filter((d) => d.startsWith(`${name}-`));
  assert.equal(found.length, 1, `one session folder in ${found.join(', ')}`);
  return join(host, found[0]!);
}

/** `body` with a private ltt environment and an ltt-relayd storing under it; both go afterwards. */
export async function withRelay(body: (env: LttTestEnv, relay: Relay, url: string) => Promise<void>): Promise<void> {
  const env = new LttTestEnv();
  const relay = await startRelay('ltt', join(env.root, 'relay', 'out'));
  try {
    await body(env, relay, `net://127.0.0.1:${relay.ports.control}:${relay.ports.data}`);
  } finally {
    await env.cleanup().catch(() => undefined);
    await relay.stop();
  }
}
