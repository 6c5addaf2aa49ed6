// `list-syscalls`: the system calls the kernel domain can trace (`list --kernel --syscall`).

import type { CommandResult } from '../../control/messages.js';
import type { DaemonContext } from '../daemon-context.js';

export async function listSyscalls(ctx: DaemonContext): Promise<CommandResult<'list-syscalls'>> {
  ctx.kernel.check();
  return await ctx.kernel.listSyscalls();
}
