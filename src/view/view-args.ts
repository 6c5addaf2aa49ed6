// Command line of `ltt view`, which is babeltrace2's `convert` command: the same options, the same translation of
// `-n`/`-f` lists into sink parameters (name-default/field-default logic of babeltrace2-cfg-cli-args.c), and the
// trimmer's BEGIN/END formats.
//
// Contract: `parseViewArgs(argv)` returns a ViewConfig or throws ViewArgsError with a one-line message (the
// caller prints it and exits 1). No I/O.

import { defaultPrettyOptions, type PrettyOptions } from './pretty-options.js';
import { isLiveUrl } from '../relay/live-client.js';

export class ViewArgsError extends Error {
  override name = 'ViewArgsError';
}

/** A --begin/--end bound: absolute ns from origin, or a time of day resolved against the first message's date. */
export type TimeBound =
  | { readonly kind: 'ns'; readonly ns: bigint }
  | {
      readonly kind: 'date-time';
      readonly year: number;
      readonly month: number;
      readonly day: number;
      readonly hour: number;
      readonly minute: number;
      readonly second: number;
      readonly ns: number;
    }
  | { readonly kind: 'time-of-day'; readonly hour: number; readonly minute: number; readonly second: number; readonly ns: number };

export type SinkKind = 'pretty' | 'dummy' | 'counter' | 'ctf-metadata';

export interface ViewConfig {
  readonly paths: string[];
  readonly sink: SinkKind;
  readonly pretty: PrettyOptions;
  readonly begin?: TimeBound;
  readonly end?: TimeBound;
  /** --clock-gmt also makes the trimmer read BEGIN/END as UTC. */
  readonly gmt: boolean;
  readonly streamIntersection: boolean;
  readonly clockOffsetSeconds: bigint;
  readonly clockOffsetNs: bigint;
  readonly clockForceCorrelate: boolean;
  readonly help: boolean;
  /** -i lttng-live: the paths are LTTng live URLs (net://HOST[:PORT][/host/HOSTNAME/SESSION]). */
  readonly live: boolean;
  readonly verbose: boolean;
  /** sink.utils.counter `step` (default 10000) and `hide-zero` parameters. */
  readonly counterStep: number;
  readonly counterHideZero: boolean;
}

interface OptSpec {
  readonly long: string;
  readonly short?: string;
  readonly hasArg: boolean;
}

const OPTS: readonly OptSpec[] = [
  { long: 'begin', short: 'b', hasArg: true },
  { long: 'clock-cycles', hasArg: false },
  { long: 'clock-date', hasArg: false },
  { long: 'clock-force-correlate', hasArg: false },
  { long: 'clock-gmt', hasArg: false },
  { long: 'clock-offset', hasArg: true },
  { long: 'clock-offset-ns', hasArg: true },
  { long: 'clock-seconds', hasArg: false },
  { long: 'color', hasArg: true },
  { long: 'component', short: 'c', hasArg: true },
  { long: 'debug', short: 'd', hasArg: false },
  { long: 'debug-info', hasArg: false },
  { long: 'debug-info-dir', hasArg: true },
  { long: 'debug-info-full-path', hasArg: false },
  { long: 'debug-info-target-prefix', hasArg: true },
  { long: 'end', short: 'e', hasArg: true },
  { long: 'fields', short: 'f', hasArg: true },
  { long: 'help', short: 'h', hasArg: false },
  { long: 'input-format', short: 'i', hasArg: true },
  { long: 'log-level', short: 'l', hasArg: true },
  { long: 'names', short: 'n', hasArg: true },
  { long: 'no-delta', hasArg: false },
  { long: 'omit-home-plugin-path', hasArg: false },
  { long: 'omit-system-plugin-path', hasArg: false },
  { long: 'output', short: 'w', hasArg: true },
  { long: 'output-format', short: 'o', hasArg: true },
  { long: 'params', short: 'p', hasArg: true },
  { long: 'plugin-path', hasArg: true },
  { long: 'retry-duration', hasArg: true },
  { long: 'run-args', hasArg: false },
  { long: 'run-args-0', hasArg: false },
  { long: 'stream-intersection', hasArg: false },
  { long: 'timerange', hasArg: true },
  { long: 'verbose', short: 'v', hasArg: false },
];

