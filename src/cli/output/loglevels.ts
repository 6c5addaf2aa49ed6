// UST log levels (LTTng's TRACE_* names and values, reference §1.5): parsing `--loglevel` and printing
// "(loglevel: TRACE_INFO (6))" in listings. Kernel tracepoints are listed with TRACE_EMERG (0), as lttng does.

const UST_LOGLEVELS = [
  'EMERG', 'ALERT', 'CRIT', 'ERR', 'WARNING', 'NOTICE', 'INFO', 'DEBUG_SYSTEM', 'DEBUG_PROGRAM', 'DEBUG_PROCESS',
  'DEBUG_MODULE', 'DEBUG_UNIT', 'DEBUG_FUNCTION', 'DEBUG_LINE', 'DEBUG',
];

export function loglevelName(level: number): string {
  const name = UST_LOGLEVELS[level];
  return name ? `TRACE_${name}` : '<<UNKNOWN>>';
}

/** Accepts INFO, TRACE_INFO (any case) or a number 0..14; undefined if none of these. */
export function parseLoglevel(text: string): number | undefined {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n < UST_LOGLEVELS.length ? n : undefined;
  }
  const name = text.toUpperCase().replace(/^TRACE_/, '');
  const index = UST_LOGLEVELS.indexOf(name);
  return index >= 0 ? index : undefined;
}
