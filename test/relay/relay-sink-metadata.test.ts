// The relay sink's metadata: what a chunk sent is kept once (the next chunk begins with it whole), not once as
// sent and twice more as text.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { relayTraceSink, type RelaySessionRef } from '../../src/relay/relay-sink.js';
import { freePorts } from './relay-helpers.js';

test('a metadata text written to a relay sink is kept once, as sent', async () => {
  // No relay listens there: the sink takes writes at once and queues them behind its connection (which fails).
  const [port] = await freePorts(1);
  const session: RelaySessionRef = {
    name: 's', hostname: 'h', liveTimerUs: 0, sessiondUuid: '00'.repeat(16), sessiondSessionId: 1, creationTime: 0, chunkId: 0, basePath: '', nameContainsCreationTime: false,
  };
  const sink = relayTraceSink({ host: '127.0.0.1', controlPort: port!, dataPort: port!, session, tracePath: 'ust/uid/0/64-bit' });
  sink.ready.catch(() => undefined);
  const text = Buffer.alloc(8 << 20, 'typealias integer { size = 8; } := uint8_t;\n');
  const before = process.memoryUsage().arrayBuffers;
  sink.writeMetadata(text);
  const kept = process.memoryUsage().arrayBuffers - before;
  // Once as sent (with its signature) is 8 MiB; before, two more copies of the text were kept (24 MiB).
  assert.ok(kept < 12 << 20, `${(kept / (1 << 20)).toFixed(1)} MiB kept for 8 MiB of metadata`);
  await sink.close();
});