/**
 * For a command line that passes viewer options through (src/cli/commands/view.ts): does option `arg` (as
 * typed, e.g. `-c`, `--begin`, `-vn`) take the next command-line argument as its value?
 */
export function viewOptionTakesValue(arg: string): boolean {
  if (arg.startsWith('--')) {
    if (arg.includes('=')) return false;
    return OPTS.find((o) => o.long === arg.slice(2))?.hasArg ?? false;
  }
  if (!arg.startsWith('-')) return false;
  for (let j = 1; j < arg.length; j++) {
    const opt = OPTS.find((o) => o.short === arg[j]);
    if (!opt) return false;
    if (opt.hasArg) return j === arg.length - 1;
  }
  return false;
}

interface Item {
  readonly opt?: OptSpec;
  readonly arg: string;
}

/** argpar-like tokenizer: `--long=ARG`, `--long ARG`, `-xARG`, `-x ARG`, grouped short flags `-vd`. */
function tokenize(argv: readonly string[]): Item[] {
  const items: Item[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const opt = OPTS.find((o) => o.long === name);
      if (!opt) throw new ViewArgsError(`Unknown option \`--${name}\``);
      if (!opt.hasArg) {
        if (eq >= 0) throw new ViewArgsError(`Option \`--${name}\` does not take an argument`);
        items.push({ opt, arg: '' });
      } else if (eq >= 0) items.push({ opt, arg: a.slice(eq + 1) });
      else {
        if (i + 1 >= argv.length) throw new ViewArgsError(`Missing required argument for option \`--${name}\``);
        items.push({ opt, arg: argv[++i]! });
      }
    } else if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const ch = a[j]!;
        const opt = OPTS.find((o) => o.short === ch);
        if (!opt) throw new ViewArgsError(`Unknown option \`-${ch}\``);
        if (!opt.hasArg) {
          items.push({ opt, arg: '' });
          continue;
        }
        if (j + 1 < a.length) items.push({ opt, arg: a.slice(j + 1) });
        else {
          if (i + 1 >= argv.length) throw new ViewArgsError(`Missing required argument for option \`-${ch}\``);
          items.push({ opt, arg: argv[++i]! });
        }
        break;
      }
    } else {
      items.push({ arg: a });
    }
  }
  return items;
}

/** Comma-separated identifiers (GScanner CSV identifiers: letters, digits, `_`, `:`, `-`). */
function csvIdentifiers(arg: string, what: string): string[] {
  const out: string[] = [];
  for (const raw of arg.split(',')) {
    const id = raw.trim();
    if (id === '') continue;
    if (!/^[A-Za-z_][A-Za-z0-9_:-]*$/.test(id)) throw new ViewArgsError(`Invalid ${what} list: \`${arg}\``);
    out.push(id);
  }
  return out;
}

type Flag = keyof PrettyOptions;

/** -n LIST: the same defaults-then-overrides logic as the CLI + apply_params(). */
function applyNames(p: PrettyOptions, arg: string, overrides: Map<Flag, boolean>, defaults: { value?: 'show' | 'hide' }): void {
  let foundAll = false;
  let foundNone = false;
  let foundItem = false;
  for (const id of csvIdentifiers(arg, 'names')) {
    if (id === 'payload' || id === 'args' || id === 'arg') {
      foundItem = true;
      overrides.set('namePayload', true);
    } else if (id === 'context' || id === 'ctx') {
      foundItem = true;
      overrides.set('nameContext', true);
    } else if (id === 'scope') {
      foundItem = true;
      overrides.set('nameScope', true);
    } else if (id === 'header') {
      foundItem = true;
      overrides.set('nameHeader', true);
    } else if (id === 'all') {
      foundAll = true;
      defaults.value = 'show';
    } else if (id === 'none') {
      foundNone = true;
      defaults.value = 'hide';
    } else throw new ViewArgsError(`Unknown name: \`${id}\``);
  }
  if (foundAll && foundNone) {
    throw new ViewArgsError('Only either `all` or `none` can be specified in the list given to the --names option, but not both');
  }
  // Legacy behaviour: listing items hides the defaults.
  if (foundItem && !foundAll && !foundNone) defaults.value = 'hide';
  void p;
}

