// lttng-analyses' text layout for the analyses' results: a time range line, then bar-chart or table sections,
// so that a user of lttng-cputop or lttng-syscallstats reads ltt's output at a glance.

import type { CpuTopResult } from './cputop.js';
import type { ThreadSyscalls } from './syscallstats.js';
import type { TimeRange } from './analysis-range.js';

const BAR = 80;

/** YYYY-MM-DD HH:MM:SS.nnnnnnnnn in local time, as lttng-analyses prints a range. */
export function formatTimestamp(ns: bigint): string {
  const d = new Date(Number(ns / 1_000_000n));
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const frac = String(((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n).padStart(9, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${frac}`;
}

export function rangeLine(range: TimeRange): string {
  return `Timerange: [${formatTimestamp(range.begin)}, ${formatTimestamp(range.end)}]`;
}

function bar(ratio: number, max: number): string {
  const n = max > 0 ? Math.round((ratio / max) * BAR) : 0;
  return '█'.repeat(Math.min(BAR, n)).padEnd(BAR);
}

export function cpuTopText(r: CpuTopResult): string {
  const lines = [rangeLine(r.range)];
  lines.push(`${'Per-TID Usage'.padEnd(BAR + 11)}${'Process'.padEnd(26)}Migrations   Priorities`, '#'.repeat(BAR));
  const max = Math.max(0, ...r.threads.map((t) => t.ratio));
  for (const t of r.threads) {
    const pct = `${(t.ratio * 100).toFixed(2)} %`.padStart(8);
    const proc = `${t.name} (${t.tid})`.padEnd(30);
    lines.push(`${bar(t.ratio, max)} ${pct}   ${proc} ${String(t.migrations).padStart(6)}   [${t.prios.join(', ')}]`);
  }
  lines.push('', 'Per-CPU Usage', '#'.repeat(BAR));
  for (const c of r.cpus) lines.push(`${bar(c.ratio, 1)} ${`${(c.ratio * 100).toFixed(2)} %`.padStart(8)} CPU ${c.cpu}`);
  lines.push('', '', `Total CPU Usage: ${(r.total * 100).toFixed(2)}%`);
  return lines.join('\n') + '\n';
}

function us(ns: number | null): string {
  return ns === null ? '?' : (ns / 1000).toFixed(3);
}

export function syscallStatsText(range: TimeRange, threads: readonly ThreadSyscalls[]): string {
  const lines = [rangeLine(range)];
  for (const t of threads) {
    lines.push(
      '',
      `Per-TID syscalls statistics (usec)`,
      `${t.name} (${t.pid ?? '?'}, tid = ${t.tid})${' '.repeat(Math.max(1, 28 - t.name.length))}Count      Min      Average          Max      Stdev  Return values`,
    );
    for (const c of t.calls) {
      lines.push(
        ` - ${c.name.padEnd(38)}${String(c.count).padStart(5)} ${us(c.minNs).padStart(12)} ${us(c.avgNs).padStart(12)} ${us(c.maxNs).padStart(12)} ${us(c.stdevNs).padStart(10)}  ${c.errors > 0 ? `errors: ${c.errors}` : ''}`.trimEnd(),
      );
    }
    lines.push(`${' '.repeat(41)}-----`, `${'Total:'.padStart(41)}${String(t.total).padStart(5)}`);
  }
  return lines.join('\n') + '\n';
}
