// A network session's relay, held as lttng-sessiond holds it: at the first start the daemon opens its own
// connection to the relay, creates the relay session and its first trace chunk (id 0, the session folder
// itself), and keeps the connection while the session lives; each consumer (the kernel consumer worker, each
// ltt/ust app's consumer worker) then opens its own connections and joins that session and chunk
// (CREATE_SESSION with current chunk 0), as LTTng's consumerds do. The daemon's connection is also how it
// learns at once that the relay is gone (`list` and `status` say so), whether or not data was flowing.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ControlError } from '../control/error-codes.js';
import { RelayClient, relayFailure } from '../relay/relay-client.js';
import { clientSession, type RelaySessionRef, type RelaySinkTarget } from '../relay/relay-sink.js';
import { relayOutputText, type RelayTarget } from '../relay/relay-url.js';

/** Identifies this daemon to relays: their trace chunks are shared per (daemon uuid, session id). */
const SESSIOND_UUID = randomBytes(16).toString('hex');
let lastSessionId = 0;

export class RelayOutput {
  private readonly session: RelaySessionRef;
  private link: RelayClient | undefined;
  /** Why the relay is gone (one line), once it is. */
  error: string | undefined;

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
    const { host, controlPort, dataPort } = this.target;
    let client: RelayClient | undefined;
    try {
      client = await RelayClient.connect(host, controlPort, dataPort);
      await client.version();
      await client.createSession(clientSession(this.session, false));
      await client.createTraceChunk(BigInt(this.session.chunkId), this.session.creationTime);
    } catch (error) {
      client?.destroy();
      const why = relayFailure(error);
      throw new ControlError('RELAYD_CONNECT_FAIL', `Unable to connect to lttng-relayd at ${host}:${controlPort}: ${why}`);
    }
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

  /** At destroy, after the consumers closed their streams. */
  close(): void {
    const link = this.link;
    this.link = undefined;
    link?.close();
  }
}
