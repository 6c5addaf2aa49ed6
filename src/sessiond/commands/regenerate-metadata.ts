// `regenerate-metadata`: each domain writes its trace's metadata again from the start (the current chunk's
// metadata file is rewritten whole), as `lttng regenerate metadata` does (after the clock was set, for
// instance). LTTng's rules: the session must be recording (SESSION_NOT_STARTED) and not live (LIVE_SESSION),
// and user-space buffers must be per-UID (PER_PID_SESSION): only then does one party (here the session
// daemon) own the user-space metadata. A domain whose tracer cannot rewrite its metadata is NOT_SUPPORTED.

import { ControlError } from '../../control/error-codes.js';
import type { CommandResult } from '../../control/messages.js';
import type { DaemonContext } from '../daemon-context.js';
import type { LockedSession } from '../session.js';

export async function regenerateMetadata(
  ctx: DaemonContext,
  _args: unknown,
  session: LockedSession,
): Promise<CommandResult<'regenerate-metadata'>> {
  if (session.liveTimerUs > 0) throw new ControlError('LIVE_SESSION');
  if (!session.active) throw new ControlError('SESSION_NOT_STARTED');
  const ust = session.domains.get('ust');
  if (ust?.tracer !== undefined && ust.bufferType !== 'per-uid') throw new ControlError('PER_PID_SESSION');
  for (const state of session.domains.values()) {
    if (state.tracer === undefined) continue;
    if (state.tracer.regenerateMetadata === undefined) {
      throw new ControlError('NOT_SUPPORTED', `Operation not supported: ltt cannot regenerate the ${state.domain} domain's metadata`);
    }
  }
  for (const state of session.domains.values()) await state.tracer?.regenerateMetadata?.();
  ctx.log(`Session ${session.name}: metadata regenerated`);
  return session.summary();
}
