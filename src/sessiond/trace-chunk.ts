// Where the session's current trace chunk began, in time and in bytes written: rotation schedules
// (commands/rotation-schedule.ts) count from there, and start, rotate and clear begin a new chunk.

import type { Session } from './session.js';

/** Bytes of trace the session's tracers wrote so far, every chunk included. */
export async function bytesWritten(session: Session): Promise<number> {
  let total = 0;
  for (const state of session.domains.values()) {
    if (!state.tracer) continue;
    for (const s of await state.tracer.stats()) total += s.bytes ?? 0;
  }
  return total;
}

/** A new chunk began (start, rotation): schedules count from here. */
export async function chunkStarted(session: Session): Promise<void> {
  session.chunkStartedMs = Date.now();
  session.chunkStartBytes = session.rotationSizeBytes > 0 ? await bytesWritten(session) : 0;
}
