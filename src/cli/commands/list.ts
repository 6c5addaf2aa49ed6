// `ltt list [SESSION] [-c CHANNEL] [-k [--syscall] | -u]`: without arguments the sessions; with SESSION its
// domains, trackers, channels (attributes, "Discarded events"/"Lost packets") and rules; with a domain flag
// and no session, the tracepoints (or syscalls) that domain offers. The model comes from the daemon, the text
// from output/list-human.ts, the MI elements from output/mi-model.ts.

import { ControlError } from '../../control/error-codes.js';
import { isAgentDomain, type RuleDomain } from '../../control/messages.js';
import type { CliContext } from '../cli-context.js';
import { domainOptions, ruleDomainFrom } from '../domain-option.js';

/** `list SESSION -d`: lttng's domain lines. */
const DOMAIN_TITLES: Record<RuleDomain, string> = {
  kernel: 'Kernel',
  ust: 'UST global',
  jul: 'JUL (Java Util Logging)',
  log4j: 'LOG4j (Logging for Java)',
  python: 'Python (logging)',
};
import type { CommandSpec } from '../command-spec.js';
import { CliError, usageError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { renderAgentLoggers, renderSessionDetail, renderSessionList, renderSyscalls, renderTracepoints } from '../output/list-human.js';
import { catalogNode, domainSummaryNode, sessionDetailNode, sessionNode, sessionsNode, syscallsNode } from '../output/mi-model.js';
import { array, withChild } from '../output/mi-document.js';

/**
 * `list -k` when no daemon answers: the kernel's catalog is read-only and needs no daemon state, so root gets it
 * read in process (lttng needs a running sessiond here; a first `ltt list --kernel` should just work).
 * Returns undefined when a daemon runs (it answers as usual) or when this user cannot read tracefs.
 */
async function listKernelWithoutDaemon(ctx: CliContext, syscalls: boolean): Promise<ExitCode | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    await ctx.control(); // a daemon answers: it lists, with the same client
    return undefined;
  } catch (error) {
    if (!(error instanceof ControlError) || error.code !== 'NO_SESSIOND') return undefined;
  }
  try {
    // Loaded here only: other commands never touch tracefs.
    const { kernelSyscalls, kernelTracepoints } = await import('../../kernel/kernel-catalog.js');
    if (syscalls) {
      const list = await kernelSyscalls();
      ctx.miOutput = syscallsNode(list);
      ctx.raw(ctx.mi || ctx.options.quiet ? '' : renderSyscalls(list));
    } else {
      const list = await kernelTracepoints();
      ctx.miOutput = catalogNode('kernel', list);
      ctx.raw(ctx.mi || ctx.options.quiet ? '' : renderTracepoints('kernel', list));
    }
  } catch (error) {
    const what = syscalls ? 'system calls' : 'kernel events';
    throw new CliError('KERN_LIST_FAIL', `Unable to list ${what}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return ExitCode.SUCCESS;
}

/** Prints one session (list SESSION, status); SESS_NOT_FOUND becomes lttng's "Session 'X' not found". */
export async function listSession(
  ctx: CliContext,
  name: string,
  channel: string | undefined,
  domain?: RuleDomain,
): Promise<ExitCode> {
  const client = await ctx.control();
  let detail;
  try {
    detail = await client.request('get-session', { session: name });
  } catch (error) {
    if (error instanceof ControlError && error.code === 'SESS_NOT_FOUND') {
      ctx.miOutput = sessionsNode([]);
      throw new CliError('SESS_NOT_FOUND', `Session '${name}' not found`);
    }
    throw error;
  }
  if (domain) detail.domains = detail.domains.filter((d) => d.domain === domain);
  ctx.miOutput = sessionsNode([sessionDetailNode(detail, channel)]);
  if (channel !== undefined && !detail.domains.some((d) => d.channels.some((c) => c.name === channel))) {
    // lttng prints the session, its domains and the "Channels:" heading, then the error.
    ctx.out(renderSessionDetail(detail, channel, { oneDomain: domain !== undefined, channelHeader: true }).trimEnd());
    throw new CliError('CHAN_NOT_FOUND', `Channel ${channel} not found`);
  }
  ctx.raw(ctx.mi || ctx.options.quiet ? '' : renderSessionDetail(detail, channel, { oneDomain: domain !== undefined }));
  return ExitCode.SUCCESS;
}

export const listCommand: CommandSpec = {
  name: 'list',
  help: `Usage: ltt list [SESSION [-c CHANNEL] [-k | -u | -j | -l | -p]]
       ltt list (-k [--syscall] | -u | -j | -l | -p)

Without arguments, list the recording sessions. With SESSION, show its domains, process-attribute trackers,
channels (attributes and statistics) and recording event rules. With -k or -u and no SESSION, list the
tracepoints available in that domain (--syscall: the system calls).

Options:
  -c, --channel=NAME   only this channel
  -k, --kernel         kernel domain
  -u, --userspace      user space domain
  -j, --jul            JUL agent domain (-l, --log4j: log4j; -p, --python: Python logging); ltt apps have no
                       agent, so no logger is listed
  -S, --syscall        with -k: list system calls
  -d, --domain         list the session's domains
`,
  options: {
    ...domainOptions('kernel', 'jul', 'log4j', 'python', 'userspace'),
    channel: { type: 'string', short: 'c' },
    domain: { type: 'boolean', short: 'd' },
    fields: { type: 'boolean', short: 'f' },
    syscall: { type: 'boolean', short: 'S' },
  },
  async run(ctx, { values, positionals }) {
    if (positionals.length > 1) throw usageError(`Unknown argument: ${positionals[1]}`);
    if (values.syscall && !values.kernel) {
      ctx.warn('--syscall will only work with the Kernel domain (-k)');
      return ExitCode.ERROR;
    }
    const session = positionals[0];
    const flags = (['kernel', 'userspace', 'jul', 'log4j', 'python'] as const).filter((flag) => values[flag]);
    const domain: RuleDomain | undefined = flags.length > 0 ? ruleDomainFrom(values) : undefined;
    if (session === undefined && domain === 'kernel') {
      const local = await listKernelWithoutDaemon(ctx, values.syscall === true);
      if (local !== undefined) return local;
    }
    const client = await ctx.control();
    if (session === undefined) {
      if (!domain) {
        const sessions = await client.request('list-sessions', {});
        // Newest first, as lttng lists them (and as the text shows them).
        ctx.miOutput = sessionsNode([...sessions].reverse().map(sessionNode));
        ctx.raw(ctx.mi || ctx.options.quiet ? '' : renderSessionList(sessions));
        return ExitCode.SUCCESS;
      }
      if (isAgentDomain(domain)) {
        // The loggers of registered agents: ltt apps have none.
        ctx.miOutput = catalogNode(domain, []);
        ctx.raw(ctx.mi || ctx.options.quiet ? '' : renderAgentLoggers(domain));
        return ExitCode.SUCCESS;
      }
      try {
        if (domain === 'kernel' && values.syscall) {
          const syscalls = await client.request('list-syscalls', {});
          ctx.miOutput = syscallsNode(syscalls);
          ctx.raw(ctx.mi || ctx.options.quiet ? '' : renderSyscalls(syscalls));
        } else {
          const tracepoints = await client.request('list-tracepoints', { domain });
          const withFields = values.fields === true && domain === 'ust';
          ctx.miOutput = catalogNode(domain, tracepoints, withFields);
          ctx.raw(ctx.mi || ctx.options.quiet ? '' : renderTracepoints(domain, withFields ? tracepoints.filter((t) => t.fields?.length) : tracepoints, withFields));
        }
      } catch (error) {
        if (error instanceof ControlError) {
          const what = values.syscall ? 'system calls' : domain === 'kernel' ? 'kernel events' : 'UST events';
          throw new CliError(error.code, `Unable to list ${what}: ${error.message}`);
        }
        throw error;
      }
      return ExitCode.SUCCESS;
    }
    if (values.domain) {
      const detail = await client.request('get-session', { session });
      ctx.miOutput = sessionsNode([withChild(sessionNode(detail), array('domains', detail.domains.map(domainSummaryNode)))]);
      ctx.out('Domains:\n-------------');
      if (detail.domains.length === 0) ctx.out('  None');
      for (const d of detail.domains) ctx.out(`  - ${DOMAIN_TITLES[d.domain]}`);
      return ExitCode.SUCCESS;
    }
    return await listSession(ctx, session, values.channel as string | undefined, domain);
  },
};
