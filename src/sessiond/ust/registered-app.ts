// One instrumented process registered with the daemon (app-registry.ts accepts it): what it declared, and its
// socket, through which session tracers (ust-session-tracer.ts) send it commands and await its answers.

import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { encodeFrame } from '../../control/framing.js';
import type { AppToDaemon, AppTracepoint, DaemonToApp } from '../../ust/app-protocol.js';
import type { TraceSink } from '../../ctf/writer/sink.js';

/** One registered process. */
const FIELD_TYPES = new Set(['integer', 'enum', 'float', 'string', 'other']);

/** A folder the daemon writes for an app (App.daemonDirs). */
export interface DaemonDir {
  readonly shared: boolean;
  readonly snapshot: boolean;
  readonly limits: ReadonlyMap<string, { readonly size: number; readonly count: number }>;
  /**
   * Not a folder: the app's view of its user's trace on the relay (a per-UID network session:
   * uid-relay-traces.ts), made when the app opens it; undefined when that trace is gone.
   */
  readonly relay?: () => TraceSink | undefined;
}

export class App {
  readonly tracepoints: AppTracepoint[] = [];
  private readonly names = new Set<string>();
  /** Waiters for `started` / `stopped` answers, by `${type}:${sessionId}`. */
  private readonly waiters = new Map<string, Array<(m: AppToDaemon | undefined) => void>>();
  closed = false;
  /** Names this app on its data connection (sent in 'registered'; app-data-connection.ts). */
  readonly dataToken = randomBytes(16).toString('hex');
  /**
   * Folders the daemon writes for this app (it cannot own them: AppSessionStart.viaDaemon), with whether their
   * metadata is shared (per-UID) and whether they are a snapshot's (no index files, as lttng-consumerd's
   * snapshots): the only folders its data connection may open, forgotten when the app goes. `limits`: the
   * tracefile size and count of each channel of the session by name (the daemon's, never the app's word).
   */
  readonly daemonDirs = new Map<string, DaemonDir>();
  /** Whether its data connection is open: one at a time (each may hold a frame of up to 64 MiB in the daemon). */
  dataOpen = false;
  /** Its data connections' ends: each settles once everything it received is written and closed. */
  readonly dataDone = new Set<Promise<void>>();

  constructor(
    private readonly socket: Socket,
    readonly pid: number,
    readonly ppid: number,
    readonly uid: number,
    readonly gid: number,
    readonly procname: string,
    readonly registeredAt: Date,
  ) {}

  addTracepoints(list: readonly AppTracepoint[]): void {
    for (const tp of list) {
      if (typeof tp?.name !== 'string' || typeof tp.logLevel !== 'number' || this.names.has(tp.name)) continue;
      this.names.add(tp.name);
      const fields = Array.isArray(tp.fields)
        ? tp.fields.filter((f) => typeof f?.name === 'string' && FIELD_TYPES.has(f.type)).map((f) => ({ name: f.name, type: f.type }))
        : [];
      this.tracepoints.push({ name: tp.name, logLevel: tp.logLevel, fields });
    }
  }

  send(m: DaemonToApp): void {
    if (!this.closed && this.socket.writable) this.socket.write(encodeFrame(m));
  }

  /** Resolves with the app's answer of `type` for the session, or undefined on timeout or disconnection. */
  waitFor(type: 'started' | 'stopped' | 'snapshot-done' | 'rotated' | 'cleared' | 'regenerated', sessionId: string, timeoutMs: number): Promise<AppToDaemon | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const key = `${type}:${sessionId}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), timeoutMs);
      const done = (m: AppToDaemon | undefined) => {
        clearTimeout(timer);
        const list = this.waiters.get(key);
        if (list) {
          const i = list.indexOf(done);
          if (i >= 0) list.splice(i, 1);
          if (list.length === 0) this.waiters.delete(key);
        }
        resolve(m);
      };
      const list = this.waiters.get(key) ?? [];
      list.push(done);
      this.waiters.set(key, list);
    });
  }

  answer(m: AppToDaemon & { sessionId: string }): void {
    for (const w of [...(this.waiters.get(`${m.type}:${m.sessionId}`) ?? [])]) w(m);
  }

  /**
   * Settles once what the app's data connections received is written (a connection of an app that is gone
   * ends soon after its control connection), or after `timeoutMs`.
   */
  dataWritten(timeoutMs: number): Promise<void> {
    if (this.dataDone.size === 0) return Promise.resolve();
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([
      Promise.all([...this.dataDone]).then(() => undefined),
      new Promise<void>((r) => (timer = setTimeout(r, timeoutMs))),
    ]).finally(() => clearTimeout(timer));
  }

  close(): void {
    this.closed = true;
    // Its data connection may finish what it received, but opens nothing more.
    this.daemonDirs.clear();
    for (const list of [...this.waiters.values()]) for (const w of [...list]) w(undefined);
    this.waiters.clear();
  }
}
