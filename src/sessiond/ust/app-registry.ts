// The session daemon's registry of instrumented Node processes (LTTng's ust-app registry) and the user-space
// domain built on it.
//
// Contract: AppRegistry implements UstDomain. listen() binds APP_SOCKET_NAME in the runtime directory (call it
// once the daemon owns the directory, i.e. after SessionDaemon.start()); every process that loads ltt/ust
// registers there (src/ust/app-agent.ts) with its pid, uid, procname and tracepoints, and is answered with the
// active sessions it belongs in, so it records from its first event. listTracepoints() is `ltt list -u`.
// createSession() returns a UstSessionTracer (ust-session-tracer.ts) per recording session; the registry tells
// active ones about apps that register, and routes the apps' answers (started/stats/stopped) to them, and the
// packets an app of a snapshot session hands over at exit to the session they belong to (until it is destroyed).
// An app that goes away is forgotten (its sessions keep its last statistics and what it handed over). Garbage on the socket closes that
// connection only.

import { chmodSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { TracepointInfo } from '../../control/messages.js';
import { encodeFrame, FrameDecoder } from '../../control/framing.js';
import {
  APP_PROTOCOL_VERSION, APP_SOCKET_NAME, type AppSessionStart, type AppStats, type AppToDaemon,
  type DaemonToApp,
} from '../../ust/app-protocol.js';
import { App } from './registered-app.js';
import type { DomainTracer, TracerSessionOptions } from '../domains/domain-tracer.js';
import type { UstDomain } from '../domains/ust-domain.js';
import { ConnectionGate, connectionLimits } from '../connection-limits.js';
import { CredentialChallenge } from '../runtime-dir.js';
import { UstSessionTracer } from './ust-session-tracer.js';
import { AppDataConnection } from './app-data-connection.js';

const MAX_APP_FRAME = 1 << 20;

/**
 * The name `lttng list -u` shows for an app: the first word of /proc/PID/cmdline (lttng's get_cmdline_by_pid),
 * falling back to the procname the app registered with (process gone, other pid namespace).
 */
function commandName(app: { pid: number; procname: string }): string {
  try {
    const argv0 = readFileSync(`/proc/${app.pid}/cmdline`, 'utf8').split('\0')[0];
    if (argv0) return argv0;
  } catch {
    // fall through
  }
  return app.procname;
}

/** The uid owning /proc/PID (the process's effective uid), or undefined if there is no such process. */
function processOwner(pid: number): number | undefined {
  if (!(pid > 0)) return undefined;
  try {
    return statSync(`/proc/${pid}`).uid;
  } catch {
    return undefined;
  }
}

export class AppRegistry implements UstDomain {
  private server: Server | undefined;
  private readonly apps = new Set<App>();
  /** Registrations are bounded in time and number like control handshakes; registered apps have no idle limit. */
  private readonly gate = new ConnectionGate(connectionLimits());
  /** Sessions currently recording: they are offered every app that registers. */
  readonly activeSessions = new Set<UstSessionTracer>();
  /** Every session until destroyed (an app's packets handed over at exit may belong to a stopped one). */
  readonly sessions = new Set<UstSessionTracer>();

  /** `clientLog`: for lines an app connection can cause at will (rate-limited by the daemon's log). */
  constructor(
    private readonly rundir: string,
    private readonly log: (line: string) => void,
    private readonly clientLog: (line: string) => void = log,
  ) {}

  get socketPath(): string {
    return join(this.rundir, APP_SOCKET_NAME);
  }

  /** Registered apps, in registration order. */
  registeredApps(): App[] {
    return [...this.apps];
  }

  async listen(): Promise<void> {
    const path = this.socketPath;
    try {
      unlinkSync(path);
    } catch {
      // No leftover socket.
    }
    const server = createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // Any process may register (LTTng's app socket is 0666); the runtime directory's mode decides who reaches it.
    chmodSync(path, 0o666);
    server.on('error', (error) => this.log(`App socket error: ${error.message}`));
    this.server = server;
    // The socket file goes with the daemon, however it exits.
    process.once('exit', () => this.close());
    this.log(`Listening for instrumented applications on ${path}`);
  }

  close(): void {
    if (!this.server) return;
    this.server.close();
    this.server = undefined;
    try {
      unlinkSync(this.socketPath);
    } catch {
      // Already gone.
    }
  }

  async listTracepoints(): Promise<TracepointInfo[]> {
    const out: TracepointInfo[] = [];
    for (const app of this.apps) {
      const name = commandName(app);
      for (const tp of app.tracepoints) {
        out.push({ name: tp.name, type: 'tracepoint', loglevel: tp.logLevel, pid: app.pid, procname: name, fields: [...(tp.fields ?? [])] });
      }
    }
    return out;
  }

  async createSession(options: TracerSessionOptions): Promise<DomainTracer> {
    const tracer = new UstSessionTracer(this, options, this.log);
    this.sessions.add(tracer);
    return tracer;
  }

  private serve(socket: Socket): void {
    socket.on('error', () => undefined);
    if (!this.gate.enterHandshake()) {
      this.clientLog('Too many app connections waiting to register: refused one');
      socket.destroy();
      return;
    }
    const decoder = new FrameDecoder(MAX_APP_FRAME);
    let app: App | undefined;
    const registered = this.gate.handshakeDeadline(() => {
      if (app !== undefined) return;
      this.clientLog('App connection did not register in time');
      socket.destroy();
    });
    /** Root's daemon: the registration waiting for the answer to its challenge. */
    let pending: { m: Extract<AppToDaemon, { type: 'register' }>; challenge: CredentialChallenge } | undefined;
    socket.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) {
        if (!f.ok) {
          this.clientLog(`App connection sent garbage: ${f.error.message}`);
          socket.destroy();
          return;
        }
        const m = f.body as AppToDaemon;
        const dataHello = m as unknown as { type?: unknown; token?: unknown } | null;
        if (app === undefined && pending === undefined && dataHello?.type === 'data') {
          // A registered app's data connection (src/ust/app-data-protocol.ts): binary frames from here on.
          const token = dataHello.token;
          const owner = [...this.apps].find((a) => typeof token === 'string' && a.dataToken === token && !a.closed);
          socket.removeAllListeners('data');
          registered();
          if (owner === undefined || owner.dataOpen) {
            this.clientLog(owner === undefined ? 'App data connection with an unknown token: closed' : `App ${owner.procname}-${owner.pid}: a second data connection: closed`);
            socket.destroy();
            return;
          }
          owner.dataOpen = true;
          const data = new AppDataConnection(socket, owner, this.clientLog);
          owner.dataDone.add(data.done);
          void data.done.then(() => owner.dataDone.delete(data.done));
          socket.once('close', () => (owner.dataOpen = false));
          return;
        }
        try {
          if (app === undefined && pending === undefined && m?.type === 'register' && process.getuid?.() === 0) {
            // Who the app says it is is checked first: a file only it can make (root's socket is the group's).
            const challenge = new CredentialChallenge(this.rundir);
            pending = { m, challenge };
            socket.write(encodeFrame({ type: 'challenge', dir: challenge.dir, nonce: challenge.nonce } satisfies DaemonToApp));
          } else if (app === undefined && pending !== undefined) {
            const who = m?.type === 'auth' ? pending.challenge.take() : undefined;
            app = this.register(socket, pending.m, who);
            pending = undefined;
            if (app === undefined) return;
            registered();
          } else if (app === undefined) {
            app = this.register(socket, m);
            if (app === undefined) return;
            registered();
          } else this.onAppMessage(app, m);
        } catch (error) {
          this.clientLog(`App ${app?.pid ?? '?'}: bad message: ${error instanceof Error ? error.message : String(error)}`);
          socket.destroy();
          return;
        }
      }
    });
    socket.on('close', () => {
      registered();
      pending?.challenge.drop();
      if (!app) return;
      this.apps.delete(app);
      app.close();
      for (const s of this.activeSessions) s.appGone(app);
      this.log(`App ${app.procname}-${app.pid} unregistered`);
    });
  }

  /**
   * `verified`: the uid/gid the challenge established (root's daemon); the app's own claims are kept only
   * where nobody is checked (a user's daemon, reachable by that user alone).
   */
  private register(socket: Socket, m: AppToDaemon, verified?: { uid: number; gid: number }): App | undefined {
    const refuse = (reason: string) => {
      socket.end(encodeFrame({ type: 'refused', reason } satisfies DaemonToApp));
      this.clientLog(`App registration refused: ${reason}`);
      return undefined;
    };
    if (!m || m.type !== 'register') return refuse('expected a register message first');
    if (m.version !== APP_PROTOCOL_VERSION) return refuse(`app protocol ${String(m.version)}, daemon speaks ${APP_PROTOCOL_VERSION}`);
    const ints = [m.pid, m.ppid, m.uid, m.gid];
    if (!ints.every((n) => Number.isSafeInteger(n)) || typeof m.procname !== 'string') return refuse('malformed register message');
    let uid = m.uid;
    let gid = m.gid;
    if (process.getuid?.() === 0) {
      if (!verified) return refuse('the app did not prove its credentials');
      // The pid is the app's word too: it must be a process of the verified user.
      if (processOwner(m.pid) !== verified.uid) return refuse(`pid ${m.pid} is not a process of uid ${verified.uid}`);
      ({ uid, gid } = verified);
    }
    const app = new App(socket, m.pid, m.ppid, uid, gid, m.procname.slice(0, 16), new Date());
    app.addTracepoints(Array.isArray(m.tracepoints) ? m.tracepoints : []);
    this.apps.add(app);
    const sessions: AppSessionStart[] = [];
    for (const s of this.activeSessions) {
      sessions.push(...s.appRegistered(app));
    }
    app.send({ type: 'registered', sessions, dataToken: app.dataToken });
    this.log(`App ${app.procname}-${app.pid} registered (uid ${app.uid}, ${sessions.length} active session(s))`);
    return app;
  }

  private onAppMessage(app: App, m: AppToDaemon): void {
    switch (m.type) {
      case 'tracepoints':
        app.addTracepoints(Array.isArray(m.tracepoints) ? m.tracepoints : []);
        return;
      case 'started':
        app.answer(m);
        if (!m.ok) this.log(`App ${app.procname}-${app.pid} did not join session ${m.sessionId}: ${m.reason ?? 'refused'}`);
        for (const s of this.activeSessions) s.appStarted(app, m.sessionId, m.ok);
        return;
      case 'stats':
      case 'stopped':
        for (const s of this.activeSessions) s.appStats(app, m.sessionId, m.stats as AppStats, m.type === 'stopped');
        // A stop waits for this answer; the session may already have left activeSessions.
        if (m.type === 'stopped') app.answer(m);
        return;
      case 'new-stream':
        if (typeof m.sessionId !== 'string') throw new Error('new-stream without a run id');
        for (const s of this.activeSessions) s.appNewStream(app, m.sessionId);
        return;
      case 'held':
      case 'held-packet':
        checkHeld(m);
        for (const s of this.sessions) s.appHandedOver(app, m);
        return;
      case 'snapshot-done':
      case 'rotated':
      case 'cleared':
      case 'regenerated':
        checkAnswer(m);
        app.answer(m);
        return;
      default:
        throw new Error(`unknown message type ${JSON.stringify((m as { type?: unknown }).type)}`);
    }
  }
}

