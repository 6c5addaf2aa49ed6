// `enable-rotation` / `disable-rotation`: LTTng's automatic rotation schedules. A periodic schedule rotates the
// session at least every period (counted from the start of the current chunk); a size schedule rotates it each
// time the trace written since the current chunk began reaches the threshold (bytes of packets the tracers
// wrote, as their statistics report them). Both are checked on a timer of the daemon (LTTng checks them on the
// channels' monitor timers), only while the session is active, under the session's lock like any command.

import { ControlError } from '../../control/error-codes.js';
import type { CommandResult } from '../../control/messages.js';
import { asArgs, optionalBoolean, optionalInteger } from '../command-args.js';
import type { DaemonContext } from '../daemon-context.js';
import type { LockedSession, Session } from '../session.js';
import { rotateSession } from './rotate-session.js';
import { bytesWritten } from '../trace-chunk.js';

/** How often a size schedule looks at the bytes written (LTTng's default monitor timer is 1 s). */
const SIZE_CHECK_MS = 500;

export function disarmRotationSchedule(session: Session): void {
  if (session.rotationCheck !== undefined) clearInterval(session.rotationCheck);
  session.rotationCheck = undefined;
}

function arm(ctx: DaemonContext, session: Session): void {
  disarmRotationSchedule(session);
  if (session.rotationTimerUs === 0 && session.rotationSizeBytes === 0) return;
  // Ticks well within a period (a tick right at the period would find it not quite over and wait a second
  // one), never more than half a second apart (also keeps setInterval below its 24.8-day limit).
  const timerMs = session.rotationTimerUs / 1000;
  const every = Math.max(1, Math.min(SIZE_CHECK_MS, session.rotationTimerUs > 0 ? timerMs / 10 : Infinity));
  let busy = false;
  const check = async (): Promise<void> => {
    if (session.destroyed) return disarmRotationSchedule(session);
    if (busy || !session.active) return;
    if (session.relay?.error !== undefined) {
      // The relay is gone (said once in the log): no rotation can succeed any more.
      ctx.log(`Session ${session.name}: rotation schedule stopped: ${session.relay.error}`);
      return disarmRotationSchedule(session);
    }
    busy = true;
    try {
      await ctx.registry.withSession(session.name, async (s) => {
        if (!s.active) return;
        const dueByTime = s.rotationTimerUs > 0 && Date.now() - s.chunkStartedMs >= s.rotationTimerUs / 1000;
        const dueBySize = s.rotationSizeBytes > 0 && (await bytesWritten(s)) - s.chunkStartBytes >= s.rotationSizeBytes;
        if (dueByTime || dueBySize) await rotateSession(ctx, {}, s);
      });
    } catch (error) {
      if (error instanceof ControlError && error.code === 'SESS_NOT_FOUND') disarmRotationSchedule(session);
      else ctx.log(`Session ${session.name}: automatic rotation failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      busy = false;
    }
  };
  session.rotationCheck = setInterval(() => void check(), every);
  session.rotationCheck.unref();
}

function checkMode(session: LockedSession): void {
  if (session.inMemory || session.liveTimerUs > 0) throw new ControlError('ROTATION_NOT_AVAILABLE');
}

export async function enableRotation(ctx: DaemonContext, rawArgs: unknown, session: LockedSession): Promise<CommandResult<'enable-rotation'>> {
  checkMode(session);
  const args = asArgs(rawArgs);
  const timerUs = optionalInteger(args, 'timerUs');
  const sizeBytes = optionalInteger(args, 'sizeBytes');
  if (timerUs === undefined && sizeBytes === undefined) throw new ControlError('INVALID', 'Invalid parameter: a period or a size is needed');
  if (timerUs === 0 || sizeBytes === 0) throw new ControlError('INVALID', 'Invalid parameter: the period and the size must be positive');
  if (timerUs !== undefined && session.rotationTimerUs > 0) {
    throw new ControlError('ROTATION_SCHEDULE_SET', `A periodic rotation schedule is already set on session ${session.name}`);
  }
  if (sizeBytes !== undefined && session.rotationSizeBytes > 0) {
    throw new ControlError('ROTATION_SCHEDULE_SET', `A size-based rotation schedule is already set on session ${session.name}`);
  }
  if (timerUs !== undefined) session.rotationTimerUs = timerUs;
  if (sizeBytes !== undefined) {
    session.rotationSizeBytes = sizeBytes;
    if (session.active) session.chunkStartBytes = await bytesWritten(session);
  }
  arm(ctx, session);
  ctx.log(`Session ${session.name}: rotation schedule set (every ${session.rotationTimerUs} us, every ${session.rotationSizeBytes} bytes)`);
  return session.summary();
}

export async function disableRotation(ctx: DaemonContext, rawArgs: unknown, session: LockedSession): Promise<CommandResult<'disable-rotation'>> {
  checkMode(session);
  const args = asArgs(rawArgs);
  const timer = optionalBoolean(args, 'timer');
  const size = optionalBoolean(args, 'size');
  if (!timer && !size) throw new ControlError('INVALID', 'Invalid parameter: say which schedule (timer, size)');
  if (timer && session.rotationTimerUs === 0) throw new ControlError('ROTATION_SCHEDULE_NOT_SET', `No periodic rotation schedule active on session ${session.name}`);
  if (size && session.rotationSizeBytes === 0) throw new ControlError('ROTATION_SCHEDULE_NOT_SET', `No size-based rotation schedule active on session ${session.name}`);
  if (timer) session.rotationTimerUs = 0;
  if (size) session.rotationSizeBytes = 0;
  arm(ctx, session);
  return session.summary();
}
