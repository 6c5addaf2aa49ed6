// `rotate-session` (`ltt rotate`): LTTng's session rotation. The current trace chunk (what was recorded since the
// first start or the last rotation) becomes OUTPUT/archives/BEGIN-END-ID, a self-contained trace ltt no longer
// touches; recording goes on in the next chunk, OUTPUT/BEGIN-ID, which the next rotation (or destroy) archives
// in turn. Chunk 0 is the output folder itself (its kernel/ and ust/ move into the archive), as with LTTng.
// Archives never overlap and together hold the whole trace: the tracers write everything recorded before the
// rotation into the old chunk and close its files before it moves (sequence numbers carry on across chunks).
// An inactive session can be rotated once after each stop; its next chunk then opens at the next start.
// Folders are made and moved with the session owner's rights when root works for another user.
// Network sessions rotate on the relay (relay-output.ts): the next chunk is created there, every tracer moves its
// streams into it (ROTATE_STREAMS), and the old chunk is closed with MOVE_TO_COMPLETED: lttng-relayd (or
// ltt-relayd) makes it HOSTNAME/SESSION-DATE/archives/BEGIN-END-ID, the path answered. `clear` does the same with
// DELETE.

import { execFile } from 'node:child_process';
import { lstatSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { ControlError } from '../../control/error-codes.js';
import type { CommandResult } from '../../control/messages.js';
import { isoBasicDateTime } from '../../ctf/writer/lttng-time-names.js';
import { makeDirectoryAs, needsOwnedOutput } from '../../ctf/writer/owned-output.js';
import { isLttError } from '../../errors.js';
import { makeTraceDirectories } from '../../ctf/writer/trace-modes.js';
import type { DaemonContext } from '../daemon-context.js';
import type { LockedSession, Session } from '../session.js';
import type { ChunkCloseAction } from '../../relay/relay-client.js';
import { chunkStarted } from '../trace-chunk.js';

async function makeFolder(session: Session, dir: string): Promise<void> {
  try {
    if (needsOwnedOutput(session.owner)) await makeDirectoryAs(session.owner, dir);
    else makeTraceDirectories(dir);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ControlError('CREATE_DIR_FAIL', `Create directory failed: ${dir}: ${reason}`);
  }
}

/** rename(2), as the owner when root works for another user (their tree: a swapped path stays theirs). */
function move(session: Session, from: string, to: string): Promise<void> {
  if (!needsOwnedOutput(session.owner)) {
    renameSync(from, to);
    return Promise.resolve();
  }
  const { uid, gid } = session.owner;
  return new Promise((resolve, reject) => {
    execFile('mv', ['-T', '--', from, to], { uid, gid, timeout: 10_000, killSignal: 'SIGKILL' }, (error, _stdout, stderr) => {
      if (!error) return resolve();
      reject(new Error(String(stderr).trim().split('\n')[0] || error.message));
    });
  });
}

/** Opens the session's next chunk at `now` (its folder made, the tracers told), as rotate and start need. */
export async function openNextChunk(session: Session, now: Date): Promise<void> {
  const dir = join(session.outputPath, `${isoBasicDateTime(now)}-${session.chunkId}`);
  await makeFolder(session, dir);
  for (const state of session.domains.values()) {
    if (state.tracer?.rotate && state.channels.size > 0) await state.tracer.rotate(dir);
  }
  session.beginChunk(dir, now);
}

/**
 * Ends the current chunk at `end` (its files closed by the tracers): it is queued for the archives, and the
 * session has no open chunk until openNextChunk() or the caller sets the next one.
 */
export function endChunk(session: Session, end: Date): void {
  session.pendingArchives.push({ dir: session.chunkDir, begin: session.chunkBegin ?? end, end, id: session.chunkId });
  session.chunkOpen = false;
  session.chunkId++;
}

/**
 * Moves every ended chunk to OUTPUT/archives/BEGIN-END-ID (chunk 0, the output itself, by its kernel/ and ust/).
 * Returns the archives made; a chunk whose move fails stays queued (tried again later) and the first failure
 * is thrown once the others were tried.
 */
export async function archivePending(session: Session): Promise<string[]> {
  const archives = join(session.outputPath, 'archives');
  const done: string[] = [];
  let failure: ControlError | undefined;
  for (const chunk of [...session.pendingArchives]) {
    const archive = join(archives, `${isoBasicDateTime(chunk.begin)}-${isoBasicDateTime(chunk.end)}-${chunk.id}`);
    try {
      if (chunk.dir === session.outputPath) {
        await makeFolder(session, archive);
        for (const domain of ['kernel', 'ust']) {
          const from = join(session.outputPath, domain);
          try {
            lstatSync(from);
          } catch {
            continue; // this domain recorded nothing (or moved already, by an earlier try)
          }
          await move(session, from, join(archive, domain));
        }
      } else {
        await makeFolder(session, archives);
        await move(session, chunk.dir, archive);
      }
      session.pendingArchives.splice(session.pendingArchives.indexOf(chunk), 1);
      done.push(archive);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      failure ??= new ControlError('ROTATION_FAIL', `Rotation failed: cannot archive ${chunk.dir} as ${archive} (tried again at the next rotation or destroy): ${reason}`);
    }
  }
  if (failure) throw failure;
  return done;
}

/**
 * A network session goes on in the relay's next trace chunk and its current one is closed with `action`; the
 * relay's path of the closed chunk. The tracers' failures do not stop the others (the relay's books follow what
 * did switch); the first is thrown once the chunk is closed.
 */
export async function rotateOnRelay(session: Session, action: ChunkCloseAction): Promise<string> {
  const relay = session.relay!;
  const now = new Date();
  const id = await relay.createChunk(now);
  const chunk = { id, creationTime: Math.floor(now.getTime() / 1000), closeAction: action };
  let failure: unknown;
  for (const state of session.domains.values()) {
    if (!state.tracer?.rotate || state.channels.size === 0) continue;
    try {
      await state.tracer.rotate(chunk);
    } catch (error) {
      failure ??= error;
    }
  }
  const path = await relay.closeChunk(now, action, id);
  session.chunkId = id;
  session.beginChunk('', now);
  await chunkStarted(session);
  if (failure !== undefined) {
    const reason = isLttError(failure) || failure instanceof Error ? failure.message : String(failure);
    throw new ControlError(action === 'delete' ? 'CLEAR_FAIL' : 'ROTATION_FAIL', `${action === 'delete' ? 'Clear' : 'Rotation'} failed: ${reason}`);
  }
  return path;
}

export async function rotateSession(ctx: DaemonContext, _args: unknown, session: LockedSession): Promise<CommandResult<'rotate-session'>> {
  if (session.inMemory || session.liveTimerUs > 0) throw new ControlError('ROTATION_NOT_AVAILABLE');
  if (!session.startedOnce) throw new ControlError('START_SESSION_ONCE');
  if (!session.active && session.rotatedSinceStop) throw new ControlError('ROTATION_MULTIPLE_AFTER_STOP');
  if (!session.active && session.clearedSinceStop) throw new ControlError('ROTATION_AFTER_STOP_CLEAR');
  if (session.relay !== undefined) {
    const archive = await rotateOnRelay(session, 'move-to-completed');
    if (!session.active) session.rotatedSinceStop = true;
    ctx.log(`Session ${session.name}: trace chunk archived on the relay in ${archive}`);
    const { host, controlPort, dataPort } = session.relay.target;
    return { archive, relay: { host, controlPort, dataPort } };
  }
  if (!session.outputPath) throw new ControlError('NO_SESSION_OUTPUT');
  const now = new Date();
  const tracers = [...session.domains.values()].filter((state) => state.tracer?.rotate && state.channels.size > 0);
  const next = session.active ? join(session.outputPath, `${isoBasicDateTime(now)}-${session.chunkId + 1}`) : undefined;
  if (next !== undefined) await makeFolder(session, next);
  // Everything recorded so far goes to the current chunk, whose files close; recording goes on in `next`.
  // A tracer that fails does not stop the others: the session's books follow what did switch.
  let failure: unknown;
  for (const state of tracers) {
    try {
      await state.tracer!.rotate!(next);
    } catch (error) {
      failure ??= error;
    }
  }
  endChunk(session, now);
  if (next !== undefined) {
    session.beginChunk(next, now);
    await chunkStarted(session);
  } else session.rotatedSinceStop = true;
  const done = await archivePending(session);
  if (failure !== undefined) {
    const reason = isLttError(failure) || failure instanceof Error ? failure.message : String(failure);
    throw new ControlError('ROTATION_FAIL', `Rotation failed: ${reason}`);
  }
  const archive = done[done.length - 1]!;
  ctx.log(`Session ${session.name}: trace chunk archived in ${archive}`);
  return { archive };
}
