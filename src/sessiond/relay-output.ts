// A network session's relay, held as lttng-sessiond holds it: at the first start the daemon opens its own
// connection to the relay, creates the relay session and its first trace chunk (id 0, the session folder
// itself), and keeps the connection while the session lives; each consumer (the kernel consumer worker, each
// ltt/ust app's consumer worker) then opens its own connections and joins that session and chunk
// (CREATE_SESSION with current chunk 0), as LTTng's consumerds do. The daemon's connection is also how it
// learns at once that the relay is gone (`list` and `status` say so), whether or not data was flowing.
// Rotation and clear (LTTng's trace chunks over a relay): the daemon's connection creates each next chunk first,
// the consumers follow on theirs (their streams rotate into it), and the daemon closes the old chunk last, with
// the action asked (archive to archives/BEGIN-END-ID, or delete for clear); the relay's answer is the archive's
// path as lttng prints it.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ControlError } from '../control/error-codes.js';
import { type ChunkCloseAction, HANDSHAKE_TIMEOUT_MS, RelayClient, relayFailure } from '../relay/relay-client.js';
import { clientSession, type RelaySessionRef, type RelaySinkTarget } from '../relay/relay-sink.js';
import { relayOutputText, type RelayTarget } from '../relay/relay-url.js';

/** Identifies this daemon to relays: their trace chunks are shared per (daemon uuid, session id). */
const SESSIOND_UUID = randomBytes(16).toString('hex');
let lastSessionId = 0;
/** How long the daemon waits for the relay to answer one of its commands. */
const RELAY_ANSWER_MS = 10_000;
/**
 * A destroy's one deadline for the relay, from its start: the consumers' waits for a stalled relay (their settle
 * timeout, 20 s) and the daemon's last command share it, rather than adding up. The daemon's command gets at
 * least MIN_ANSWER_MS (a relay that answers does so in milliseconds once the consumers are through).
 */
export const RELAY_DESTROY_MS = 20_000;
const MIN_ANSWER_MS = 1_000;

/**
 * The session daemon's side of opening a relay session, for the recording session (RelayOutput.open) and for a
 * snapshot (snapshotOnRelay) alike: VERSION, CREATE_SESSION, then the session's first trace chunk, answered
 * within HANDSHAKE_TIMEOUT_MS (a relay that accepts and never answers must not hold the command). Returns the
 * connection; on failure nothing stays open and the error is one line (RELAYD_CONNECT_FAIL) naming the relay.
 */
async function openRelaySession(target: RelayTarget, ref: RelaySessionRef, chunk: { id: bigint; creationTime: number; name?: string }): Promise<RelayClient> {
  const { host, controlPort, dataPort } = target;
  let client: RelayClient | undefined;
  try {
    const c = (client = await RelayClient.connect(host, controlPort, dataPort));
    await c.within(HANDSHAKE_TIMEOUT_MS, async () => {
      await c.version();
      await c.createSession(clientSession(ref, false));
      await c.createTraceChunk(chunk.id, chunk.creationTime, chunk.name);
    });
    return c;
  } catch (error) {
    client?.destroy();
    throw new ControlError('RELAYD_CONNECT_FAIL', `Unable to connect to lttng-relayd at ${host}:${controlPort}: ${relayFailure(error)}`);
  }
}

export class RelayOutput {
  private session: RelaySessionRef;
  private link: RelayClient | undefined;
  /** Why the relay is gone (one line), once it is. */
  error: string | undefined;
  /** A chunk was archived (a rotation): destroy archives the last one too, as lttng does. */
  archived = false;

  constructor(
    readonly target: RelayTarget,
    name: string,
    liveTimerUs: number,
    createdAt: Date,
    nameContainsCreationTime: boolean,
  ) {
    this.session = {
      name,
      hostname: hostname(),
      liveTimerUs,
      sessiondUuid: SESSIOND_UUID,
      sessiondSessionId: ++lastSessionId,
      creationTime: Math.floor(createdAt.getTime() / 1000),
      chunkId: 0,
      basePath: target.subdir,
      nameContainsCreationTime,
    };
  }

