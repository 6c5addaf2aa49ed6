// A relay sink's own close is not the relay going away. The relay answers our end of the connections with its
// own; that close came back as "the relay closed the data connection", and a destroyed session whose trace
// had all been delivered then reported trace data lost (CI: sessiond-stream, when the relay's end came back
// before the session daemon read the consumer's errors). A relay that does go away is still reported.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RelayClient } from '../../src/relay/relay-client.js';
import { clientSession, openRelaySink, type RelaySessionRef } from '../../src/relay/relay-sink.js';
import type { LttError } from '../../src/errors.js';
import { startRelay, type Relay } from './relay-helpers.js';

/** A relay session with its first chunk, as the session daemon opens it; the returned client holds it open. */
async function sessionOnRelay(relay: Relay, name: string): Promise<{ ref: RelaySessionRef; daemon: RelayClient }> {
  const ref: RelaySessionRef = {
    name, hostname: 'closehost', liveTimerUs: 0, sessiondUuid: randomBytes(16).toString('hex'), sessiondSessionId: 7,
    creationTime: Math.floor(Date.now() / 1000), chunkId: 0, basePath: '', nameContainsCreationTime: false,
  };
  const daemon = await RelayClient.connect('127.0.0.1', relay.ports.control, relay.ports.data);
  await daemon.version();
  await daemon.createSession(clientSession(ref, false));
  await daemon.createTraceChunk(0n, ref.creationTime);
  return { ref, daemon };
}

const METADATA = Buffer.from('/* CTF 1.8 */\ntrace { major = 1; minor = 8; byte_order = le; };\n');

test('a relay sink closed by its consumer does not report the relay gone; a relay killed under an open sink does', { timeout: 60_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'ltt-relay-close-'));
  let relay: Relay | undefined = await startRelay('ltt', join(work, 'out'));
  try {
    const { ref, daemon } = await sessionOnRelay(relay, 'closed');
    const gone: LttError[] = [];
    const sink = await openRelaySink({ host: '127.0.0.1', controlPort: relay.ports.control, dataPort: relay.ports.data, session: ref, tracePath: 'kernel', onGone: (e) => gone.push(e) });
    sink.writeMetadata(METADATA);
    await sink.close();
    // The relay's end of both connections comes back within a few milliseconds on loopback.
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(gone.map((e) => e.message), [], 'our own close is not the relay going away');
    assert.equal(sink.loss, undefined);

    const kept = await openRelaySink({ host: '127.0.0.1', controlPort: relay.ports.control, dataPort: relay.ports.data, session: ref, tracePath: 'kernel2', onGone: (e) => gone.push(e) });
    kept.writeMetadata(METADATA);
    await kept.settle();
    relay.child.kill('SIGKILL');
    await relay.stop();
    relay = undefined;
    for (let i = 0; i < 100 && gone.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(gone.length, 1, 'a relay killed under an open sink is reported gone, once');
    assert.match(gone[0]!.message, /^The relay at 127\.0\.0\.1:\d+ is gone: /);
    // Everything it was sent was acknowledged: gone, yet nothing lost.
    assert.equal(kept.loss, undefined);
    await kept.close();
    daemon.destroy();
  } finally {
    if (relay) await relay.stop();
    rmSync(work, { recursive: true, force: true });
  }
});
