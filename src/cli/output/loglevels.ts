// UST log levels (LTTng's TRACE_* names and values, reference §1.5): parsing `--loglevel` and printing
// "(loglevel: TRACE_INFO (6))" in listings. Kernel tracepoints are listed with TRACE_EMERG (0), as lttng does.
// The agent domains' levels are their loggers' (lttng/event.h: enum lttng_loglevel_jul, _log4j, _python), named
// in MI as mi-lttng-4.1.xsd's JUL_SEVERE, LOG4J_FATAL, PYTHON_CRITICAL.

import { isAgentDomain, type AgentDomain, type RuleDomain } from '../../control/messages.js';

const UST_LOGLEVELS = [
  'EMERG', 'ALERT', 'CRIT', 'ERR', 'WARNING', 'NOTICE', 'INFO', 'DEBUG_SYSTEM', 'DEBUG_PROGRAM', 'DEBUG_PROCESS',
  'DEBUG_MODULE', 'DEBUG_UNIT', 'DEBUG_FUNCTION', 'DEBUG_LINE', 'DEBUG',
];

const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);
const AGENT_LOGLEVELS: Record<AgentDomain, { prefix: string; levels: Record<string, number> }> = {
  jul: {
    prefix: 'JUL',
    levels: { OFF: INT32_MAX, SEVERE: 1000, WARNING: 900, INFO: 800, CONFIG: 700, FINE: 500, FINER: 400, FINEST: 300, ALL: INT32_MIN },
  },
  log4j: {
    prefix: 'LOG4J',
    levels: { OFF: INT32_MAX, FATAL: 50000, ERROR: 40000, WARN: 30000, INFO: 20000, DEBUG: 10000, TRACE: 5000, ALL: INT32_MIN },
  },
  python: { prefix: 'PYTHON', levels: { CRITICAL: 50, ERROR: 40, WARNING: 30, INFO: 20, DEBUG: 10, NOTSET: 0 } },
};

export function loglevelName(level: number, domain: RuleDomain = 'ust'): string {
  if (isAgentDomain(domain)) {
    const { prefix, levels } = AGENT_LOGLEVELS[domain];
    const name = Object.keys(levels).find((key) => levels[key] === level);
    return name ? `${prefix}_${name}` : '<<UNKNOWN>>';
  }
  const name = UST_LOGLEVELS[level];
  return name ? `TRACE_${name}` : '<<UNKNOWN>>';
}

/**
 * User space: INFO, TRACE_INFO (any case) or a number 0..14; agent domains: their level names, with or without
 * the domain's prefix (SEVERE, JUL_SEVERE). Undefined if none of these.
 */
export function parseLoglevel(text: string, domain: RuleDomain = 'ust'): number | undefined {
  if (isAgentDomain(domain)) {
    const { prefix, levels } = AGENT_LOGLEVELS[domain];
    const name = text.toUpperCase().replace(new RegExp(`^${prefix}_`), '');
    return Object.hasOwn(levels, name) ? levels[name] : undefined;
  }
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n < UST_LOGLEVELS.length ? n : undefined;
  }
  const name = text.toUpperCase().replace(/^TRACE_/, '');
  const index = UST_LOGLEVELS.indexOf(name);
  return index >= 0 ? index : undefined;
}