  /** tcp4://HOST:CTRL/SUBDIR [data: DATA], what lttng lists as the trace output. */
  get text(): string {
    return relayOutputText(this.target);
  }

  get opened(): boolean {
    return this.link !== undefined;
  }

  /**
   * Connects and creates the relay session with its first trace chunk (once: later starts go on in it);
   * RELAYD_CONNECT_FAIL when it cannot, or when the relay went away (the consumers' connections are gone with
   * it: the session does not stream again, a new one does).
   */
  async open(log: (line: string) => void): Promise<void> {
    if (this.error !== undefined) throw new ControlError('RELAYD_CONNECT_FAIL', `${this.error}: create a new session to stream again`);
    if (this.link !== undefined) return;
    const { host, controlPort } = this.target;
    const client = await openRelaySession(this.target, this.session, { id: BigInt(this.session.chunkId), creationTime: this.session.creationTime });
    this.link = client;
    client.onceGone((error) => {
      if (this.link !== client) return;
      const why = relayFailure(error);
      this.error = `The relay at ${host}:${controlPort} is gone (${why})`;
      log(`Session ${this.session.name}: ${this.error}`);
    });
  }

  /** What each consumer needs to stream into this session's current chunk. */
  sinkTarget(): RelaySinkTarget {
    const { host, controlPort, dataPort } = this.target;
    return { host, controlPort, dataPort, session: this.session };
  }

  /** The current trace chunk's id on the relay. */
  get chunkId(): number {
    return this.session.chunkId;
  }

