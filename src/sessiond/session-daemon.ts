// The session daemon as an object: start() binds the control socket in the runtime directory and serves;
// close() drains (stops accepting, stops and flushes every active session, destroys every domain tracer,
// removes socket and pid file); destroy() stops at once. Each connection first exchanges a version handshake,
// then requests are answered in order. Garbage (bad JSON, unknown command, wrong shape) gets an error answer and
// the connection keeps going; a broken frame (oversized length) or a wrong version gets an error answer and
// that connection is closed. Nothing a client sends can stop the daemon serving the others.

import { disarmRotationSchedule } from './commands/rotation-schedule.js';
import { chmodSync, chownSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { ControlError } from '../control/error-codes.js';
import { encodeFrame, FrameDecoder, MAX_REQUEST_BYTES } from '../control/framing.js';
import { LTT_VERSION, PROTOCOL_VERSION, type AuthFrame, type HelloFrame, type ResponseFrame } from '../control/messages.js';
import { lttHome, socketPath } from '../control/runtime-paths.js';
import { isLttError } from '../errors.js';
import type { DaemonContext } from './daemon-context.js';
import type { PeerCredentials } from './session.js';
import type { DaemonLog } from './daemon-log.js';
import { dispatch } from './dispatch-table.js';
import { KernelDomain } from './domains/kernel-domain.js';
import { NoAppsUstDomain, type UstDomain } from './domains/ust-domain.js';
import { acquirePidFile, CredentialChallenge, prepareAuthDir, prepareRundir, releaseRundir } from './runtime-dir.js';
import { lockSession, SessionRegistry } from './session-registry.js';
import { stopTracers } from './commands/stop-session.js';

export interface SessionDaemonOptions {
  rundir: string;
  group: string;
  noKernel: boolean;
  log: DaemonLog;
  /** The user-space domain; defaults to the no-apps domain until the app registry exists. */
  ust?: UstDomain;
}

/** Converts anything a handler threw into a wire error; non-LttErrors are bugs and are logged as such. */
function toWireError(error: unknown, log: DaemonLog): { code: string; message: string } {
  if (error instanceof ControlError) return error.toWire();
  if (isLttError(error)) return { code: error.code, message: error.message };
  log.line(`Internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  const reason = error instanceof Error ? error.message : String(error);
  return { code: 'FATAL', message: `Fatal error of the session daemon: ${reason}` };
}

export class SessionDaemon {
  private readonly connections = new Set<Socket>();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    private readonly ctx: DaemonContext,
    private readonly options: SessionDaemonOptions,
  ) {}

  static async start(options: SessionDaemonOptions): Promise<SessionDaemon> {
    const { rundir, log } = options;
    const gid = prepareRundir(rundir, options.group);
    const { reclaimed } = await acquirePidFile(rundir);
    const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
    if (uid === 0) prepareAuthDir(rundir, gid);
    const kernel = new KernelDomain(options.noKernel ? 'disabled' : uid === 0 ? 'ok' : 'not-root', (line) =>
      log.line(line),
    );
    if (reclaimed) log.line('Reclaimed the state of a previous daemon that did not exit cleanly');
    // Always asked: a crashed daemon leaves tracefs instances whatever its pid file says.
    await kernel.reclaimStale();
    const ctx: DaemonContext = {
      registry: new SessionRegistry(),
      kernel,
      ust: options.ust ?? new NoAppsUstDomain(),
      peer: { uid, gid: typeof process.getgid === 'function' ? process.getgid() : -1 },
      info: { pid: process.pid, uid, version: LTT_VERSION, protocolVersion: PROTOCOL_VERSION, rundir, kernel: false },
      home: lttHome(),
      log: (line) => log.line(line),
    };
    const server = createServer();
    const daemon = new SessionDaemon(server, ctx, options);
    server.on('connection', (socket) => daemon.serve(socket));
    const path = socketPath(rundir);
    try {
      unlinkSync(path);
    } catch {
      // No leftover socket.
    }
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      });
      chmodSync(path, 0o660);
      if (uid === 0 && gid !== undefined) chownSync(path, 0, gid);
    } catch (error) {
      releaseRundir(rundir);
      throw error;
    }
    server.on('error', (error) => log.line(`Control socket error: ${error.message}`));
    log.line(`ltt-sessiond ${LTT_VERSION} serving ${path} (uid ${uid}, kernel ${kernel.available ? 'on' : 'off'})`);
    return daemon;
  }

  get context(): DaemonContext {
    return this.ctx;
  }

  /** Stops accepting, stops and flushes every active session, destroys all tracers, removes the socket. */
  close(): Promise<void> {
    this.closing ??= this.drain();
    return this.closing;
  }

  /** Immediate stop: drops connections and the socket without flushing. */
  destroy(): void {
    this.server.close();
    for (const socket of this.connections) socket.destroy();
    releaseRundir(this.options.rundir);
  }

  private async drain(): Promise<void> {
    const { log } = this.options;
    log.line('Shutting down: stopping and flushing every session');
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const session of this.ctx.registry.all()) {
      disarmRotationSchedule(session);
      await lockSession(session, async (locked) => {
        if (locked.destroyed) return;
        try {
          if (locked.active) await stopTracers(this.ctx, locked);
        } catch (error) {
          log.line(`Session ${locked.name}: stop at shutdown failed: ${String(error)}`);
        }
        for (const state of locked.domains.values()) {
          try {
            await state.tracer?.destroy();
          } catch (error) {
            log.line(`Session ${locked.name}: ${state.domain} teardown failed: ${String(error)}`);
          }
          state.tracer = undefined;
        }
        locked.destroyed = true;
        this.ctx.registry.remove(locked);
      });
    }
    for (const socket of this.connections) socket.destroy();
    await serverClosed;
    releaseRundir(this.options.rundir);
    log.line('Shut down cleanly');
  }

  private serve(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.connections.add(socket);
    const decoder = new FrameDecoder(MAX_REQUEST_BYTES);
    let greeted = false;
    /**
     * Who is at the other end. A root daemon's socket is open to the tracing group, so it asks (Node cannot
     * read SO_PEERCRED): until the client answered the challenge nothing else is accepted. A user's own daemon
     * is reachable by that user only (0700 directory): the peer is the daemon's user.
     */
    let peer: PeerCredentials | undefined;
    let challenge: CredentialChallenge | undefined;
    // Requests of one connection are answered in order: each waits for the previous one.
    let queue: Promise<void> = Promise.resolve();
    const send = (body: HelloFrame | AuthFrame | ResponseFrame) => {
      if (!socket.destroyed) socket.write(encodeFrame(body));
    };
    const refuse = (id: number | null, error: { code: string; message: string }, hangUp: boolean) => {
      send({ type: 'response', id, ok: false, error });
      if (hangUp) socket.end();
    };

    socket.on('data', (chunk) => {
      for (const decoded of decoder.push(chunk)) {
        if (!decoded.ok) {
          this.options.log.line(`Client sent garbage: ${decoded.error.message}`);
          refuse(null, decoded.error.toWire(), decoded.fatal || !greeted);
          if (decoded.fatal || !greeted) return;
          continue;
        }
        const body = decoded.body as Record<string, unknown> | null;
        if (!greeted) {
          if (!body || body.type !== 'hello') {
            refuse(null, new ControlError('INVALID_PROTOCOL', 'Protocol error occurred: expected a hello frame first').toWire(), true);
            return;
          }
          if (body.version !== PROTOCOL_VERSION) {
            refuse(
              null,
              new ControlError(
                'PROTOCOL_VERSION',
                `Incompatible control protocol version: client speaks ${String(body.version)}, daemon speaks ${PROTOCOL_VERSION}`,
              ).toWire(),
              true,
            );
            return;
          }
          greeted = true;
          if (this.ctx.info.uid === 0) {
            challenge = new CredentialChallenge(this.options.rundir);
            const auth = { dir: challenge.dir, nonce: challenge.nonce };
            send({ type: 'hello', version: PROTOCOL_VERSION, peer: 'ltt-sessiond', pid: process.pid, auth });
          } else {
            peer = { uid: this.ctx.info.uid, gid: typeof process.getgid === 'function' ? process.getgid() : -1 };
            send({ type: 'hello', version: PROTOCOL_VERSION, peer: 'ltt-sessiond', pid: process.pid });
          }
          continue;
        }
        if (peer === undefined) {
          const taken = body?.type === 'auth' ? challenge?.take() : undefined;
          if (!taken) {
            this.options.log.line('Client failed the credential challenge');
            refuse(null, new ControlError('EPERM', 'Permission denied: the client did not prove its credentials').toWire(), true);
            return;
          }
          peer = taken;
          send({ type: 'authenticated', uid: peer.uid, gid: peer.gid });
          continue;
        }
        const id = body && typeof body.id === 'number' && Number.isSafeInteger(body.id) ? body.id : null;
        if (!body || body.type !== 'request' || id === null || typeof body.command !== 'string') {
          refuse(id, new ControlError('INVALID_PROTOCOL', 'Protocol error occurred: malformed request').toWire(), false);
          continue;
        }
        const command = body.command;
        const args = body.args;
        const who = peer;
        queue = queue.then(async () => {
          try {
            const result = await dispatch(this.ctx, who, command, args);
            send({ type: 'response', id, ok: true, result: result ?? null });
          } catch (error) {
            send({ type: 'response', id, ok: false, error: toWireError(error, this.options.log) });
          }
        });
      }
    });
    socket.on('error', (error) => this.options.log.line(`Client connection error: ${error.message}`));
    socket.on('close', () => {
      this.connections.delete(socket);
      // A client gone mid-handshake (killed, timed out) leaves no file in the auth folder.
      if (peer === undefined) challenge?.drop();
    });
  }
}
