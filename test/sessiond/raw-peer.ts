// A raw control-socket connection for tests that speak the protocol by hand (garbage, pipelining, silence): it
// collects decoded frames, notices when the daemon hangs up, and can stop reading (a client that never reads).

import { closeSync, openSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { encodeFrame, FrameDecoder, MAX_RESPONSE_BYTES } from '../../src/control/framing.js';
import { PROTOCOL_VERSION } from '../../src/control/messages.js';

/** A raw connection that collects decoded frames and notices when the daemon hangs up. */
export class RawPeer {
  readonly frames: any[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder(MAX_RESPONSE_BYTES);
  readonly socket: Socket;
  private waiters: Array<() => void> = [];

  constructor(path: string) {
    this.socket = createConnection(path);
    this.socket.on('data', (chunk) => {
      for (const frame of this.decoder.push(chunk)) if (frame.ok) this.frames.push(frame.body);
      this.wake();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    this.socket.on('error', () => undefined);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  hello(version = PROTOCOL_VERSION): void {
    this.write(encodeFrame({ type: 'hello', version, peer: 'test', pid: process.pid }));
  }

  /** Answers the daemon's credential challenge (its hello) as a client does: the file, then an auth frame. */
  async authenticate(hello: any): Promise<any> {
    closeSync(openSync(join(hello.auth.dir, hello.auth.nonce), 'wx', 0o600));
    this.write(encodeFrame({ type: 'auth' }));
    return await this.next();
  }

  async next(timeoutMs = 5000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (this.closed) throw new Error('connection closed without an answer');
      if (Date.now() > deadline) throw new Error('no answer in time');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.frames.shift();
  }

  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  /** A connection past the handshake (and root's credential challenge), ready for requests. */
  static async authenticated(path: string): Promise<RawPeer> {
    const peer = new RawPeer(path);
    peer.hello();
    const hello = await peer.next();
    if (hello.auth !== undefined) await peer.authenticate(hello);
    return peer;
  }

  end(): void {
    this.socket.destroy();
  }
}