  /**
   * `op` on the daemon's connection, given up after RELAY_ANSWER_MS (the relay then counts as gone: a stopped
   * relay never holds a command); a failure is one line naming the relay.
   */
  private async ask<T>(what: string, op: (link: RelayClient) => Promise<T>, deadline?: number): Promise<T> {
    if (this.error !== undefined) throw new ControlError('RELAYD_CONNECT_FAIL', this.error);
    const link = this.link;
    if (link === undefined) throw new ControlError('RELAYD_CONNECT_FAIL', 'the relay session is not open');
    const { host, controlPort } = this.target;
    let timer: NodeJS.Timeout | undefined;
    const wait = deadline === undefined ? RELAY_ANSWER_MS : Math.max(MIN_ANSWER_MS, Math.min(RELAY_ANSWER_MS, deadline - Date.now()));
    try {
      return await Promise.race([
        op(link),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            this.error ??= `The relay at ${host}:${controlPort} is gone (no answer within ${wait / 1000} s)`;
            link.destroy();
            reject(new Error(`no answer within ${wait / 1000} s`));
          }, wait);
        }),
      ]);
    } catch (error) {
      throw new ControlError('RELAYD_CONNECT_FAIL', `${what} on the relay at ${host}:${controlPort}: ${relayFailure(error)}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** GET_CONFIGURATION: may this relay clear sessions (lttng-relayd --disallow-clear says no)? */
  clearAllowed(): Promise<boolean> {
    return this.ask('Cannot query the configuration', (link) => link.clearAllowed());
  }

  /** CREATE_TRACE_CHUNK of the next chunk (before the consumers move to it); returns the id. */
  async createChunk(begin: Date): Promise<number> {
    const id = this.session.chunkId + 1;
    await this.ask(`Cannot create trace chunk ${id}`, (link) => link.createTraceChunk(BigInt(id), Math.floor(begin.getTime() / 1000)));
    return id;
  }

  /**
   * CLOSE_TRACE_CHUNK of the current chunk, once the consumers moved to `nextId` (none: the session ends); the
   * relay's path of the closed chunk (HOSTNAME/SESSION-DATE/archives/BEGIN-END-ID once archived). Then polls
   * TRACE_CHUNK_EXISTS, as lttng-sessiond does, until the relay let the chunk go (or a few seconds passed).
   */
  async closeChunk(end: Date, action: ChunkCloseAction, nextId?: number, deadline?: number): Promise<string> {
    const id = BigInt(this.session.chunkId);
    const path = await this.ask(`Cannot close trace chunk ${id}`, async (link) => {
      const closed = await link.closeTraceChunk(id, Math.floor(end.getTime() / 1000), action);
      for (let i = 0; i < 100 && (await link.traceChunkExists(id)); i++) await new Promise((r) => setTimeout(r, 20));
      return closed;
    }, deadline);
    if (action === 'move-to-completed') this.archived = true;
    if (nextId !== undefined) this.session = { ...this.session, chunkId: nextId };
    return path;
  }

  /**
   * At destroy, after the consumers closed their streams: the last chunk is archived when the session was
   * rotated (lttng's rotation at destroy), else left in place; the relay's archive path, if any. `unused`: the
   * session was rotated after its last stop, so the last chunk holds nothing recorded: lttng-sessiond has no
   * current chunk then (a rotation of an inactive session makes none) and leaves no archive of it; the relay
   * deletes it. `deadline` (Date.now() terms): the destroy's for the relay (RELAY_DESTROY_MS).
   */
  async close(unused = false, deadline?: number): Promise<string | undefined> {
    const link = this.link;
    let archive: string | undefined;
    if (link !== undefined && this.error === undefined) {
      const action = unused ? 'delete' : this.archived ? 'move-to-completed' : 'no-operation';
      archive = await this.closeChunk(new Date(), action, undefined, deadline).catch(() => undefined);
      if (action !== 'move-to-completed') archive = undefined;
    }
    this.link = undefined;
    link?.close();
    return archive;
  }
}

/**
 * `snapshot record` to a network output, as lttng-sessiond records one: a relay session of its own for this
 * snapshot (its snapshot flag, the recording session's name and creation time: HOSTNAME/SESSION-DATE/ or the
 * URL's path on the relay), a trace chunk named after the snapshot (NAME-DATE-N) that the tracers' consumers join
 * to send what they hold (`write`), closed with no operation once they are done, or deleted when they failed
 * having written nothing (a refused --max-size leaves no empty snapshot folder on the relay). Returns the relay's path of
 * the snapshot; a relay that cannot be reached or goes away is one line (RELAYD_CONNECT_FAIL).
 */
export async function snapshotOnRelay(
  target: RelayTarget,
  session: { readonly name: string; readonly createdAt: Date },
  chunkName: string,
  write: (to: RelaySinkTarget) => Promise<unknown>,
  /** After a failed write: nothing reached the chunk (a refused --max-size), so the relay deletes its folder. */
  nothingWritten: () => boolean,
): Promise<string> {
  const { host, controlPort, dataPort } = target;
  const ref: RelaySessionRef = {
    name: session.name,
    hostname: hostname(),
    liveTimerUs: 0,
    sessiondUuid: SESSIOND_UUID,
    sessiondSessionId: ++lastSessionId,
    creationTime: Math.floor(session.createdAt.getTime() / 1000),
    chunkId: 0,
    basePath: target.subdir,
    nameContainsCreationTime: /^auto-\d{8}-\d{6}$/.test(session.name),
    snapshot: true,
    chunkName,
  };
  const client = await openRelaySession(target, ref, { id: 0n, creationTime: Math.floor(Date.now() / 1000), name: chunkName });
  try {
    await write({ host, controlPort, dataPort, session: ref });
    return await client.closeTraceChunk(0n, Math.floor(Date.now() / 1000), 'no-operation');
  } catch (error) {
    if (nothingWritten()) await client.closeTraceChunk(0n, Math.floor(Date.now() / 1000), 'delete').catch(() => undefined);
    if (error instanceof ControlError) throw error;
    throw new ControlError('SNAPSHOT_FAIL', `Snapshot record failed on the relay at ${host}:${controlPort}: ${relayFailure(error)}`);
  } finally {
    client.close();
  }
}
