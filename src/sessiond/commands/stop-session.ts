// `stop-session`: stops every domain tracer, which flushes the buffers to the trace files before answering,
// so the trace is complete when the CLI prints "Tracing stopped". Stopping an inactive session is
// TRACE_ALREADY_STOPPED (a warning in the CLI, like lttng).

import { ControlError } from '../../control/error-codes.js';
import { LttError } from '../../errors.js';
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

/**
 * The trace-writing failures (full disk, a relay given up, ...) of the session's tracers (or of `tracers`) not
 * reported yet, each logged.
 */
export function takeWriteErrorLines(ctx: DaemonContext, session: LockedSession, tracers = [...session.domains.values()].map((s) => s.tracer)): string[] {
  const lines: string[] = [];
  for (const tracer of tracers) lines.push(...(tracer?.writeErrors?.() ?? []));
  for (const line of lines) ctx.log(`Session ${session.name}: trace data lost: ${line}`);
  return lines;
}

/** `lines` as the one error the user sees: "DONE, but trace data was lost: FIRST (and N more, ...)", or undefined. */
export function traceDataLost(done: string, lines: readonly string[]): LttError | undefined {
  if (lines.length === 0) return undefined;
  const more = lines.length > 1 ? ` (and ${lines.length - 1} more, see the daemon log)` : '';
  return new LttError('TRACE_WRITE_FAILED', `${done}, but trace data was lost: ${lines[0]}${more}`);
}

/** The session's write failures not reported yet, as one error for the user, or undefined when everything was written. */
export function takeWriteErrors(ctx: DaemonContext, session: LockedSession): LttError | undefined {
  return traceDataLost(`Tracing stopped for session ${session.name}`, takeWriteErrorLines(ctx, session));
}

export async function stopSession(
  ctx: DaemonContext,
  _args: unknown,
  session: LockedSession,
): Promise<CommandResult<'stop-session'>> {
  if (!session.active) throw new ControlError('TRACE_ALREADY_STOPPED');
  await stopTracers(ctx, session);
  ctx.log(`Session ${session.name} stopped`);
  // The session is stopped either way; what could not be written is said once, as this command's error.
  const lost = takeWriteErrors(ctx, session);
  if (lost) throw lost;
  return session.summary();
}
