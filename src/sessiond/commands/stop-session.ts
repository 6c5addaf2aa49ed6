// `stop-session`: stops every domain tracer, which flushes the buffers to the trace files before answering,
// so the trace is complete when the CLI prints "Tracing stopped". Stopping an inactive session is
// TRACE_ALREADY_STOPPED (a warning in the CLI, like lttng).

import { ControlError } from '../../control/error-codes.js';
import type { CommandResult } from '../../control/messages.js';
import type { DaemonContext } from '../daemon-context.js';
import type { LockedSession } from '../session.js';

/** Stops every started tracer, trying all of them even when one fails; rethrows the first failure. */
export async function stopTracers(ctx: DaemonContext, session: LockedSession): Promise<void> {
  let failure: unknown;
  for (const state of session.domains.values()) {
    if (!state.tracer) continue;
    try {
      await state.tracer.stop();
    } catch (error) {
      ctx.log(`Session ${session.name}: stopping ${state.domain} failed: ${String(error)}`);
      failure ??= error;
    }
  }
  session.active = false;
  if (failure !== undefined) throw failure;
}

export async function stopSession(
  ctx: DaemonContext,
  _args: unknown,
  session: LockedSession,
): Promise<CommandResult<'stop-session'>> {
  if (!session.active) throw new ControlError('TRACE_ALREADY_STOPPED');
  await stopTracers(ctx, session);
  ctx.log(`Session ${session.name} stopped`);
  return session.summary();
}