/** An app's answer to a snapshot, rotation or clear, checked before the session relies on it (else: bad message). */
function checkAnswer(m: Extract<AppToDaemon, { type: 'snapshot-done' | 'rotated' | 'cleared' | 'regenerated' }>): void {
  if (typeof m.sessionId !== 'string' || typeof m.ok !== 'boolean') throw new Error(`${m.type} without a request id and a verdict`);
  if (m.reason !== undefined && typeof m.reason !== 'string') throw new Error(`${m.type}: reason must be text`);
  if (m.type === 'snapshot-done' && ![m.bytes, m.packets].every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw new Error('snapshot-done: bytes and packets must be counts');
  }
}

/** A handed-over trace part, checked before a session keeps it (else: bad message). */
function checkHeld(m: Extract<AppToDaemon, { type: 'held' | 'held-packet' }>): void {
  if (typeof m.sessionId !== 'string') throw new Error(`${m.type} without a run id`);
  if (m.type === 'held' && (typeof m.preamble !== 'string' || typeof m.declarations !== 'string')) throw new Error('held: preamble and declarations must be text');
  if (m.type === 'held-packet' && (typeof m.stream !== 'string' || typeof m.data !== 'string' || typeof m.last !== 'boolean')) {
    throw new Error('held-packet: stream, data and last expected');
  }
}
