// The control protocol against a real ltt-sessiond process on a real Unix socket: the handshake, request ids,
// pipelining, and every kind of garbage (random bytes, bad JSON, a huge announced length, a wrong version,
// unknown commands, malformed requests). Each gets an error answer and the daemon keeps serving everyone.

import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ControlClient } from '../../src/control/client.js';
import { ControlError } from '../../src/control/error-codes.js';
import { encodeFrame } from '../../src/control/framing.js';
import { PROTOCOL_VERSION } from '../../src/control/messages.js';
import { socketPath } from '../../src/control/runtime-paths.js';
import { exited, LttTestEnv, startForegroundDaemon } from '../cli/ltt-test-env.js';
import { RawPeer } from './raw-peer.js';

test('control protocol: handshake, requests, garbage answered while the daemon keeps serving', { timeout: 60_000 }, async () => {
  const env = new LttTestEnv();
  const daemon = await startForegroundDaemon(env, ['--no-kernel']);
  const path = socketPath(env.rundir);
  try {
    // A healthy client, connected before any garbage and used after it.
    const client = await ControlClient.connect(env.rundir);
    const info = await client.request('daemon-info', {});
    assert.equal(info.pid, daemon.pid);
    assert.equal(info.protocolVersion, PROTOCOL_VERSION);

    // Random bytes instead of a hello: the first 4 bytes announce an absurd length -> error, then hang-up.
    const random = new RawPeer(path);
    const noise = randomBytes(256);
    noise.writeUInt32BE(0xfffffff0, 0);
    random.write(noise);
    const answer = await random.next();
    assert.equal(answer.type, 'response');
    assert.equal(answer.ok, false);
    assert.equal(answer.id, null);
    assert.equal(answer.error.code, 'FRAME_TOO_LARGE');
    assert.ok(await random.waitClosed(), 'the daemon hangs up on an unframeable stream');

    // A well-framed non-hello first message.
    const rude = new RawPeer(path);
    rude.write(encodeFrame({ type: 'request', id: 1, command: 'list-sessions', args: {} }));
    assert.equal((await rude.next()).error.code, 'INVALID_PROTOCOL');
    assert.ok(await rude.waitClosed());

    // Wrong protocol version.
    const old = new RawPeer(path);
    old.hello(PROTOCOL_VERSION + 41);
    const refused = await old.next();
    assert.equal(refused.error.code, 'PROTOCOL_VERSION');
    assert.match(refused.error.message, /^Incompatible control protocol version/);
    assert.ok(await old.waitClosed());

    // After the handshake: a frame that is not JSON, or not a request, is answered once and its connection
    // closed (nothing more is read from a client that speaks garbage).
    const junk = Buffer.from('{"type": "request", "id": 3, oops');
    const framed = Buffer.alloc(4 + junk.length);
    framed.writeUInt32BE(junk.length, 0);
    junk.copy(framed, 4);
    for (const bad of [framed, encodeFrame({ type: 'request', command: 'list-sessions' }), encodeFrame(null)]) {
      const garbler = await RawPeer.authenticated(path);
      garbler.write(Buffer.concat([bad, encodeFrame({ type: 'request', id: 4, command: 'list-sessions', args: {} })]));
      const answer = await garbler.next();
      assert.deepEqual([answer.ok, answer.id, answer.error.code], [false, null, 'INVALID_PROTOCOL']);
      assert.ok(await garbler.waitClosed(), 'closed at the first bad frame');
      assert.equal(garbler.frames.length, 0, 'the request after the bad frame is not answered');
    }
    const peer = new RawPeer(path);
    peer.hello();
    const hello = await peer.next();
    assert.equal(hello.type, 'hello');
    assert.deepEqual(await peer.authenticate(hello), { type: 'authenticated', uid: 0, gid: 0 });

    // Unknown command, wrong argument types: answered with the request id, and the connection goes on.
    peer.write(encodeFrame({ type: 'request', id: 7, command: 'format-disk', args: {} }));
    const unknown = await peer.next();
    assert.deepEqual([unknown.id, unknown.error.code], [7, 'UND']);
    assert.match(unknown.error.message, /^Undefined command/);
    peer.write(encodeFrame({ type: 'request', id: 8, command: 'create-session', args: 'not an object' }));
    assert.deepEqual((await peer.next()).error.code, 'INVALID');
    peer.write(encodeFrame({ type: 'request', id: 9, command: 'enable-channel', args: { session: 42, domain: 'ust' } }));
    assert.equal((await peer.next()).error.code, 'INVALID');
    peer.write(encodeFrame({ type: 'request', id: 10, command: 'enable-channel', args: { session: 's', domain: 'martian' } }));
    assert.equal((await peer.next()).error.code, 'INVALID');

    // The same connection still works, and a request sent one byte at a time is reassembled.
    const request = encodeFrame({ type: 'request', id: 11, command: 'create-session', args: { name: 'bytewise' } });
    for (const byte of request) peer.write(Buffer.from([byte]));
    const created = await peer.next();
    assert.deepEqual([created.id, created.ok, created.result.name], [11, true, 'bytewise']);

    // Pipelined requests come back in order, matched by id.
    peer.write(
      Buffer.concat([
        encodeFrame({ type: 'request', id: 20, command: 'get-session', args: { session: 'bytewise' } }),
        encodeFrame({ type: 'request', id: 21, command: 'get-session', args: { session: 'nope' } }),
        encodeFrame({ type: 'request', id: 22, command: 'list-sessions', args: {} }),
      ]),
    );
    const [a, b, c] = [await peer.next(), await peer.next(), await peer.next()];
    assert.deepEqual([a.id, a.ok, b.id, b.ok, b.error.code, b.error.message, c.id, c.ok], [20, true, 21, false, 'SESS_NOT_FOUND', 'Session name not found', 22, true]);

    // A huge length after the handshake: answered, then that connection (only) is closed.
    const header = Buffer.alloc(4);
    header.writeUInt32BE(512 << 20, 0);
    peer.write(header);
    assert.equal((await peer.next()).error.code, 'FRAME_TOO_LARGE');
    assert.ok(await peer.waitClosed());

    // The first client never noticed any of it.
    const sessions = await client.request('list-sessions', {});
    assert.deepEqual(sessions.map((s) => s.name), ['bytewise']);
    client.close();
    assert.ok(env.log().includes('Client sent garbage'), 'garbage is logged');
    assert.equal(daemon.exitCode, null, 'the daemon is still running');
  } finally {
    daemon.kill('SIGTERM');
    assert.equal(await exited(daemon), 0);
    await env.cleanup();
  }
});

test('control client: clear errors for no daemon and for a daemon killed mid-connection', { timeout: 60_000 }, async () => {
  const env = new LttTestEnv();
  try {
    await assert.rejects(ControlClient.connect(env.rundir), (error: unknown) => {
      assert.ok(error instanceof ControlError);
      assert.equal(error.code, 'NO_SESSIOND');
      assert.equal(error.message, 'No session daemon is available');
      return true;
    });
    const daemon = await startForegroundDaemon(env, ['--no-kernel']);
    const client = await ControlClient.connect(env.rundir);
    await client.request('create-session', { name: 'doomed' });
    daemon.kill('SIGKILL');
    await exited(daemon);
    await assert.rejects(client.request('list-sessions', {}), (error: unknown) => {
      assert.ok(error instanceof ControlError);
      assert.equal(error.code, 'DAEMON_GONE');
      return true;
    });
    // Its socket file is still there, but nobody listens: a new connection says "no daemon", at once.
    const started = Date.now();
    await assert.rejects(ControlClient.connect(env.rundir), (error: unknown) => (error as ControlError).code === 'NO_SESSIOND');
    assert.ok(Date.now() - started < 2000);
  } finally {
    await env.cleanup();
  }
});
