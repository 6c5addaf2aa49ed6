// `list-sessions`: every session's summary. LTTng prints the most recent first; the CLI decides the order.

import type { CommandResult } from '../../control/messages.js';
import type { DaemonContext } from '../daemon-context.js';

export async function listSessions(ctx: DaemonContext): Promise<CommandResult<'list-sessions'>> {
  return ctx.registry.all().map((session) => session.summary());
}
