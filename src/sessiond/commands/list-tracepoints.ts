// `list-tracepoints`: the instrumentation points available in a domain (tracefs events for the kernel, the
// registered apps' tracepoints for user space). Needs no session.

import type { CommandResult, Domain } from '../../control/messages.js';
import type { DaemonContext } from '../daemon-context.js';

export async function listTracepoints(
  ctx: DaemonContext,
  _args: unknown,
  domain: Domain,
): Promise<CommandResult<'list-tracepoints'>> {
  return domain === 'kernel' ? await ctx.kernel.listTracepoints() : await ctx.ust.listTracepoints();
}