const FIELD_FLAGS: Record<string, Flag> = {
  trace: 'fieldTrace',
  'trace:hostname': 'fieldHostname',
  'trace:domain': 'fieldDomain',
  'trace:procname': 'fieldProcname',
  'trace:vpid': 'fieldVpid',
  loglevel: 'fieldLoglevel',
  emf: 'fieldEmf',
  callsite: 'fieldCallsite',
};

function applyFields(arg: string, overrides: Map<Flag, boolean>, defaults: { value?: 'show' | 'hide' }): void {
  let defaultSet = false;
  let nonDefault = false;
  for (const id of csvIdentifiers(arg, 'fields')) {
    if (id === 'all') {
      defaultSet = true;
      defaults.value = 'show';
    } else if (FIELD_FLAGS[id]) {
      nonDefault = true;
      overrides.set(FIELD_FLAGS[id]!, true);
    } else throw new ViewArgsError(`Unknown field: \`${id}\``);
  }
  if (nonDefault && !defaultSet) defaults.value = 'hide';
}

function parseInt64(arg: string, what: string): bigint {
  if (!/^[+-]?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.test(arg)) {
    throw new ViewArgsError(`Invalid ${what} value: \`${arg}\``);
  }
  const neg = arg.startsWith('-');
  const body = arg.replace(/^[+-]/, '');
  const v = /^0[xX]/.test(body) ? BigInt(body) : body.length > 1 && body.startsWith('0') ? BigInt('0o' + body.slice(1)) : BigInt(body);
  const r = neg ? -v : v;
  if (r < -(1n << 63n) || r >= 1n << 63n) throw new ViewArgsError(`Invalid ${what} value (out of range): \`${arg}\``);
  return r;
}

/** Digits after the dot, right-padded to 9 (".5" is 500000000 ns). */
function nsFromFraction(frac: string | undefined): number {
  return frac ? Number(frac.padEnd(9, '0')) : 0;
}

/** The trimmer's BEGIN/END formats (flt.utils.trimmer set_bound_from_str()). */
export function parseTimeBound(str: string): TimeBound | undefined {
  const TIME = '([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\\.([0-9]{1,9}))?)?';
  let m = new RegExp('^([0-9]{4})-([0-9]{2})-([0-9]{2}) ' + TIME + '$').exec(str);
  if (m) {
    return {
      kind: 'date-time',
      year: Number(m[1]),
      month: Number(m[2]),
      day: Number(m[3]),
      hour: Number(m[4]),
      minute: Number(m[5]),
      second: m[6] ? Number(m[6]) : 0,
      ns: nsFromFraction(m[7]),
    };
  }
  m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(str);
  if (m) {
    return { kind: 'date-time', year: Number(m[1]), month: Number(m[2]), day: Number(m[3]), hour: 0, minute: 0, second: 0, ns: 0 };
  }
  m = new RegExp('^' + TIME + '$').exec(str);
  if (m) {
    return { kind: 'time-of-day', hour: Number(m[1]), minute: Number(m[2]), second: m[3] ? Number(m[3]) : 0, ns: nsFromFraction(m[4]) };
  }
  m = /^(-?)([0-9]+)(?:\.([0-9]{1,9}))?$/.exec(str);
  if (m) {
    const ns = BigInt(m[2]!) * 1_000_000_000n + BigInt(nsFromFraction(m[3]));
    return { kind: 'ns', ns: m[1] ? -ns : ns };
  }
  return undefined;
}

