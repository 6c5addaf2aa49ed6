// The typed control client: the only code in ltt that opens the session daemon's socket. connect() performs
// the version handshake; request() sends one command and resolves with its typed result or rejects with a
// ControlError carrying the daemon's code and one-line message. A daemon that is absent, dead (stale socket),
// killed mid-request or silent yields a ControlError too (NO_SESSIOND, DAEMON_GONE, TIMEOUT), never a hang or a
// raw socket error. Requests may be pipelined; answers are matched by id.

import { createConnection, type Socket } from 'node:net';
import { ControlError, type WireError } from './error-codes.js';
import { encodeFrame, FrameDecoder, MAX_RESPONSE_BYTES } from './framing.js';
import {
  PROTOCOL_VERSION,
  type CommandArgs,
  type CommandName,
  type CommandResult,
  type AuthFrame,
  type HelloFrame,
} from './messages.js';
import { answerChallenge, dropChallengeFile } from './credential-challenge.js';
import { socketPath } from './runtime-paths.js';

export interface ConnectOptions {
  /** Handshake deadline. */
  connectTimeoutMs?: number;
  /** Per-request deadline (start/stop flush buffers, so this is generous). */
  requestTimeoutMs?: number;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class ControlClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedError: ControlError | undefined;

  private constructor(
    private readonly socket: Socket,
    readonly rundir: string,
    readonly daemonPid: number,
    private readonly requestTimeoutMs: number,
  ) {}

  /** Connects to the daemon serving `rundir`. Rejects with NO_SESSIOND when nothing answers there. */
  static connect(rundir: string, options: ConnectOptions = {}): Promise<ControlClient> {
    const path = socketPath(rundir);
    const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    const requestTimeoutMs = options.requestTimeoutMs ?? 120_000;
    return new Promise((resolve, reject) => {
      const socket = createConnection(path);
      const decoder = new FrameDecoder(MAX_RESPONSE_BYTES);
      let client: ControlClient | undefined;
      let settled = false;
      let daemonPid = 0;
      /** The file answering the daemon's credential challenge, until the daemon has seen it. */
      let credentialFile: string | undefined;
      const settle = (error: Error | undefined, value?: ControlClient) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (credentialFile !== undefined) dropChallengeFile(credentialFile);
        if (error) {
          socket.destroy();
          reject(error);
        } else resolve(value!);
      };
      const timer = setTimeout(
        () => settle(new ControlError('TIMEOUT', `The session daemon at ${path} did not answer the handshake in time`)),
        connectTimeoutMs,
      );
      timer.unref();
      socket.on('connect', () => {
        const hello: HelloFrame = { type: 'hello', version: PROTOCOL_VERSION, peer: 'ltt', pid: process.pid };
        socket.write(encodeFrame(hello));
      });
      socket.on('data', (chunk) => {
        for (const frame of decoder.push(chunk)) {
          if (!frame.ok) {
            const error = new ControlError('INVALID_PROTOCOL', `Protocol error occurred: ${frame.error.message}`);
            if (client) client.shutdown(error);
            else settle(error);
            return;
          }
          if (client) client.onFrame(frame.body);
          else {
            const body = frame.body as { type?: unknown; version?: unknown; pid?: unknown; ok?: unknown; error?: WireError; auth?: unknown };
            if (body.type === 'hello' && body.version === PROTOCOL_VERSION) {
              daemonPid = Number(body.pid);
              if (body.auth === undefined) {
                client = new ControlClient(socket, rundir, daemonPid, requestTimeoutMs);
                settle(undefined, client);
                continue;
              }
              try {
                const auth = body.auth as { dir?: unknown; nonce?: unknown } | null;
                credentialFile = answerChallenge(rundir, auth?.dir, auth?.nonce);
              } catch (error) {
                settle(error as Error);
                return;
              }
              const auth: AuthFrame = { type: 'auth' };
              socket.write(encodeFrame(auth));
            } else if (body.type === 'authenticated' && credentialFile !== undefined) {
              dropChallengeFile(credentialFile);
              credentialFile = undefined;
              client = new ControlClient(socket, rundir, daemonPid, requestTimeoutMs);
              settle(undefined, client);
            } else if (body.type === 'response' && body.ok === false && body.error) {
              settle(ControlError.fromWire(body.error));
            } else {
              settle(
                new ControlError(
                  'PROTOCOL_VERSION',
                  `Incompatible control protocol version: daemon speaks ${String(body.version)}, client speaks ${PROTOCOL_VERSION}`,
                ),
              );
            }
          }
        }
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        if (client) {
          client.shutdown(new ControlError('DAEMON_GONE', `The session daemon connection failed: ${error.message}`));
          return;
        }
        if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED' || error.code === 'ENOTDIR') {
          settle(new ControlError('NO_SESSIOND'));
        } else if (error.code === 'EACCES' || error.code === 'EPERM') {
          settle(
            new ControlError(
              'EPERM',
              `Permission denied: cannot connect to the session daemon socket ${path} (is this user in the tracing group?)`,
            ),
          );
        } else {
          settle(new ControlError('CONNECT_FAIL', `Unable to connect to Unix socket ${path}: ${error.message}`));
        }
      });
      socket.on('close', () => {
        if (client) client.shutdown(new ControlError('DAEMON_GONE'));
        else settle(new ControlError('NO_SESSIOND'));
      });
    });
  }

  /** Tries runtime directories in order; the first daemon that answers wins. */
  static async connectFirst(rundirs: string[], options: ConnectOptions = {}): Promise<ControlClient> {
    let last: unknown = new ControlError('NO_SESSIOND');
    for (const rundir of rundirs) {
      try {
        return await ControlClient.connect(rundir, options);
      } catch (error) {
        last = error;
        // Permission problems on the root daemon mean "try the user's own", like a missing daemon.
      }
    }
    throw last;
  }

  /** Whether a daemon answers the handshake at `rundir`. */
  static async isAlive(rundir: string, options: ConnectOptions = {}): Promise<boolean> {
    try {
      const client = await ControlClient.connect(rundir, options);
      client.close();
      return true;
    } catch {
      return false;
    }
  }

  request<C extends CommandName>(command: C, args: CommandArgs<C>): Promise<CommandResult<C>> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise<CommandResult<C>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ControlError('TIMEOUT', `The session daemon did not answer ${command} in time`));
      }, this.requestTimeoutMs);
      timer.unref();
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.socket.write(encodeFrame({ type: 'request', id, command, args }));
    });
  }

  close(): void {
    this.shutdown(new ControlError('DAEMON_GONE', 'The control connection was closed'));
  }

  private onFrame(body: unknown): void {
    const frame = body as { type?: unknown; id?: unknown; ok?: unknown; result?: unknown; error?: WireError };
    if (frame.type !== 'response') return;
    const pending = typeof frame.id === 'number' ? this.pending.get(frame.id) : undefined;
    if (!pending) {
      // An error not tied to a request (id null) ends the conversation: the daemon is about to close.
      if (frame.ok === false && frame.error) this.shutdown(ControlError.fromWire(frame.error));
      return;
    }
    this.pending.delete(frame.id as number);
    clearTimeout(pending.timer);
    if (frame.ok) pending.resolve(frame.result);
    else if (frame.error) pending.reject(ControlError.fromWire(frame.error));
    else pending.reject(new ControlError('INVALID_PROTOCOL', 'Protocol error occurred: response without result'));
  }

  private shutdown(error: ControlError): void {
    if (this.closedError) return;
    this.closedError = error;
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.pending.clear();
    this.socket.destroy();
  }
}
