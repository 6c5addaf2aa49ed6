// `ltt enable-event (-k|-u) [--tracepoint | --syscall | --probe=LOC | --function=LOC | --userspace-probe=LOC]
//  (-a | NAME[,NAME...]) [-f FILTER] [-x EXCL] [--loglevel[-only]=L] [-c CHANNEL] [-s SESSION]`: one recording
// event rule per name, in CHANNEL or the default channel0 (created on first use). Messages as lttng 2.13.9's:
// "Kernel event sched_switch created in channel channel0", "ust event prov:ev created in channel ch1", "All ust
// events are enabled in channel ch1[ for loglevel L]", and with --filter only "Event NAME: Filter 'F' successfully
// set". Per-name failures are "Error: Event NAME: <reason> (channel C, session S[, filter 'F'])" and the other
// names are still tried; only a duplicate kernel rule is a warning (a duplicate user space rule is an error).

import { ControlError } from '../../control/error-codes.js';
import type { EventRuleSpec, EventType } from '../../control/messages.js';
import { LttError } from '../../errors.js';
import { parseFilter } from '../../filter/parse-filter.js';
import type { CommandSpec } from '../command-spec.js';
import { usageError } from '../cli-error.js';
import { domainOptions, domainLabel, ruleDomainFrom, splitNameList } from '../domain-option.js';
import { ExitCode } from '../exit-codes.js';
import { eventNode, successNode } from '../output/mi-model.js';
import { array, type MiNode, withChild } from '../output/mi-document.js';
import { parseLoglevel } from '../output/loglevels.js';