/** --timerange=BEGIN,END or [BEGIN,END]. */
function splitTimerange(arg: string): [string, string] | undefined {
  let s = arg.startsWith('[') ? arg.slice(1) : arg;
  const comma = s.indexOf(',');
  if (comma <= 0) return undefined;
  const begin = s.slice(0, comma);
  s = s.slice(comma + 1);
  const close = s.indexOf(']');
  const end = close >= 0 ? s.slice(0, close) : s;
  if (end === '') return undefined;
  return [begin, end];
}

function bound(str: string, what: string): TimeBound {
  const b = parseTimeBound(str);
  if (!b) throw new ViewArgsError(`Invalid date/time format for ${what}: "${str}"`);
  return b;
}

/** babeltrace "yes"/"no"/true/false parameter values of -p for sink.text.pretty. */
function applyPrettyParams(p: PrettyOptions, arg: string, nameDef: { value?: 'show' | 'hide' }, fieldDef: { value?: 'show' | 'hide' }, nameOv: Map<Flag, boolean>, fieldOv: Map<Flag, boolean>): void {
  const boolKeys: Record<string, Flag> = {
    'no-delta': 'noDelta',
    'clock-cycles': 'clockCycles',
    'clock-seconds': 'clockSeconds',
    'clock-date': 'clockDate',
    'clock-gmt': 'clockGmt',
    verbose: 'verbose',
  };
  for (const part of arg.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ViewArgsError(`Invalid parameters: \`${arg}\``);
    const key = part.slice(0, eq).trim();
    let val = part.slice(eq + 1).trim();
    if (val.startsWith('"') && val.endsWith('"') && val.length >= 2) val = val.slice(1, -1);
    const asBool = (): boolean => {
      const v = val.toLowerCase();
      if (v === 'yes' || v === 'true') return true;
      if (v === 'no' || v === 'false') return false;
      throw new ViewArgsError(`Parameter \`${key}\` expects a boolean: \`${val}\``);
    };
    if (boolKeys[key]) (p as unknown as Record<string, unknown>)[boolKeys[key]!] = asBool();
    else if (key === 'color') {
      if (val !== 'never' && val !== 'auto' && val !== 'always') throw new ViewArgsError(`Invalid \`color\` parameter: \`${val}\``);
      p.color = val;
    } else if (key === 'path') p.outputPath = val;
    else if (key === 'name-default' || key === 'field-default') {
      if (val !== 'show' && val !== 'hide') throw new ViewArgsError(`Invalid \`${key}\` parameter: \`${val}\``);
      (key === 'name-default' ? nameDef : fieldDef).value = val;
    } else if (key.startsWith('name-')) {
      const f = ({ payload: 'namePayload', context: 'nameContext', header: 'nameHeader', scope: 'nameScope' } as Record<string, Flag>)[key.slice(5)];
      if (!f) throw new ViewArgsError(`Unknown parameter \`${key}\` for sink.text.pretty`);
      nameOv.set(f, asBool());
    } else if (key.startsWith('field-')) {
      const f = FIELD_FLAGS[key.slice(6)];
      if (!f) throw new ViewArgsError(`Unknown parameter \`${key}\` for sink.text.pretty`);
      fieldOv.set(f, asBool());
    } else throw new ViewArgsError(`Unknown parameter \`${key}\` for sink.text.pretty`);
  }
}

