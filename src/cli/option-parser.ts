// Command-line parsing with popt's conventions (what lttng users type): --name=value, --name value, -x value,
// -xvalue, -x=value, bundled short booleans (-ku), `--` ends options. An option with an optional value
// (`--live`, `--pid`, popt's POPT_ARGFLAG_OPTIONAL) takes an attached value, else the next argument unless that
// one starts with '-' (`track --vpid 666`, but `track --vpid -u`). Unknown options are a UsageError naming the
// option, never a crash.

import type { OptionSpec, OptionValues, ParsedCommandLine } from './command-spec.js';

export class OptionError extends Error {}

export function parseCommandLine(
  argv: string[],
  options: Record<string, OptionSpec>,
  passThroughUnknown = false,
  unknownTakesValue?: (arg: string) => boolean,
): ParsedCommandLine {
  const values: OptionValues = {};
  const positionals: string[] = [];
  const unknown: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(options)) if (spec.short) byShort.set(spec.short, name);

  const order: string[] = [];
  /** The value of an option given without one attached: the next argument, optional ones as popt takes them. */
  const detachedValue = (flag: string, spec: OptionSpec, i: number): { value: string; next: number } => {
    const next = argv[i + 1];
    if (spec.defaultValue !== undefined && (next === undefined || next.startsWith('-'))) return { value: spec.defaultValue, next: i };
    if (next === undefined) throw new OptionError(`${flag} (missing value)`);
    return { value: next, next: i + 1 };
  };
  const store = (name: string, spec: OptionSpec, value: string | boolean) => {
    order.push(name);
    if (spec.multiple) {
      const list = (values[name] as string[] | undefined) ?? [];
      list.push(String(value));
      values[name] = list;
    } else values[name] = value;
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
      const spec = options[name];
      if (!spec) {
        if (passThroughUnknown) {
          unknown.push(arg);
          // A passed-through option's separate value stays with it (`ltt view --begin 17:48 TRACE`).
          if (unknownTakesValue?.(arg) && i + 1 < argv.length) unknown.push(argv[++i]!);
          continue;
        }
        throw new OptionError(arg);
      }
      if (spec.type === 'boolean') {
        if (eq > 0) throw new OptionError(arg);
        store(name, spec, true);
      } else if (eq > 0) store(name, spec, arg.slice(eq + 1));
      else {
        const { value, next } = detachedValue(arg, spec, i);
        store(name, spec, value);
        i = next;
      }
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const short = arg[j]!;
        const name = byShort.get(short);
        if (!name) {
          if (passThroughUnknown) {
            unknown.push(arg);
            if (unknownTakesValue?.(arg) && i + 1 < argv.length) unknown.push(argv[++i]!);
            break;
          }
          throw new OptionError(`-${short}`);
        }
        const spec = options[name]!;
        if (spec.type === 'boolean') {
          store(name, spec, true);
          continue;
        }
        const rest = arg.slice(j + 1);
        if (rest.length > 0) store(name, spec, rest.startsWith('=') ? rest.slice(1) : rest);
        else {
          const { value, next } = detachedValue(`-${short}`, spec, i);
          store(name, spec, value);
          i = next;
        }
        break;
      }
      continue;
    }
    positionals.push(arg);
  }
  return { values, positionals, unknown, order };
}

/**
 * `--list-options` output, popt style: each long name then its short form, in table order after --help (as
 * lttng's tables start), --list-options last unless the table places it.
 */
export function listOptions(options: Record<string, OptionSpec>): string {
  const lines = ['--help', '-h'];
  for (const [name, spec] of Object.entries(options)) {
    lines.push(`--${name}`);
    if (spec.short) lines.push(`-${spec.short}`);
  }
  if (!('list-options' in options)) lines.push('--list-options');
  return lines.join('\n') + '\n';
}
