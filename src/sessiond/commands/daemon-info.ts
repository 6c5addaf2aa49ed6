// `daemon-info`: who is serving (pid, uid, version, protocol, runtime dir, kernel access). Used by tests and by
// the CLI's verbose mode; needs no session.

import type { CommandResult } from '../../control/messages.js';
import type { DaemonContext } from '../daemon-context.js';

export async function daemonInfo(ctx: DaemonContext): Promise<CommandResult<'daemon-info'>> {
  return { ...ctx.info, kernel: ctx.kernel.available };
}
