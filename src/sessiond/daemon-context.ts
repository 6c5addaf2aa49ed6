// What every command handler gets from the daemon: the session registry, the two tracing domains, identity and a
// log. Also the one place that creates a session's domain tracer on first use (LTTng creates the kernel session
// on the first kernel command the same way) and replays the tracker state the user set before it existed.

import { hostname } from 'node:os';
import type { DaemonInfo, Domain } from '../control/messages.js';
import type { DomainTracer } from './domains/domain-tracer.js';
import type { KernelDomain } from './domains/kernel-domain.js';
import type { UstDomain } from './domains/ust-domain.js';
import type { LockedSession, PeerCredentials } from './session.js';
import type { SessionRegistry } from './session-registry.js';
import { resolveTrackerValues } from './tracker-values.js';

/** As lttng-sessiond's session_access_ok(): root may use every session, anyone else only their own. */
export function mayAccess(peer: PeerCredentials, session: { readonly owner: PeerCredentials }): boolean {
  return peer.uid === 0 || peer.uid === session.owner.uid;
}

export interface DaemonContext {
  /** The client of the request being handled (the daemon's own identity outside requests). */
  readonly peer: PeerCredentials;
  readonly registry: SessionRegistry;
  readonly kernel: KernelDomain;
  readonly ust: UstDomain;
  readonly info: DaemonInfo;
  /** $LTT_HOME of the daemon: default outputs go under its ltt-traces/. */
  readonly home: string;
  log(line: string): void;
}

/** The session's tracer for `domain`, created (with the session's trackers applied) on first use. */
export async function domainTracer(ctx: DaemonContext, session: LockedSession, domain: Domain): Promise<DomainTracer> {
  const state = session.domainState(domain);
  if (state.tracer) return state.tracer;

  const options = {
    sessionName: session.name,
    // The session's root: each domain writes its own subfolder (kernel/, ust/) as LTTng lays traces out.
    // Sessions without a local output (--no-output, live) get '' and are refused at start instead.
    traceDir: session.localOutput,
    owner: session.owner,
    hostname: hostname(),
    creationTime: session.createdAt,
    snapshot: session.inMemory,
    ...(session.relay ? { relay: session.relay.sinkTarget() } : {}),
  };
  const tracer = domain === 'kernel' ? await ctx.kernel.createSession(options) : await ctx.ust.createSession(options);
  for (const [attribute, tracker] of state.trackers) {
    if (tracker.policy === 'set') await tracer.track(attribute, resolveTrackerValues(attribute, tracker.values));
  }
  state.tracer = tracer;
  ctx.log(`Session ${session.name}: ${domain} tracer created (trace directory ${options.traceDir})`);
  return tracer;
}
