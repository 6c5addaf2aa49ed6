// Shared body of `ltt track` and `ltt untrack` (LTTng's track-untrack.cpp is one file too):
//   (-k|-u) [-s SESSION] (--pid=LIST | --vpid=LIST | --uid=LIST | --vuid=LIST | --gid=LIST | --vgid=LIST)...
//   or --all --pid ... (track: include all; untrack: exclude all)
// One request per attribute and value, with lttng's messages.

import { ControlError } from '../../control/error-codes.js';
import type { ProcessAttribute } from '../../control/messages.js';
import type { CommandSpec, OptionSpec } from '../command-spec.js';
import { usageError } from '../cli-error.js';
import { domainFrom, domainOptions } from '../domain-option.js';
import { ExitCode } from '../exit-codes.js';
import { group, type MiNode, withChild } from '../output/mi-document.js';
import { successNode, trackerNode, trackerValueNode } from '../output/mi-model.js';

const ATTRIBUTES: ProcessAttribute[] = ['pid', 'vpid', 'uid', 'vuid', 'gid', 'vgid'];

const DISPLAY: Record<ProcessAttribute, string> = {
  pid: 'process ID',
  vpid: 'virtual process ID',
  uid: 'user ID',
  vuid: 'virtual user ID',
  gid: 'group ID',
  vgid: 'virtual group ID',
};

function capitalized(text: string): string {
  return text[0]!.toUpperCase() + text.slice(1);
}

// lttng 2.13's table: -p is --pid (no Python agent domain here), and each attribute's value is optional (--all).
const OPTIONS: Record<string, OptionSpec> = {
  session: { type: 'string', short: 's' },
  ...domainOptions('kernel', 'userspace'),
  ...Object.fromEntries(
    ATTRIBUTES.map((a) => [a, { type: 'string', multiple: true, defaultValue: '', ...(a === 'pid' ? { short: 'p' } : {}) } as OptionSpec]),
  ),
  all: { type: 'boolean', short: 'a' },
};

export function trackerCommand(operation: 'track' | 'untrack'): CommandSpec {
  const verb = operation === 'track' ? 'Add' : 'Remove';
  return {
    name: operation,
    help: `Usage: ltt ${operation} (-k | -u) [-s SESSION] (--pid=PID[,PID]... | --vpid=VPID[,VPID]... | --uid=UID[,UID]...
                  | --vuid=VUID[,VUID]... | --gid=GID[,GID]... | --vgid=VGID[,VGID]...)...
       ltt ${operation} (-k | -u) [-s SESSION] --all (--pid | --vpid | --uid | --vuid | --gid | --vgid)...

${verb} values ${operation === 'track' ? 'to' : 'from'} process-attribute inclusion sets of SESSION (default: the current
session). User and group names are accepted for the user and group IDs. The kernel has all six sets, user space
the virtual ones. --all ${operation === 'track' ? 'makes a set include every process' : 'empties a set (no process matches)'}.
`,
    options: OPTIONS,
    async run(ctx, { values, positionals }) {
      const domain = domainFrom(values);
      if (positionals.length > 0) throw usageError(`Unknown argument: ${positionals[0]}`);
      const requests: Array<{ attribute: ProcessAttribute; values: string[] | 'all' }> = [];
      for (const option of ATTRIBUTES) {
        // lttng 2.13 takes the deprecated --pid of the user space domain as --vpid (UST has no pid set).
        const attribute: ProcessAttribute = option === 'pid' && domain === 'ust' ? 'vpid' : option;
        for (const text of (values[option] as string[] | undefined) ?? []) {
          if (text === '') {
            if (!values.all) throw usageError(`Missing value for --${option} (or use --all)`);
            requests.push({ attribute, values: 'all' });
          } else {
            requests.push({ attribute, values: text.split(',').filter((v) => v.length > 0) });
          }
        }
      }
      if (requests.length === 0) throw usageError('At least one process attribute must be specified');
      const session = ctx.session(values.session as string | undefined);
      const client = await ctx.control();
      const trackers: MiNode[] = [];
      ctx.miOutput = group('process_attr_trackers', trackers);
      let code = ExitCode.SUCCESS as ExitCode;
      for (const request of requests) {
        const name = DISPLAY[request.attribute];
        const items: Array<string[] | 'all'> = request.values === 'all' ? ['all'] : request.values.map((v) => [v]);
        const results: MiNode[] = [];
        trackers.push(trackerNode(request.attribute, results));
        // lttng counts a value already (not) in the set as done: the set is what was asked for.
        const result = (value: number | string, success: boolean): void => {
          results.push(withChild(trackerValueNode(request.attribute, value), successNode(success)));
          ctx.miOutput = group('process_attr_trackers', trackers);
        };
        for (const item of items) {
          const wireValues = item === 'all' ? 'all' : item.map((v) => (/^\d+$/.test(v) ? Number(v) : v));
          try {
            await client.request(operation, {
              session,
              domain,
              attribute: request.attribute,
              values: wireValues,
            });
            result(wireValues === 'all' ? 'all' : wireValues[0]!, true);
            if (item === 'all') {
              ctx.out(`${capitalized(name)} tracking policy set to \`${operation === 'track' ? 'include all' : 'exclude all'}\``);
            } else {
              const shown = /^\d+$/.test(item[0]!) ? item[0] : `\`${item[0]}\``;
              ctx.out(
                operation === 'track'
                  ? `Added ${shown} to the ${name} tracker inclusion set`
                  : `Removed ${shown} from the ${name} tracker inclusion set`,
              );
            }
          } catch (error) {
            if (!(error instanceof ControlError)) throw error;
            if (error.code === 'PROCESS_ATTR_EXISTS' || error.code === 'PROCESS_ATTR_MISSING') {
              // lttng 2.13's exact warnings (its "the the" typo included, so text matching lttng's works), and
              // like lttng the command still succeeds: the set already is what the user asked for.
              ctx.miError ??= error.toWire();
              result(wireValues === 'all' ? 'all' : wireValues[0]!, true);
              const value = String(item === 'all' ? 'all' : item[0]);
              ctx.warn(
                error.code === 'PROCESS_ATTR_EXISTS'
                  ? `${value} is already in the ${name} inclusion set`
                  : `${value} is not in the ${name} the inclusion set`,
              );
            } else {
              // lttng's track/untrack word an unknown session differently from the other commands.
              result(wireValues === 'all' ? 'all' : wireValues[0]!, false);
              ctx.error(error.code === 'SESS_NOT_FOUND' ? 'Recording session does not exist' : error.message, error.code);
              code = ExitCode.ERROR;
            }
          }
        }
      }
      return code;
    },
  };
}
