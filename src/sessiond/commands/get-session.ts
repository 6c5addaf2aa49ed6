// `get-session`: one session with its domains, channels, rules, contexts, trackers and per-channel statistics
// (discarded events, lost packets) read from the tracers at the time of the request.

import type { CommandResult } from '../../control/messages.js';
import type { DaemonContext } from '../daemon-context.js';
import type { LockedSession } from '../session.js';

export async function getSession(
  _ctx: DaemonContext,
  _args: unknown,
  session: LockedSession,
): Promise<CommandResult<'get-session'>> {
  return await session.detail();
}
