// Duration statistics as lttng-analyses reports them (count, min, average, max, sample standard deviation),
// for the analyses that summarise intervals: scheduling latency per thread (schedstats), interrupt handlers
// per IRQ (irqstats).

export interface DurationStats {
  readonly count: number;
  readonly minNs: number;
  readonly avgNs: number;
  readonly maxNs: number;
  /** n-1 standard deviation; null for a single value (lttng-analyses prints '?'). */
  readonly stdevNs: number | null;
}

/** SQL aggregate columns giving DurationStats for a duration expression, in this order. */
export function statsColumns(dur: string): string {
  return `count(*), min(${dur}), avg(${dur}), max(${dur}), stddev_samp(${dur})`;
}

export function statsFromRow(row: readonly unknown[], at: number): DurationStats {
  const stdev = row[at + 4];
  return {
    count: Number(row[at]),
    minNs: Number(row[at + 1]),
    avgNs: Number(row[at + 2]),
    maxNs: Number(row[at + 3]),
    stdevNs: stdev === null || stdev === undefined || Number.isNaN(Number(stdev)) ? null : Number(stdev),
  };
}
