// `regenerate-statedump`: a new state dump (processes, file descriptors, ...) into the recording channels that
// record one, as `lttng regenerate statedump` does (useful after a long run, or for a snapshot): the kernel
// domain's state dump, and each ltt/ust app's (lttng_ust_statedump:*, src/ust/statedump.ts) where a rule takes
// it. SESSION_NOT_STARTED otherwise.

import { ControlError } from '../../control/error-codes.js';
import type { CommandResult } from '../../control/messages.js';
import type { DaemonContext } from '../daemon-context.js';
import type { LockedSession } from '../session.js';

export async function regenerateStatedump(
  ctx: DaemonContext,
  _args: unknown,
  session: LockedSession,
): Promise<CommandResult<'regenerate-statedump'>> {
  if (!session.active) throw new ControlError('SESSION_NOT_STARTED');
  for (const state of session.domains.values()) await state.tracer?.regenerateStatedump?.();
  ctx.log(`Session ${session.name}: state dump regenerated`);
  return session.summary();
}
