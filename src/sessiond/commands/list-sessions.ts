// `list-sessions`: the summary of every session the client may use. LTTng prints the most recent first; the CLI decides the order.

import type { CommandResult } from '../../control/messages.js';
import { mayAccess, type DaemonContext } from '../daemon-context.js';

/** Only the sessions the client may use (all of them for root), as lttng-sessiond lists them. */
export async function listSessions(ctx: DaemonContext): Promise<CommandResult<'list-sessions'>> {
  return ctx.registry.all().filter((session) => mayAccess(ctx.peer, session)).map((session) => session.summary());
}
