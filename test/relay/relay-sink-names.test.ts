// A relay opens a new stream's files anew (lttng-relayd truncates them, ltt-relayd opens them 'w+'): a second
// stream of one name in one trace chunk emptied the first one's file, its packets gone. A per-UID live thread that
// records again after its stream ended (past the idle-stream bound) opens a stream of the same name; the relay
// sink gives it a name of its own. A stream that sent nothing leaves its name free: its file holds nothing.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RelayClient } from '../../src/relay/relay-client.js';
import { clientSession, openRelaySink, type RelaySessionRef } from '../../src/relay/relay-sink.js';
import type { PacketIndexEntry, StreamSinkInfo } from '../../src/ctf/writer/sink.js';
import { readStoredTrace, startRelay, type Relay } from './relay-helpers.js';

const HOST = 'nameshost';
const METADATA = Buffer.from('/* CTF 1.8 */\ntrace { major = 1; minor = 8; byte_order = le; };\n');
const PACKET = 4096;

/** A packet whose bytes all are `fill` (the relay stores packets as they come), and its index entry. */
function packet(fill: number, seq: number): [Buffer, PacketIndexEntry] {
  const bits = PACKET * 8;
  return [Buffer.alloc(PACKET, fill), { packetSizeBits: bits, contentSizeBits: bits, timestampBegin: BigInt(seq), timestampEnd: BigInt(seq + 1), eventsDiscarded: 0, streamId: 1, streamInstanceId: 0, packetSeqNum: seq }];
}

for (const kind of ['ltt', 'lttng'] as const) {
  test(`${kind}-relayd: a stream opened under the name of one that sent packets in the chunk gets a file of its own`, { skip: kind === 'lttng' && !existsSync('/usr/bin/lttng-relayd') ? 'lttng-relayd not installed' : false, timeout: 60_000 }, async () => {
    const work = mkdtempSync(join(tmpdir(), 'ltt-relay-names-'));
    let relay: Relay | undefined;
    try {
      relay = await startRelay(kind, join(work, 'out'));
      const ref: RelaySessionRef = {
        name: 'names', hostname: HOST, liveTimerUs: 0, sessiondUuid: randomBytes(16).toString('hex'), sessiondSessionId: 9,
        creationTime: Math.floor(Date.now() / 1000), chunkId: 0, basePath: '', nameContainsCreationTime: false,
      };
      const daemon = await RelayClient.connect('127.0.0.1', relay.ports.control, relay.ports.data);
      await daemon.version();
      await daemon.createSession(clientSession(ref, false));
      await daemon.createTraceChunk(0n, ref.creationTime);
      const sink = await openRelaySink({ host: '127.0.0.1', controlPort: relay.ports.control, dataPort: relay.ports.data, session: ref, tracePath: 'ust/uid/0/64-bit' });
      sink.writeMetadata(METADATA);
      const info: StreamSinkInfo = { fileName: 'chan_65536', streamClassId: 1, streamInstanceId: 0, cpuId: 0 };
      const first = sink.openStream(info);
      first.writePacket(...packet(1, 0));
      await first.close();
      const again = sink.openStream(info);
      again.writePacket(...packet(2, 1));
      await again.close();
      const third = sink.openStream(info);
      third.writePacket(...packet(3, 2));
      await third.close();
      // Nothing sent: the name stays free.
      const quiet = sink.openStream({ ...info, fileName: 'chan_65537' });
      await quiet.close();
      const after = sink.openStream({ ...info, fileName: 'chan_65537' });
      after.writePacket(...packet(4, 0));
      await after.close();
      await sink.close();
      daemon.destroy();
      const sessions = readdirSync(join(relay.output, HOST));
      assert.equal(sessions.length, 1, sessions.join(', '));
      const { streams } = readStoredTrace(join(relay.output, HOST, sessions[0]!, 'ust', 'uid', '0', '64-bit'));
      assert.deepEqual(
        streams.map((s) => [s.channel, s.packets.map((p) => p.bytes.every((b) => b === p.bytes[0]) ? p.bytes[0] : -1)]),
        [['chan_65536', [1]], ['chan_65536-1', [2]], ['chan_65536-2', [3]], ['chan_65537', [4]]],
      );
    } finally {
      await relay?.stop();
      rmSync(work, { recursive: true, force: true });
    }
  });
}
