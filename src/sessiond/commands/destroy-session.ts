// `destroy-session`: implicit stop (flushing what the tracers hold), then each domain tracer is destroyed
// (tracefs instances removed) and the name is free again. The trace files stay on disk; a session rotated before
// has its last trace chunk archived (OUTPUT/archives/BEGIN-END-ID), as lttng destroy does.

import type { CommandResult } from '../../control/messages.js';
import type { DaemonContext } from '../daemon-context.js';
import type { LockedSession } from '../session.js';
import { archivePending, endChunk } from './rotate-session.js';
import { disarmRotationSchedule } from './rotation-schedule.js';
import { stopTracers, takeWriteErrorLines, traceDataLost } from './stop-session.js';
import { RELAY_DESTROY_MS } from '../relay-output.js';
import { LttError } from '../../errors.js';

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function destroySession(
  ctx: DaemonContext,
  _args: unknown,
  session: LockedSession,
): Promise<CommandResult<'destroy-session'>> {
  disarmRotationSchedule(session);
  // One deadline for a relay that stalls: the tracers' waits for it and the daemon's own last command share it.
  const relayDeadline = Date.now() + RELAY_DESTROY_MS;
  if (session.active) await stopTracers(ctx, session);
  const summary = session.summary();
  const errors: unknown[] = [];
  // Losses no `stop` reported yet (destroy of an active session), then those of the teardown (a relay given up
  // while the traces close): said once, in one line, after the teardown, and the command fails.
  const lost = takeWriteErrorLines(ctx, session);
  let closed = true;
  for (const state of session.domains.values()) {
    if (!state.tracer) continue;
    try {
      await state.tracer.destroy();
    } catch (error) {
      // Keep destroying the other domains; the first failure is reported once everything was tried (each in the log).
      ctx.log(`Session ${session.name}: destroying ${state.domain} failed: ${reasonOf(error)}`);
      errors.push(error);
      closed = false;
    }
    lost.push(...takeWriteErrorLines(ctx, session, [state.tracer]));
    state.tracer = undefined;
  }
  // A session rotated before: its last chunk is archived too, so the trace is all in archives/ (as LTTng),
  // once every tracer closed its files (write losses reported above do not keep it out).
  let archive: string | undefined;
  if (session.relay !== undefined) {
    // The relay archives the last chunk itself once told (and once the consumers' connections let it go).
    archive = await session.relay.close(session.rotatedSinceStop, relayDeadline);
  } else if (session.rotated && closed) {
    try {
      if (session.chunkOpen) endChunk(session, new Date());
      archive = (await archivePending(session)).pop();
    } catch (error) {
      ctx.log(`Session ${session.name}: archiving its last chunk failed: ${reasonOf(error)}`);
      errors.push(error);
    }
  }
  session.destroyed = true;
  ctx.registry.remove(session);
  ctx.log(`Session ${session.name} destroyed`);
  const loss = traceDataLost(`Session ${session.name} destroyed`, lost);
  if (loss !== undefined) {
    // The session is gone all the same (the CLI frees its name on this code), but a failure to close is said too:
    // thrown alone, the loss hid it from the user, and it reached no log either.
    if (errors.length > 0) {
      const more = errors.length > 1 ? ` (and ${errors.length - 1} more, see the daemon log)` : '';
      throw new LttError(loss.code, `${loss.message}; and destroying it failed: ${reasonOf(errors[0])}${more}`, { cause: errors[0] });
    }
    throw loss;
  }
  if (errors.length > 0) throw errors[0];
  if (archive === undefined) return summary;
  if (session.relay === undefined) return { ...summary, archive };
  const { host, controlPort, dataPort } = session.relay.target;
  return { ...summary, archive, archiveRelay: { host, controlPort, dataPort } };
}