export function parseViewArgs(argv: readonly string[]): ViewConfig {
  const items = tokenize(argv);
  const pretty = defaultPrettyOptions();
  const paths: string[] = [];
  const nameDef: { value?: 'show' | 'hide' } = {};
  const fieldDef: { value?: 'show' | 'hide' } = {};
  const nameOv = new Map<Flag, boolean>();
  const fieldOv = new Map<Flag, boolean>();
  let sink: SinkKind | undefined;
  let explicitSink: SinkKind | undefined;
  let implicitText = false;
  let begin: TimeBound | undefined;
  let end: TimeBound | undefined;
  let gmt = false;
  let streamIntersection = false;
  let clockOffsetSeconds: bigint | undefined;
  let clockOffsetNs: bigint | undefined;
  let clockForceCorrelate = false;
  let help = false;
  let verbose = false;
  let output: string | undefined;
  let lastComponent: SinkKind | 'source' | undefined;
  let gotOutputFormat = false;
  let gotInputFormat = false;
  let live = false;
  let counterStep = 10000;
  let counterHideZero = false;

  for (const it of items) {
    if (!it.opt) {
      paths.push(it.arg);
      continue;
    }
    const arg = it.arg;
    switch (it.opt.long) {
      case 'help':
        help = true;
        break;
      case 'begin':
        if (begin) throw new ViewArgsError(`At --begin option: --begin or --timerange option already specified: ${arg}`);
        begin = bound(arg, '--begin');
        break;
      case 'end':
        if (end) throw new ViewArgsError(`At --end option: --end or --timerange option already specified: ${arg}`);
        end = bound(arg, '--end');
        break;
      case 'timerange': {
        if (begin || end) throw new ViewArgsError(`At --timerange option: --begin, --end, or --timerange option already specified: ${arg}`);
        const r = splitTimerange(arg);
        if (!r) throw new ViewArgsError(`Invalid --timerange option's argument: expecting BEGIN,END or [BEGIN,END]: ${arg}`);
        begin = bound(r[0], '--timerange');
        end = bound(r[1], '--timerange');
        break;
      }
      case 'clock-cycles':
        pretty.clockCycles = true;
        implicitText = true;
        break;
      case 'clock-date':
        pretty.clockDate = true;
        implicitText = true;
        break;
      case 'clock-seconds':
        pretty.clockSeconds = true;
        implicitText = true;
        break;
      case 'clock-gmt':
        pretty.clockGmt = true;
        gmt = true;
        implicitText = true;
        break;
      case 'no-delta':
        pretty.noDelta = true;
        implicitText = true;
        break;
      case 'clock-force-correlate':
        clockForceCorrelate = true;
        break;
      case 'clock-offset':
        if (clockOffsetSeconds !== undefined) throw new ViewArgsError('Duplicate --clock-offset option');
        clockOffsetSeconds = parseInt64(arg, '--clock-offset');
        break;
      case 'clock-offset-ns':
        if (clockOffsetNs !== undefined) throw new ViewArgsError('Duplicate --clock-offset-ns option');
        clockOffsetNs = parseInt64(arg, '--clock-offset-ns');
        break;
      case 'color':
        if (arg !== 'never' && arg !== 'auto' && arg !== 'always') {
          throw new ViewArgsError(`Invalid \`color\` parameter: expecting \`never\`, \`auto\`, or \`always\`: \`${arg}\``);
        }
        pretty.color = arg;
        implicitText = true;
        break;
      case 'names':
        applyNames(pretty, arg, nameOv, nameDef);
        implicitText = true;
        break;
      case 'fields':
        applyFields(arg, fieldOv, fieldDef);
        implicitText = true;
        break;
      case 'output':
        if (output !== undefined) throw new ViewArgsError('Duplicate --output option');
        output = arg;
        break;
      case 'output-format':
        if (gotOutputFormat) throw new ViewArgsError('Duplicate --output-format option');
        gotOutputFormat = true;
        if (arg === 'text') implicitText = true;
        else if (arg === 'dummy') sink = 'dummy';
        else if (arg === 'ctf-metadata') sink = 'ctf-metadata';
        else if (arg === 'ctf') throw new ViewArgsError('--output-format=ctf (sink.ctf.fs) is not supported by ltt view');
        else throw new ViewArgsError(`Unknown legacy output format: ${arg}`);
        break;
      case 'input-format':
        if (gotInputFormat) throw new ViewArgsError('Duplicate --input-format option');
        gotInputFormat = true;
        if (arg === 'lttng-live') live = true;
        else if (arg !== 'ctf') throw new ViewArgsError(`Unknown legacy input format: ${arg}`);
        break;
      case 'component': {
        // [NAME:]TYPE.PLUGIN.CLASS
        const spec = arg.includes(':') ? arg.slice(arg.indexOf(':') + 1) : arg;
        const known: Record<string, SinkKind | 'source'> = {
          'sink.text.pretty': 'pretty',
          'sink.utils.dummy': 'dummy',
          'sink.utils.counter': 'counter',
          'source.ctf.fs': 'source',
          'src.ctf.fs': 'source',
        };
        const k = known[spec];
        if (!k) throw new ViewArgsError(`Unsupported component class: \`${spec}\` (ltt view knows sink.text.pretty, sink.utils.dummy, sink.utils.counter)`);
        if (k !== 'source') {
          if (explicitSink && explicitSink !== k) throw new ViewArgsError('ltt view supports a single sink component');
          explicitSink = k;
        }
        lastComponent = k;
        break;
      }
      case 'params':
        if (lastComponent === undefined) throw new ViewArgsError('No current component (--component option) to assign parameters to');
        if (lastComponent === 'pretty') applyPrettyParams(pretty, arg, nameDef, fieldDef, nameOv, fieldOv);
        else if (lastComponent === 'source') {
          const m = /^inputs=\[?"?([^"\]]*)"?\]?$/.exec(arg);
          if (!m) throw new ViewArgsError(`Unsupported source.ctf.fs parameters: \`${arg}\``);
          paths.push(m[1]!);
        }
        else if (lastComponent === 'counter') {
          for (const part of arg.split(',')) {
            const [key, val = ''] = part.split('=').map((x) => x.trim());
            if (key === 'step' && /^[0-9]+$/.test(val)) counterStep = Number(val);
            else if (key === 'hide-zero' && /^(yes|no|true|false)$/i.test(val)) counterHideZero = /^(yes|true)$/i.test(val);
            else throw new ViewArgsError(`Unsupported sink.utils.counter parameter: \`${part}\``);
          }
        }
        // sink.utils.dummy has no parameters that change anything visible.
        break;
      case 'verbose':
        verbose = true;
        break;
      case 'debug':
      case 'log-level':
      case 'omit-home-plugin-path':
      case 'omit-system-plugin-path':
      case 'plugin-path':
      case 'retry-duration':
        // Logging and plugin search settings: no effect on ltt view's output.
        break;
      case 'stream-intersection':
        streamIntersection = true;
        break;
      case 'debug-info':
      case 'debug-info-dir':
      case 'debug-info-full-path':
      case 'debug-info-target-prefix':
        throw new ViewArgsError(`--${it.opt.long} (filter.lttng-utils.debug-info) is not supported by ltt view`);
      case 'run-args':
      case 'run-args-0':
        throw new ViewArgsError(`--${it.opt.long} is not supported by ltt view`);
    }
  }

  // Names/fields: the default set first, then the explicit items (pretty.c apply_params()).
  if (nameDef.value) {
    const v = nameDef.value === 'show';
    pretty.namePayload = v;
    pretty.nameContext = v;
    pretty.nameHeader = v;
    pretty.nameScope = v;
  }
  for (const [k, v] of nameOv) (pretty as unknown as Record<string, unknown>)[k] = v;
  if (fieldDef.value) {
    const v = fieldDef.value === 'show';
    for (const f of Object.values(FIELD_FLAGS)) (pretty as unknown as Record<string, unknown>)[f] = v;
  }
  for (const [k, v] of fieldOv) (pretty as unknown as Record<string, unknown>)[k] = v;
  pretty.verbose = pretty.verbose || verbose;

  let finalSink: SinkKind;
  if (sink === 'ctf-metadata') finalSink = 'ctf-metadata';
  else if (explicitSink) finalSink = explicitSink;
  else if (sink === 'dummy' && !implicitText) finalSink = 'dummy';
  else finalSink = 'pretty';
  if (output !== undefined) pretty.outputPath = output;

  if (!help) {
    if (finalSink === 'ctf-metadata') {
      if (paths.length === 0) throw new ViewArgsError('--output-format=ctf-metadata specified without a path');
      if (paths.length > 1) throw new ViewArgsError('Too many paths specified for --output-format=ctf-metadata');
    } else if (paths.length === 0) {
      throw new ViewArgsError('No trace path given (usage: ltt view [OPTIONS] TRACE-PATH...)');
    }
  }

  // babeltrace2 gives net:// paths to src.ctf.lttng-live (no -i needed).
  if (paths.length === 1 && isLiveUrl(paths[0]!)) live = true;
  if (live && !help) {
    // The options of source.ctf.fs: babeltrace2's words when there is none.
    if (clockOffsetSeconds !== undefined) throw new ViewArgsError('--clock-offset specified, but no source.ctf.fs component instantiated.');
    if (clockOffsetNs !== undefined) throw new ViewArgsError('--clock-offset-ns specified, but no source.ctf.fs component instantiated.');
    if (clockForceCorrelate) throw new ViewArgsError('--clock-force-correlate specified, but no source.ctf.fs component instantiated.');
    if (streamIntersection) throw new ViewArgsError('Cannot determine stream intersection of trace (-i lttng-live).');
    if (begin || end) throw new ViewArgsError('--begin, --end and --timerange are not supported by ltt view with -i lttng-live');
    if (finalSink === 'ctf-metadata') throw new ViewArgsError(`Cannot open trace metadata: path="${paths[0]}".`);
  }

  return {
    paths,
    sink: finalSink,
    pretty,
    ...(begin ? { begin } : {}),
    ...(end ? { end } : {}),
    gmt,
    streamIntersection,
    clockOffsetSeconds: clockOffsetSeconds ?? 0n,
    clockOffsetNs: clockOffsetNs ?? 0n,
    clockForceCorrelate,
    help,
    live,
    verbose,
    counterStep,
    counterHideZero,
  };
}

