// The domain flags (-k/--kernel, -u/--userspace; LTTng's agent domains -j/-l/-p are recognised only to say ltt
// does not have them) and the domain's name in messages. Each command lists the flags its lttng 2.13 twin has,
// in lttng's order (`--list-options` shows them): track's -p is --pid, enable-channel has no agent flags.

import type { Domain } from '../control/messages.js';
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
    throw usageError('The JUL, log4j and Python agent domains are not supported by ltt (use --kernel or --userspace)');
  }
  if (values.kernel && values.userspace) throw usageError('Only one domain can be specified');
  if (values.kernel) return 'kernel';
  if (values.userspace) return 'ust';
  throw usageError('Please specify a domain (--kernel/--userspace).');
}

/**
 * "kernel" / "ust": lttng 2.13 names domains in lower case in its messages ("ust channel ch1 enabled for session
 * s", "ust context vpid added to all channels", "All ust events are enabled in channel ch1").
 */
export function domainLabel(domain: Domain): string {
  return domain === 'kernel' ? 'kernel' : 'ust';
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
