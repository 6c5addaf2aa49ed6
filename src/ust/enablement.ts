// Which events a session records: LTTng's recording event rules for the user space domain.
//
// Contract: a rule set is plain data (serialisable: the session daemon will send it over the app socket as is).
// eventMatches() is evaluated when an event is declared and whenever the rules change, never per emitted event:
// its result is stored in the event's `enabled` flag, which is all the hot path looks at.

import { LttError } from '../errors.js';
import { parseFilter } from '../filter/parse-filter.js';
import { starGlobMatches } from '../star-glob.js';

/** lttng-ust log levels, most severe first (same numbers as LTTng). */
export const LOG_LEVELS = {
  TRACE_EMERG: 0,
  TRACE_ALERT: 1,
  TRACE_CRIT: 2,
  TRACE_ERR: 3,
  TRACE_WARNING: 4,
  TRACE_NOTICE: 5,
  TRACE_INFO: 6,
  TRACE_DEBUG_SYSTEM: 7,
  TRACE_DEBUG_PROGRAM: 8,
  TRACE_DEBUG_PROCESS: 9,
  TRACE_DEBUG_MODULE: 10,
  TRACE_DEBUG_UNIT: 11,
  TRACE_DEBUG_FUNCTION: 12,
  TRACE_DEBUG_LINE: 13,
  TRACE_DEBUG: 14,
} as const;
export type LogLevelName = keyof typeof LOG_LEVELS;
/** Level of events declared without one (LTTng: TRACE_DEBUG_LINE). */
export const DEFAULT_LOG_LEVEL = LOG_LEVELS.TRACE_DEBUG_LINE;

export function logLevelValue(l: LogLevelName | number | undefined): number {
  if (l === undefined) return DEFAULT_LOG_LEVEL;
  if (typeof l === 'number' && Number.isInteger(l) && l >= 0 && l <= 14) return l;
  if (typeof l === 'string' && Object.prototype.hasOwnProperty.call(LOG_LEVELS, l)) return LOG_LEVELS[l];
  throw new TypeError(`ltt/ust: unknown log level ${JSON.stringify(l)} (expected TRACE_EMERG..TRACE_DEBUG or 0..14)`);
}

/** One `lttng enable-event -u` rule. */
export interface EventRule {
  /** Full event name glob (`provider:event`), `*` matches anything, `\*` is a literal star. */
  readonly pattern: string;
  /** `--exclude` globs. */
  readonly exclusions?: readonly string[];
  /** `--loglevel` (range: at least as severe as `level`) or `--loglevel-only` (single). */
  readonly logLevel?: { readonly type: 'range' | 'single'; readonly level: number };
  /** `--filter` expression (LTTng's filter language, src/filter), evaluated before the event is written. */
  readonly filter?: string;
}

export function checkRules(rules: readonly EventRule[]): void {
  for (const r of rules) {
    if (typeof r.pattern !== 'string' || r.pattern === '') throw new LttError('UST_BAD_RULE', 'ltt/ust: an event rule needs a name pattern');
    if (r.filter !== undefined) parseFilter(r.filter); // throws FILTER_SYNTAX with a one-line message
    if (r.logLevel && !(r.logLevel.level >= 0 && r.logLevel.level <= 14)) {
      throw new LttError('UST_BAD_RULE', `ltt/ust: event rule ${r.pattern}: log level must be 0..14`);
    }
  }
}

/** Whether an event (full name, log level) is recorded under a rule set: any rule matches (LTTng semantics). */
export function eventMatches(rules: readonly EventRule[], name: string, level: number): boolean {
  for (const r of rules) {
    if (!starGlobMatches(r.pattern, name)) continue;
    if (r.exclusions?.some((x) => starGlobMatches(x, name))) continue;
    if (r.logLevel) {
      if (r.logLevel.type === 'single' ? level !== r.logLevel.level : level > r.logLevel.level) continue;
    }
    return true;
  }
  return false;
}