export const enableEventCommand: CommandSpec = {
  name: 'enable-event',
  help: `Usage: ltt enable-event -k [--tracepoint | --syscall] (-a | NAME[,NAME...]) [-f EXPR] [-c CHANNEL] [-s SESSION]
       ltt enable-event -k (--probe=LOC | --function=LOC | --userspace-probe=LOC) RECORDNAME [-c CHANNEL] [-s SESSION]
       ltt enable-event -u [--tracepoint] (-a | NAME[,NAME...]) [-x XNAME[,XNAME...]]
                        [--loglevel=LEVEL | --loglevel-only=LEVEL] [-f EXPR] [-c CHANNEL] [-s SESSION]

Create a recording event rule per NAME (globs with *, \\, escapes a comma) in CHANNEL (default: channel0,
created with default attributes on first use) of SESSION (default: the current session).

Options:
  -a, --all                      all tracepoints (and, for -k without a type, all system calls)
      --tracepoint               tracepoints (default)
      --syscall                  system calls (entry and exit)
      --probe=(SYMBOL[+OFF] | 0xADDR)   kprobe
      --function=(SYMBOL[+OFF] | 0xADDR)  function entry/exit probe
      --userspace-probe=([elf:]PATH:SYMBOL | sdt:PATH:PROVIDER:NAME)  uprobe
  -f, --filter=EXPR              only events for which EXPR is true
  -x, --exclude=XNAME[,...]      (-u) names excluded from the glob
      --loglevel=LEVEL           (-u) log level at least as severe as LEVEL
      --loglevel-only=LEVEL      (-u) log level exactly LEVEL
`,
  options: {
    session: { type: 'string', short: 's' },
    all: { type: 'boolean', short: 'a' },
    channel: { type: 'string', short: 'c' },
    ...domainOptions('kernel', 'userspace', 'jul', 'log4j', 'python'),
    tracepoint: { type: 'boolean' },
    probe: { type: 'string' },
    'userspace-probe': { type: 'string' },
    function: { type: 'string' },
    syscall: { type: 'boolean' },
    loglevel: { type: 'string' },
    'loglevel-only': { type: 'string' },
    'list-options': { type: 'boolean' },
    filter: { type: 'string', short: 'f' },
    exclude: { type: 'string', short: 'x' },
  },
  async run(ctx, { values, positionals }) {
    const domain = ruleDomainFrom(values);
    const typeFlags = (['tracepoint', 'syscall', 'probe', 'function', 'userspace-probe'] as const).filter(
      (flag) => values[flag] !== undefined,
    );
    if (typeFlags.length > 1) throw usageError('Only one event type can be specified');
    let type: EventType = domain === 'kernel' ? 'all' : 'tracepoint';
    let location: string | undefined;
    switch (typeFlags[0]) {
      case 'tracepoint':
        type = 'tracepoint';
        break;
      case 'syscall':
        type = 'syscall';
        break;
      case 'probe':
        type = 'kprobe';
        location = values.probe as string;
        break;
      case 'function':
        type = 'function';
        location = values.function as string;
        break;
      case 'userspace-probe':
        type = 'uprobe';
        location = values['userspace-probe'] as string;
        break;
    }
    if (domain === 'ust' && type !== 'tracepoint') throw usageError('Event type not available for user-space tracing');
    if (domain !== 'kernel' && type !== 'tracepoint') throw usageError('Event type not supported for domain.');
    if (values.all && positionals.length > 0) throw usageError(`Unknown argument: ${positionals[0]}`);
    if (!values.all && positionals.length === 0) throw usageError('Missing event name(s).');
    if (positionals.length > 1) throw usageError(`Unknown argument: ${positionals[1]}`);
    if (location !== undefined && values.all) throw usageError('--all cannot be used with a probe');
    if (values.exclude !== undefined && domain !== 'ust') {
      throw usageError(`Event name exclusions are not yet implemented for ${domainLabel(domain)} events`);
    }
    if (values.filter !== undefined && (type === 'kprobe' || type === 'function' || type === 'uprobe')) {
      throw usageError('Filter expressions are only available for tracepoints and system calls');
    }
    let loglevel: EventRuleSpec['loglevel'];
    const levelText = (values.loglevel ?? values['loglevel-only']) as string | undefined;
    if (levelText !== undefined) {
      if (values.loglevel !== undefined && values['loglevel-only'] !== undefined) {
        throw usageError('--loglevel and --loglevel-only are mutually exclusive');
      }
      if (domain === 'kernel') ctx.warn('Kernel loglevels are not supported.');
      else {
        const level = parseLoglevel(levelText, domain);
        if (level === undefined) throw usageError(`Unknown loglevel ${levelText}`);
        loglevel = { type: values.loglevel !== undefined ? 'range' : 'single', level };
      }
    }
    const names = values.all ? ['*'] : splitNameList(positionals[0]!);
    if (location !== undefined && names.length !== 1) throw usageError('A probe takes exactly one record name');
    const exclusions = values.exclude !== undefined ? splitNameList(values.exclude as string) : undefined;

    const session = ctx.session(values.session as string | undefined);
    // LTTng parses and checks a filter in the client, the same way for every domain, before it asks the session
    // daemon anything: a bad filter fails each name with the reason, daemon or not, existing event or not.
    let badFilter: string | undefined;
    try {
      if (values.filter !== undefined) parseFilter(values.filter as string);
    } catch (error) {
      if (!(error instanceof LttError)) throw error;
      badFilter = error.message;
    }
    const client = badFilter === undefined ? await ctx.control() : undefined;
    const label = domainLabel(domain);
    // lttng names the kernel "Kernel" in the per-rule line (kept on purpose: "Kernel event sched_switch created in
    // channel channel0") and "ust" everywhere else, as 2.13 prints it.
    const ruleLabel = domain === 'kernel' ? 'Kernel' : label;
    const channelArg = values.channel as string | undefined;
    const shownChannel = channelArg ?? 'channel0';
    const filter = values.filter as string | undefined;
    const excluded = exclusions ? ` excluding ${exclusions.map((x) => `"${x}"`).join(', ')}` : '';
    // lttng's -a line names what the rule covers: without a type flag every instrumentation type ("events").
    const allWhat = typeFlags[0] === 'syscall' ? 'system calls' : typeFlags[0] === 'tracepoint' ? 'tracepoints' : 'events';
    const events: MiNode[] = [];
    let code = ExitCode.SUCCESS as ExitCode;
    for (const name of names) {
      const rule: EventRuleSpec = {
        name,
        type,
        ...(location !== undefined ? { location } : {}),
        ...(filter !== undefined ? { filter } : {}),
        ...(loglevel ? { loglevel } : {}),
        ...(exclusions ? { exclusions } : {}),
      };
      // The subject lttng puts before the reason in its error lines: "Event NAME" or, for -a, "Events"
      // ("All events" when a filter was given).
      const subject = values.all ? (filter !== undefined ? 'All events' : 'Events') : `Event ${name}${excluded}`;
      if (badFilter !== undefined) {
        const { filter: _, ...asked } = rule;
        events.push(withChild(eventNode({ ...asked, enabled: false }, domain), successNode(false)));
        ctx.error(`${subject}: ${badFilter} (channel ${shownChannel}, session ${session}, filter '${filter}')`, 'FILTER_INVAL');
        code = ExitCode.ERROR;
        continue;
      }
      try {
        const result = await client!.request('enable-event', {
          session,
          domain,
          ...(channelArg !== undefined ? { channel: channelArg } : {}),
          rule,
        });
        // lttng echoes the rule it asked for, without its filter.
        for (const { filter: _, ...r } of result.rules) events.push(withChild(eventNode(r, domain), successNode(true)));
        // With a filter lttng prints only the filter confirmation, not the "created"/"enabled" line.
        if (filter !== undefined) {
          ctx.out(values.all ? `Filter '${filter}' successfully set` : `Event ${name}${excluded}: Filter '${filter}' successfully set`);
        } else if (values.all) {
          const forLevel = levelText !== undefined && domain !== 'kernel' ? ` for loglevel ${levelText}` : '';
          ctx.out(`All ${label} ${allWhat}${excluded} are enabled in channel ${result.channel}${allWhat === 'system calls' ? '' : forLevel}`);
        } else if (domain === 'kernel' || domain === 'ust') {
          ctx.out(`${ruleLabel} event ${name}${excluded} created in channel ${result.channel}`);
        } else {
          // lttng does not name an agent domain's channel.
          ctx.out(`${label} event ${name} enabled`);
        }
      } catch (error) {
        if (!(error instanceof ControlError)) throw error;
        const { filter: _, ...asked } = rule;
        events.push(withChild(eventNode({ ...asked, enabled: false }, domain), successNode(false)));
        const channelText = error.code === 'NEED_CHANNEL_NAME' ? '<default>' : shownChannel;
        const where = `(channel ${channelText}, session ${session}${filter !== undefined ? `, filter '${filter}'` : ''})`;
        if (error.code === 'KERN_EVENT_EXIST') {
          // Only the kernel's duplicate is a warning in lttng; a duplicate user space rule is an error.
          ctx.miError ??= error.toWire();
          ctx.warn(
            filter !== undefined
              ? values.all
                ? `Filter on all events is already enabled (channel ${channelText}, session ${session})`
                : `Filter on event ${name} is already enabled (channel ${channelText}, session ${session})`
              : values.all
                ? `Kernel events already enabled (channel ${channelText}, session ${session})`
                : `Kernel event ${name} already enabled (channel ${channelText}, session ${session})`,
          );
          if (code === ExitCode.SUCCESS) code = ExitCode.WARNING;
        } else {
          const reason = error.code === 'UST_EVENT_EXIST' ? 'UST event already enabled' : error.message;
          ctx.error(`${subject}: ${reason} ${where}`, error.code);
          code = ExitCode.ERROR;
        }
      }
    }
    ctx.miOutput = array('events', events);
    return code;
  },
};
