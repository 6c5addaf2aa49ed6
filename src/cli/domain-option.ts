// The domain flags (-k/--kernel, -u/--userspace; LTTng's agent domains -j/-l/-p where event rules are enabled,
// disabled and listed, elsewhere recognised only to say ltt does not have them) and the domain's name in messages. Each command lists the flags its lttng 2.13 twin has,
// in lttng's order (`--list-options` shows them): track's -p is --pid, enable-channel has no agent flags.

import type { Domain, RuleDomain } from '../control/messages.js';
import type { OptionSpec, OptionValues } from './command-spec.js';
import { usageError } from './cli-error.js';

const DOMAIN_FLAGS = {
  kernel: { type: 'boolean', short: 'k' },
  userspace: { type: 'boolean', short: 'u' },
  jul: { type: 'boolean', short: 'j' },
  log4j: { type: 'boolean', short: 'l' },
  python: { type: 'boolean', short: 'p' },
} as const satisfies Record<string, OptionSpec>;

/** The named domain flags' option specs, in the order given. */
export function domainOptions(...names: (keyof typeof DOMAIN_FLAGS)[]): Record<string, OptionSpec> {
  return Object.fromEntries(names.map((name) => [name, DOMAIN_FLAGS[name]]));
}

export function domainFrom(values: OptionValues): Domain {
  if (values.jul || values.log4j || values.python) {
    throw usageError('The JUL, log4j and Python agent domains are not supported by ltt here (use --kernel or --userspace)');
  }
  return ruleDomainFrom(values, false) as Domain;
}

/** The domain of an event-rule command (enable-event, disable-event: the agent domains too). */
export function ruleDomainFrom(values: OptionValues, agents = true): RuleDomain {
  const given = (['kernel', 'userspace', 'jul', 'log4j', 'python'] as const).filter((name) => values[name]);
  if (given.length > 1) throw usageError('Only one domain can be specified');
  if (given[0] === undefined) throw usageError(`Please specify a domain (--kernel/--userspace${agents ? '/--jul/--log4j/--python' : ''}).`);
  return given[0] === 'userspace' ? 'ust' : given[0];
}

/**
 * lttng 2.13 names domains in lower case in its messages ("ust channel ch1 enabled for session s", "ust context
 * vpid added to all channels", "All ust events are enabled in channel ch1", "jul event ev1 created in channel
 * lttng_jul_channel"): lttng_domain_type_str().
 */
export function domainLabel(domain: RuleDomain): string {
  return domain;
}

/** Splits LTTng name lists: commas separate, `\,` is a literal comma. */
export function splitNameList(text: string): string[] {
  const names: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && text[i + 1] === ',') {
      current += ',';
      i++;
    } else if (c === ',') {
      names.push(current);
      current = '';
    } else current += c;
  }
  names.push(current);
  return names.filter((n) => n.length > 0);
}
