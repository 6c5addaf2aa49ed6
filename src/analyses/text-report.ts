// lttng-analyses' text layout for the analyses' results: a time range line, then bar-chart or table sections,
// so that a user of lttng-cputop or lttng-syscallstats reads ltt's output at a glance.

import type { CpuTopResult } from './cputop.js';
import type { ThreadSyscalls } from './syscallstats.js';
import type { TimeRange } from './analysis-range.js';
import type { IrqStats } from './irqstats.js';
import type { DurationStats } from './latency-stats.js';
import type { ThreadSchedStats, Wakeup } from './schedstats.js';
import type { FileUsage, IoLatency, IoUsage } from './iolatency.js';
import type { MemUsage } from './memtop.js';
import type { ThreadRow } from './threads.js';

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

function statsCells(s: DurationStats): string {
  return `${String(s.count).padStart(8)} ${us(s.minNs).padStart(12)} ${us(s.avgNs).padStart(12)} ${us(s.maxNs).padStart(12)} ${us(s.stdevNs).padStart(12)}`;
}

export function schedStatsText(range: TimeRange, rows: readonly ThreadSchedStats[]): string {
  const lines = [rangeLine(range), 'Scheduling latency (usec) by TID', `${'Process'.padEnd(32)}${'Count'.padStart(8)} ${'Min'.padStart(12)} ${'Avg'.padStart(12)} ${'Max'.padStart(12)} ${'Stdev'.padStart(12)}  Priorities`];
  for (const r of rows) lines.push(`${`${r.name} (${r.tid})`.padEnd(32)}${statsCells(r)}  [${r.prios.join(', ')}]`);
  return lines.join('\n') + '\n';
}

export function schedLatText(range: TimeRange, rows: readonly Wakeup[], top: boolean): string {
  const lines = [rangeLine(range), top ? 'Scheduling top' : 'Scheduling log'];
  lines.push(`${'Wakeup'.padEnd(31)} ${'Switch'.padEnd(31)} ${'Latency (us)'.padStart(14)} ${'Priority'.padStart(8)} ${'CPU'.padStart(4)}  ${'Wakee'.padEnd(28)} Waker`);
  for (const w of rows) {
    const waker = w.wakerTid === null ? 'Unknown (N/A)' : `${w.wakerName ?? '?'} (${w.wakerTid})`;
    lines.push(
      `[${formatTimestamp(w.wakeupTs).slice(11)}] ${' '.repeat(9)}[${formatTimestamp(w.switchTs).slice(11)}] ${' '.repeat(9)}${us(w.latencyNs).padStart(14)} ${String(w.prio ?? '?').padStart(8)} ${String(w.cpu).padStart(4)}  ${`${w.name} (${w.tid})`.padEnd(28)} ${waker}`,
    );
  }
  return lines.join('\n') + '\n';
}

export function irqStatsText(range: TimeRange, r: { hard: IrqStats[]; soft: IrqStats[] }): string {
  const head = `${'IRQ'.padEnd(32)}${'Count'.padStart(8)} ${'Min'.padStart(12)} ${'Avg'.padStart(12)} ${'Max'.padStart(12)} ${'Stdev'.padStart(12)}`;
  const lines = [rangeLine(range), 'Hard IRQ (duration, usec)', head];
  for (const i of r.hard) lines.push(`${`${i.irq} <${i.name}>`.padEnd(32)}${statsCells(i)}`);
  lines.push('', 'Soft IRQ (duration, usec)', head);
  for (const i of r.soft) lines.push(`${`${i.irq} <${i.name}>`.padEnd(32)}${statsCells(i)}`);
  return lines.join('\n') + '\n';
}

export function ioLatencyText(range: TimeRange, rows: readonly IoLatency[]): string {
  const lines = [rangeLine(range), '', 'Syscalls latency statistics (usec):', `${'Type'.padEnd(32)}${'Count'.padStart(8)} ${'Min'.padStart(12)} ${'Avg'.padStart(12)} ${'Max'.padStart(12)} ${'Stdev'.padStart(12)}`];
  for (const r of rows) lines.push(`${r.kind[0]!.toUpperCase()}${r.kind.slice(1).padEnd(31)}${statsCells(r)}`);
  return lines.join('\n') + '\n';
}

/** Bytes as lttng-analyses prints sizes (binary units, two decimals). */
function size(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) (v /= 1024), u++;
  return `${v.toFixed(2)} ${units[u]}`;
}

export function ioUsageText(range: TimeRange, r: { threads: IoUsage[]; files: FileUsage[] }): string {
  const lines = [rangeLine(range)];
  for (const [title, key] of [['Per-process I/O Read', 'readBytes'], ['Per-process I/O Write', 'writtenBytes']] as const) {
    const rows = [...r.threads].filter((t) => t[key] > 0).sort((a, b) => b[key] - a[key]);
    const max = Math.max(0, ...rows.map((t) => t[key]));
    lines.push('', title, '#'.repeat(BAR));
    for (const t of rows) lines.push(`${bar(t[key], max)} ${size(t[key]).padStart(12)}  ${t.name} (${t.pid ?? '?'}, tid = ${t.tid})`);
  }
  for (const [title, key] of [['Files read', 'readBytes'], ['Files written', 'writtenBytes']] as const) {
    const rows = [...r.files].filter((f) => f[key] > 0).sort((a, b) => b[key] - a[key]);
    if (rows.length === 0) continue;
    const max = Math.max(0, ...rows.map((f) => f[key]));
    lines.push('', title, '#'.repeat(BAR));
    for (const f of rows) lines.push(`${bar(f[key], max)} ${size(f[key]).padStart(12)}  ${f.file}`);
  }
  return lines.join('\n') + '\n';
}

export function memTopText(range: TimeRange, r: { threads: MemUsage[]; allocated: number; freed: number }): string {
  const lines = [rangeLine(range)];
  for (const [title, key] of [['Per-TID Memory Allocations', 'allocatedPages'], ['Per-TID Memory Deallocations', 'freedPages']] as const) {
    const rows = [...r.threads].filter((t) => t[key] > 0).sort((a, b) => b[key] - a[key]);
    const max = Math.max(0, ...rows.map((t) => t[key]));
    lines.push('', title, '#'.repeat(BAR));
    for (const t of rows) lines.push(`${bar(t[key], max)} ${`${t[key]} pages`.padStart(14)}  ${t.name} (${t.tid})`);
  }
  lines.push('', `Total memory usage:`, `- ${r.allocated} pages allocated`, `- ${r.freed} pages freed`);
  return lines.join('\n') + '\n';
}

export function threadsText(range: TimeRange, rows: readonly ThreadRow[]): string {
  const lines = [rangeLine(range), `${'TID'.padStart(8)} ${'PID'.padStart(8)}  ${'First seen'.padEnd(18)}  ${'Last seen'.padEnd(18)}  ${'CPU (ms)'.padStart(10)}  Names`];
  const time = (ns: bigint | null): string => (ns === null ? '?' : formatTimestamp(ns).slice(11)).padEnd(18);
  for (const t of rows) {
    const names = t.names.length > 1 ? t.names.map((n) => `${n.name} (${formatTimestamp(n.ts).slice(11)})`).join(' → ') : t.name;
    lines.push(`${String(t.tid).padStart(8)} ${String(t.pid ?? '?').padStart(8)}  ${time(t.firstTs)}  ${time(t.lastTs)}  ${(Number(t.cpuNs) / 1e6).toFixed(3).padStart(10)}  ${names}`);
  }
  return lines.join('\n') + '\n';
}
