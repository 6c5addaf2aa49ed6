// `ltt add-context (-k|-u) [-s SESSION] [-c CHANNEL] -t TYPE [-t TYPE...]` and `ltt add-context --list`:
// adds context fields to a channel or to all channels of the domain, before the session's first start.

import { ControlError } from '../../control/error-codes.js';
import { allContextNames, isKnownContext } from '../../control/context-types.js';
import type { CommandSpec } from '../command-spec.js';
import { CliError, usageError } from '../cli-error.js';
import { domainFrom, domainOptions, domainLabel } from '../domain-option.js';
import { ExitCode } from '../exit-codes.js';
import { array, type MiNode } from '../output/mi-document.js';
import { contextNode } from '../output/mi-model.js';

export const addContextCommand: CommandSpec = {
  name: 'add-context',
  help: `Usage: ltt add-context (-k | -u) [-s SESSION] [-c CHANNEL] -t TYPE [-t TYPE]...
       ltt add-context --list

Add context fields of TYPE to CHANNEL, or to every channel of the domain, in SESSION (default: the current
session). --list prints the available types.
`,
  options: {
    session: { type: 'string', short: 's' },
    channel: { type: 'string', short: 'c' },
    ...domainOptions('kernel', 'userspace', 'jul', 'log4j'),
    type: { type: 'string', short: 't', multiple: true },
    list: { type: 'boolean' },
  },
  async run(ctx, { values, positionals }) {
    if (values.list) {
      ctx.miOutput = array('contexts', allContextNames().map((name) => contextNode(name)));
      if (!ctx.mi) ctx.raw(allContextNames().join('\n') + '\n');
      return ExitCode.SUCCESS;
    }
    const domain = domainFrom(values);
    if (positionals.length > 0) throw usageError(`Unknown argument: ${positionals[0]}`);
    const types = (values.type as string[] | undefined) ?? [];
    if (types.length === 0) throw usageError('Missing mandatory -t TYPE');
    for (const type of types) {
      // lttng treats an unknown type as fatal (exit 3) before contacting the daemon.
      if (!isKnownContext(type)) throw new CliError('UNKNOWN_CONTEXT', `Unknown context type ${type}`, ExitCode.FATAL);
    }
    const session = ctx.session(values.session as string | undefined);
    const channel = values.channel as string | undefined;
    const client = await ctx.control();
    const label = domainLabel(domain);
    const contexts: MiNode[] = [];
    let code = ExitCode.SUCCESS as ExitCode;
    for (const type of types) {
      try {
        await client.request('add-context', { session, domain, ...(channel !== undefined ? { channel } : {}), context: type });
        contexts.push(contextNode(type, true));
        ctx.out(`${label} context ${type} added to ${channel !== undefined ? `channel ${channel}` : 'all channels'}`);
      } catch (error) {
        if (!(error instanceof ControlError)) throw error;
        contexts.push(contextNode(type, false));
        ctx.error(`${type}: ${error.message}`, error.code);
        // lttng 2.13 ends add-context with exit 4 (warning) whenever a context type fails, though it prints an
        // error line: an existing context, a started session, an unknown session alike (checked against lttng).
        code = ExitCode.WARNING;
      }
    }
    ctx.miOutput = array('contexts', contexts);
    return code;
  },
};
