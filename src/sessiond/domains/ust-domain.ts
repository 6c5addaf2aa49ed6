// Extension point for the user-space domain: a UstDomain lists the tracepoints of registered apps (`list -u`)
// and, per recording session, returns a DomainTracer that pushes channels, rules and contexts to the registered
// apps and collects their statistics (`enable-channel -u`, `enable-event -u`, `add-context -u`, `track -u`,
// start/stop). The daemon (main.ts) runs with AppRegistry (src/sessiond/ust/app-registry.ts), which listens on
// the app socket that ltt/ust processes register on.
//
// NoAppsUstDomain is the state of a daemon to which no instrumented app can register (SessionDaemon.start()
// without `ust`, as the control-plane tests use it): user-space sessions, channels and rules are accepted and
// listed (the daemon keeps that bookkeeping), starting succeeds and records nothing, as LTTng does with no app.

import type { TracepointInfo } from '../../control/messages.js';
import type { DomainTracer, TracerChannelStats, TracerSessionOptions } from './domain-tracer.js';

export interface UstDomain {
  /** Tracepoints of the currently registered apps (with their pid and procname). */
  listTracepoints(): Promise<TracepointInfo[]>;
  /** The user-space side of one recording session. */
  createSession(options: TracerSessionOptions): Promise<DomainTracer>;
}

export class NoAppsUstDomain implements UstDomain {
  async listTracepoints(): Promise<TracepointInfo[]> {
    return [];
  }

  async createSession(): Promise<DomainTracer> {
    const channels = new Set<string>();
    return {
      createChannel: (name: string) => void channels.add(name),
      enableEvent: () => [],
      disableEvent: () => undefined,
      enableChannel: () => undefined,
      disableChannel: () => undefined,
      addContext: () => undefined,
      track: () => undefined,
      untrack: () => undefined,
      start: () => undefined,
      stop: () => undefined,
      destroy: () => channels.clear(),
      // No app ever wrote into these channels, so nothing can have been lost.
      stats: (): TracerChannelStats[] =>
        [...channels].map((channel) => ({ channel, discarded: 0, lost: 0, events: 0 })),
    };
  }
}
