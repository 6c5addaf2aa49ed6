// `start-session`: creates the output directory (network sessions: the relay session, relay-output.ts) and starts
// every domain tracer of the session. A session needs at least one channel (LTTng: "No channel found in the
// session") and an output, except snapshot sessions, which write only at `snapshot record`; starting twice is
// TRACE_ALREADY_STARTED, which the CLI reports as a warning like lttng.

import { ControlError } from '../../control/error-codes.js';
import { makeDirectoryAs, needsOwnedOutput } from '../../ctf/writer/owned-output.js';
import { isLttError } from '../../errors.js';
import type { CommandResult } from '../../control/messages.js';
import type { DaemonContext } from '../daemon-context.js';
import type { LockedSession } from '../session.js';
import { makeTraceDirectories } from '../../ctf/writer/trace-modes.js';
import { openNextChunk } from './rotate-session.js';
import { chunkStarted } from '../trace-chunk.js';

export async function startSession(
  ctx: DaemonContext,
  _args: unknown,
  session: LockedSession,
): Promise<CommandResult<'start-session'>> {
  if (session.active) throw new ControlError('TRACE_ALREADY_STARTED');
  const tracers = [...session.domains.values()].filter((state) => state.tracer && state.channels.size > 0);
  if (tracers.length === 0) throw new ControlError('NO_CHANNEL');
  if (!session.localOutput && !session.inMemory && !session.relay) throw new ControlError('NO_SESSION_OUTPUT');
  // Network sessions: the relay session and its first chunk exist before any consumer joins them.
  if (session.relay) await session.relay.open(ctx.log);
  // Snapshot sessions write nothing until `snapshot record`, which makes its own folder.
  if (!session.inMemory && !session.relay) {
    try {
      // Another user's session on root's daemon: their folder, made with their rights (owned-output.ts).
      if (needsOwnedOutput(session.owner)) await makeDirectoryAs(session.owner, session.outputPath);
      else makeTraceDirectories(session.outputPath);
    } catch (error) {
      if (isLttError(error)) throw new ControlError('CREATE_DIR_FAIL', `Create directory failed: ${error.message}`);
      throw new ControlError(
        'CREATE_DIR_FAIL',
        `Create directory failed: ${session.outputPath}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  // Trace chunks (rotate-session.ts): the first start opens chunk 0, the output itself; after a rotation while
  // inactive, this start opens the next chunk.
  const now = new Date();
  let chunkOpened = false;
  if (!session.inMemory && !session.startedOnce) {
    session.beginChunk(session.outputPath, now);
  } else if (!session.inMemory && !session.chunkOpen) {
    await openNextChunk(session, now);
    chunkOpened = true;
  }
  session.rotatedSinceStop = false;
  session.clearedSinceStop = false;
  const started: typeof tracers = [];
  try {
    for (const state of tracers) {
      await state.tracer!.start();
      started.push(state);
    }
  } catch (error) {
    // Leave nothing half-started: a domain that did start is stopped again before the error is reported.
    for (const state of started) {
      try {
        await state.tracer!.stop();
      } catch (stopError) {
        ctx.log(`Session ${session.name}: cannot stop ${state.domain} after a failed start: ${String(stopError)}`);
      }
    }
    throw error;
  }
  session.active = true;
  // Rotation schedules count from the start of a chunk (the first start, or the start that opened one).
  if (!session.startedOnce || chunkOpened) await chunkStarted(session);
  session.startedOnce = true;
  ctx.log(`Session ${session.name} started`);
  return session.summary();
}
