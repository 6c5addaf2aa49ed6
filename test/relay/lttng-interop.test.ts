// ltt-relayd against LTTng's own daemons: a real lttng-sessiond 2.13 (Debian's lttng-tools, private runtime
// folder) streams a user-space session of an LTTng-UST C app to ltt-relayd over LTTng's consumer-to-relay
// protocol, and the stored trace is what lttng-relayd stores for the same app: the same files in the same
// layout (OUTPUT/HOSTNAME/SESSION-DATE/ust/uid/0/64-bit/{metadata, texts_N, index/texts_N.idx}), the same
// babeltrace2 text (timestamps aside), which `ltt view` prints too.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../repo-paths.js';
import { babeltraceText, listFiles, missingPeers, startRelay, streamWithLttng } from './relay-helpers.js';

const skip = missingPeers();

test('lttng-sessiond 2.13 streams to ltt-relayd: the layout and babeltrace2 text of lttng-relayd', { skip, timeout: 300_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'ltt-relay-interop-'));
  try {
    const stored: Record<'ltt' | 'lttng', string> = { ltt: '', lttng: '' };
    for (const kind of ['lttng', 'ltt'] as const) {
      const relay = await startRelay(kind, join(work, kind, 'out'));
      try {
        streamWithLttng(relay, 'interop', 300);
      } finally {
        await relay.stop();
      }
      // OUTPUT/HOSTNAME/SESSION-YYYYmmdd-HHMMSS
      const hosts = readdirSync(relay.output);
      assert.equal(hosts.length, 1, `${kind}: hosts ${hosts}`);
      const sessions = readdirSync(join(relay.output, hosts[0]!));
      assert.equal(sessions.length, 1);
      assert.match(sessions[0]!, /^interop-\d{8}-\d{6}$/);
      stored[kind] = join(relay.output, hosts[0]!, sessions[0]!);
    }
    assert.deepEqual(listFiles(stored.ltt), listFiles(stored.lttng));
    assert.ok(listFiles(stored.ltt).includes('ust/uid/0/64-bit/index/texts_0.idx'), listFiles(stored.ltt).join(' '));

    const theirs = babeltraceText([stored.lttng]);
    const ours = babeltraceText([stored.ltt]);
    assert.equal(theirs.code, 0, theirs.err);
    assert.equal(ours.code, 0, ours.err);
    assert.equal(ours.err, '');
    assert.equal(theirs.lines, 300, 'lttng-relayd stored every event');
    assert.equal(ours.text, theirs.text);

    // ltt view reads what ltt-relayd stored as babeltrace2 does, timestamps included.
    const view = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'ltt'), 'view', stored.ltt], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    const bt = spawnSync('babeltrace2', [stored.ltt], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    assert.equal(view.status, 0, view.stderr);
    assert.equal(view.stdout, bt.stdout);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
