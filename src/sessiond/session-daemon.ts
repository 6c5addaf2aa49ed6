// The session daemon as an object: start() binds the control socket in the runtime directory and serves;
// close() drains (stops accepting, stops and flushes every active session, destroys every domain tracer,
// removes socket and pid file); destroy() stops at once. Each connection first exchanges a version handshake,
// then requests are answered in order. A bad frame (not JSON, not a request, an oversized length), anything but
// the handshake before authentication, or a wrong version gets one error answer and that connection is closed;
// a well-formed request the daemon cannot do (unknown command, wrong arguments) gets an error answer and the
// connection goes on. What a connection may cost (handshake and idle time, connections per user, unread
// answers) is bounded (connection-limits.ts): nothing a client sends can stop the daemon serving the others.

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
import type { DaemonLog } from '../control/daemon-log.js';
import { ConnectionGate, connectionLimits, tooManyConnections } from './connection-limits.js';
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
  private readonly gate = new ConnectionGate(connectionLimits());
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
    const { log } = this.options;
    const gate = this.gate;
    const { limits } = gate;
    /** Closed, or closing after an error answer: nothing more is read, queued or answered. */
    let gone = false;
    // Requests of one connection are answered in order, one at a time; a connection whose answers are not read
    // waits (and is no longer read), and each answer yields to the event loop so every connection is served.
    const requests: Array<{ id: number; command: string; args: unknown; who: PeerCredentials }> = [];
    const send = (body: HelloFrame | AuthFrame | ResponseFrame) => {
      if (socket.writable) socket.write(encodeFrame(body));
    };
    /** One error answer, then the connection is closed (at once if the client does not even read it). */
    const hangUp = (error: { code: string; message: string }, logLine?: string) => {
      if (gone) return;
      gone = true;
      requests.length = 0;
      if (logLine !== undefined) log.clientLine(logLine);
      socket.pause();
      if (!socket.writable) return void socket.destroy();
      socket.write(encodeFrame({ type: 'response', id: null, ok: false, error }), () => socket.destroy());
      setTimeout(() => socket.destroy(), 1000).unref();
    };
    if (!gate.enterHandshake()) {
      this.connections.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => this.connections.delete(socket));
      hangUp(tooManyConnections(limits, undefined), 'Too many connections waiting for their handshake: refused one');
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
    let admitted: number | undefined;
    let challenge: CredentialChallenge | undefined;
    const handshakeDone = gate.handshakeDeadline(() => {
      if (peer === undefined) hangUp(new ControlError('TIMEOUT', 'The client did not complete the handshake in time').toWire(), 'Client did not complete the handshake in time');
    });
    let idle: NodeJS.Timeout | undefined;
    /** Past the handshake as `who`, within the per-user bound; else told why and closed. */
    const admit = (who: PeerCredentials): boolean => {
      handshakeDone();
      if (!gate.admit(who.uid)) {
        hangUp(tooManyConnections(limits, who.uid), `Too many connections of uid ${who.uid}: refused one`);
        return false;
      }
      admitted = who.uid;
      peer = who;
      idle = setTimeout(function expire() {
        if (running || requests.length > 0) idle?.refresh();
        else {
          gone = true;
          socket.destroy();
        }
      }, limits.idleMs);
      idle.unref();
      return true;
    };

    let running = false;
    const readable = () => requests.length < limits.maxQueuedRequests && socket.writableLength <= limits.maxUnsentBytes;
    const pump = async () => {
      if (running) return;
      running = true;
      while (requests.length > 0 && !gone) {
        if (socket.writableLength > limits.maxUnsentBytes) {
          await drainedOrClosed(socket);
          continue;
        }
        const { id, command, args, who } = requests.shift()!;
        if (socket.isPaused() && readable()) socket.resume();
        let answer: ResponseFrame;
        try {
          const result = await dispatch(this.ctx, who, command, args);
          answer = { type: 'response', id, ok: true, result: result ?? null };
        } catch (error) {
          const wire = toWireError(error, log);
          answer = { type: 'response', id, ok: false, error: wire };
          // What the client was told, for whoever reads the log later (scripts often drop the CLI's stderr).
          log.clientLine(`${command} failed: ${wire.message}`);
        }
        if (gone) break;
        send(answer);
        idle?.refresh();
        await new Promise((resolve) => setImmediate(resolve));
      }
      running = false;
      if (!gone && socket.isPaused() && readable()) socket.resume();
    };

    socket.on('data', (chunk) => {
      if (gone) return;
      for (const decoded of decoder.push(chunk)) {
        if (!decoded.ok) return hangUp(decoded.error.toWire(), `Client sent garbage: ${decoded.error.message}`);
        const body = decoded.body as Record<string, unknown> | null;
        if (!greeted) {
          if (!body || body.type !== 'hello') {
            return hangUp(new ControlError('INVALID_PROTOCOL', 'Protocol error occurred: expected a hello frame first').toWire(), 'Client sent garbage: no hello frame first');
          }
          if (body.version !== PROTOCOL_VERSION) {
            return hangUp(
              new ControlError(
                'PROTOCOL_VERSION',
                `Incompatible control protocol version: client speaks ${String(body.version)}, daemon speaks ${PROTOCOL_VERSION}`,
              ).toWire(),
            );
          }
          greeted = true;
          if (this.ctx.info.uid === 0) {
            challenge = new CredentialChallenge(this.options.rundir);
            const auth = { dir: challenge.dir, nonce: challenge.nonce };
            send({ type: 'hello', version: PROTOCOL_VERSION, peer: 'ltt-sessiond', pid: process.pid, auth });
          } else {
            if (!admit({ uid: this.ctx.info.uid, gid: typeof process.getgid === 'function' ? process.getgid() : -1 })) return;
            send({ type: 'hello', version: PROTOCOL_VERSION, peer: 'ltt-sessiond', pid: process.pid });
          }
          continue;
        }
        if (peer === undefined) {
          const taken = body?.type === 'auth' ? challenge?.take() : undefined;
          if (!taken) {
            return hangUp(new ControlError('EPERM', 'Permission denied: the client did not prove its credentials').toWire(), 'Client failed the credential challenge');
          }
          if (!admit(taken)) return;
          send({ type: 'authenticated', uid: taken.uid, gid: taken.gid });
          continue;
        }
        const id = body && typeof body.id === 'number' && Number.isSafeInteger(body.id) ? body.id : null;
        if (!body || body.type !== 'request' || id === null || typeof body.command !== 'string') {
          return hangUp(new ControlError('INVALID_PROTOCOL', 'Protocol error occurred: malformed request').toWire(), 'Client sent garbage: a malformed request');
        }
        requests.push({ id, command: body.command, args: body.args, who: peer });
        idle?.refresh();
      }
      if (!readable()) socket.pause();
      void pump();
    });
    socket.on('error', (error) => log.clientLine(`Client connection error: ${error.message}`));
    // A client that hung up has its waiting requests dropped (the one being handled finishes, unanswered).
    socket.on('end', () => {
      gone = true;
      requests.length = 0;
    });
    socket.on('close', () => {
      gone = true;
      requests.length = 0;
      this.connections.delete(socket);
      handshakeDone();
      clearTimeout(idle);
      if (admitted !== undefined) gate.release(admitted);
      // A client gone mid-handshake (killed, timed out) leaves no file in the auth folder.
      if (peer === undefined) challenge?.drop();
    });
  }
}

/** Resolves once `socket` has flushed its queued writes, or is closed. */
function drainedOrClosed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}
