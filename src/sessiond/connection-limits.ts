// What one connection may cost the daemon, on the control socket and the app socket alike. A connection must
// finish its handshake (hello, and root's credential challenge; an app's registration) within a few seconds, and
// only so many may be waiting for theirs at once (nobody is known yet, so this bound is everybody's); past the
// handshake a user has at most so many control connections (one user can only starve themselves); a control
// connection with no request in flight is closed after a long idle time (a `ltt` client is short-lived; apps
// stay registered for hours and have no idle limit); and the answers a connection has not read are bounded:
// past the bound its requests are no longer read until it reads (session-daemon.ts). The environment variables
// exist for tests and for sites with unusual clients.

export interface ConnectionLimits {
  readonly handshakeMs: number;
  readonly idleMs: number;
  readonly maxPerUid: number;
  readonly maxPending: number;
  /** Unsent answer bytes past which a connection's requests wait. */
  readonly maxUnsentBytes: number;
  /** Decoded requests a connection may have waiting before its socket is no longer read. */
  readonly maxQueuedRequests: number;
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = Number(env[name]);
  return Number.isSafeInteger(value) && value > 0 ? value : fallback;
}

export function connectionLimits(env: NodeJS.ProcessEnv = process.env): ConnectionLimits {
  return {
    handshakeMs: positive(env, 'LTT_SESSIOND_HANDSHAKE_TIMEOUT', 5000),
    idleMs: positive(env, 'LTT_SESSIOND_IDLE_TIMEOUT', 10 * 60_000),
    maxPerUid: positive(env, 'LTT_SESSIOND_MAX_CONNECTIONS', 128),
    maxPending: 256,
    maxUnsentBytes: 4 << 20,
    maxQueuedRequests: 64,
  };
}

/** Counts of one socket's connections: waiting for their handshake, and admitted per uid. */
export class ConnectionGate {
  private pending = 0;
  private readonly perUid = new Map<number, number>();

  constructor(readonly limits: ConnectionLimits) {}

  /** A new connection; false if too many already wait for their handshake (the caller hangs up). */
  enterHandshake(): boolean {
    if (this.pending >= this.limits.maxPending) return false;
    this.pending++;
    return true;
  }

  leaveHandshake(): void {
    this.pending--;
  }

  /** Past the handshake as `uid`; false if that user has all the connections allowed. */
  admit(uid: number): boolean {
    const count = this.perUid.get(uid) ?? 0;
    if (count >= this.limits.maxPerUid) return false;
    this.perUid.set(uid, count + 1);
    return true;
  }

  release(uid: number): void {
    const count = (this.perUid.get(uid) ?? 1) - 1;
    if (count > 0) this.perUid.set(uid, count);
    else this.perUid.delete(uid);
  }

  /**
   * Arms the handshake deadline of a connection that entered the handshake: once it passes, `expired` runs
   * (the caller closes the connection). The returned function disarms it and leaves the handshake count, once.
   */
  handshakeDeadline(expired: () => void): () => void {
    const timer = setTimeout(expired, this.limits.handshakeMs);
    timer.unref();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.leaveHandshake();
    };
  }
}

/** The error a connection refused by a limit is told, one line. */
export function tooManyConnections(limits: ConnectionLimits, uid: number | undefined): { code: string; message: string } {
  return {
    code: 'TOO_MANY_CONNECTIONS',
    message:
      uid === undefined
        ? `Too many connections are waiting for their handshake (at most ${limits.maxPending}): try again later`
        : `Too many connections of uid ${uid} (at most ${limits.maxPerUid}): close some and try again`,
  };
}