export const VIEW_HELP = `Usage: ltt view [OPTIONS] TRACE-PATH...

Print the events of CTF traces exactly as \`babeltrace2 TRACE-PATH...\` (2.0.4) does.

Timestamps and fields (sink.text.pretty):
      --clock-cycles            timestamps in clock cycles
      --clock-date              print dates too
      --clock-gmt               UTC instead of the local time zone (printing and --begin/--end)
      --clock-seconds           timestamps as SEC.NS
      --color=never|auto|always terminal colours
  -f, --fields=FIELD,...        all, trace, trace:hostname, trace:domain, trace:procname,
                                trace:vpid, loglevel, emf, callsite
  -n, --names=NAME,...          payload (arg, args), context (ctx), scope, header, all, none
      --no-delta                no (+delta) column
  -w, --output=PATH             write the text to PATH
Reading (source.ctf.fs):
      --clock-offset=SEC        shift every clock by SEC seconds
      --clock-offset-ns=NS      shift every clock by NS ns
      --clock-force-correlate   treat every clock's origin as the Unix epoch
  -i, --input-format=lttng-live TRACE-PATH is net://HOST[:PORT]: list the relay's live sessions;
                                net://HOST[:PORT]/host/HOSTNAME/SESSION (also without -i): follow
                                that live session until it is destroyed
Trimming (filter.utils.trimmer):
  -b, --begin=BEGIN             first time to keep
  -e, --end=END                 last time to keep
      --timerange=BEGIN,END     both ([BEGIN,END] also accepted)
      --stream-intersection     only the time range where all streams of a trace are active
  BEGIN/END: [YYYY-MM-DD [hh:mm:]]ss[.nnnnnnnnn], hh:mm[:ss[.nnnnnnnnn]] or [-]SEC[.NS]
Sinks:
  -o, --output-format=text|dummy|ctf-metadata
  -c, --component=sink.text.pretty|sink.utils.dummy|sink.utils.counter
  -p, --params=PARAMS           parameters of the last --component
  -h, --help                    this help
`;
