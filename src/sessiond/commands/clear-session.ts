// `clear-session` (`ltt clear`): as lttng clear, what the session recorded so far goes and recording goes on.
// The current trace chunk's files start again empty (archives of earlier rotations stay); snapshot sessions
// drop the buffers they keep for snapshots. A session never started has nothing to clear. Network sessions clear
// as lttng's: a rotation on the relay whose old chunk is deleted (rotate-session.ts), refused when the relay
// does not allow clearing (its GET_CONFIGURATION; lttng-relayd --disallow-clear).

import { ControlError } from '../../control/error-codes.js';
import type { CommandResult } from '../../control/messages.js';
import { isLttError } from '../../errors.js';
import type { DaemonContext } from '../daemon-context.js';
import type { LockedSession } from '../session.js';
import { chunkStarted } from '../trace-chunk.js';
import { rotateOnRelay } from './rotate-session.js';

export async function clearSession(ctx: DaemonContext, _args: unknown, session: LockedSession): Promise<CommandResult<'clear-session'>> {
  // After a stop, once cleared or rotated, the session has nothing more to clear until it starts again.
  if (!session.active && (session.clearedSinceStop || session.rotatedSinceStop)) {
    ctx.log(`Session ${session.name} cleared (nothing new since the last stop)`);
    return session.summary();
  }
  if (session.relay !== undefined && session.startedOnce) {
    if (!(await session.relay.clearAllowed())) throw new ControlError('CLEAR_NOT_AVAILABLE_RELAY');
    await rotateOnRelay(session, 'delete');
  } else if (session.startedOnce) {
    // Without an open chunk (rotated while inactive) there are no files to empty, only buffers.
    const dir = session.inMemory || !session.chunkOpen ? undefined : session.chunkDir;
    let failure: unknown;
    for (const state of session.domains.values()) {
      if (!state.tracer?.clear || state.channels.size === 0) continue;
      try {
        await state.tracer.clear(dir);
      } catch (error) {
        failure ??= error; // the other domains are cleared all the same
      }
    }
    // A size-based rotation schedule counts from here: the chunk starts again.
    if (!session.inMemory) await chunkStarted(session);
    if (failure !== undefined) {
      const reason = isLttError(failure) || failure instanceof Error ? failure.message : String(failure);
      throw new ControlError('CLEAR_FAIL', `Clear failed: ${reason}`);
    }
  }
  if (!session.active && session.startedOnce) session.clearedSinceStop = true;
  ctx.log(`Session ${session.name} cleared`);
  return session.summary();
}
