// Interrupt statistics (lttng-irqstats): handler durations per hard IRQ (irq_handler_entry/exit) and per
// soft IRQ vector (irq_softirq_entry/exit), over the irqs and softirqs tables. Where lttng-analyses differs:
// 0.6.1 matches the soft IRQ events by their pre-2.9 names (softirq_entry), so on LTTng 2.13 traces, and on
// ltt's, which are named as 2.13 names them (irq_softirq_entry), it shows no soft IRQs; ltt does.

import type { DuckDBConnection } from '@duckdb/node-api';
import { runSql } from '../engine/run-sql.js';
import { requireEvents, type AnalysisOptions, type TimeRange } from './analysis-range.js';
import { statsColumns, statsFromRow, type DurationStats } from './latency-stats.js';

export interface IrqStats extends DurationStats {
  readonly irq: number;
  readonly name: string;
}

/** Linux's soft IRQ vectors (include/linux/interrupt.h), as lttng-modules names them. */
export const SOFTIRQ_NAMES = ['HI', 'TIMER', 'NET_TX', 'NET_RX', 'BLOCK', 'IRQ_POLL', 'TASKLET', 'SCHED', 'HRTIMER', 'RCU'];

export async function irqStats(conn: DuckDBConnection, range: TimeRange, _opts: AnalysisOptions): Promise<{ hard: IrqStats[]; soft: IrqStats[] }> {
  await requireEvents(conn, 'irqstats', ['irq_handler_entry', 'irq_softirq_entry'], 'ltt enable-event -k irq_handler_entry,irq_handler_exit,irq_softirq_entry,irq_softirq_exit');
  const inRange = `ts BETWEEN ${range.begin} AND ${range.end}`;
  const hard = await runSql(conn, `SELECT irq, COALESCE(any_value(name), '?'), ${statsColumns('dur')} FROM irqs WHERE ${inRange} GROUP BY irq ORDER BY irq`);
  const soft = await runSql(conn, `SELECT vec, ${statsColumns('dur')} FROM softirqs WHERE ${inRange} GROUP BY vec ORDER BY vec`);
  return {
    hard: hard.rows.map((r) => ({ irq: Number(r[0]), name: String(r[1]), ...statsFromRow(r, 2) })),
    soft: soft.rows.map((r) => ({ irq: Number(r[0]), name: SOFTIRQ_NAMES[Number(r[0])] ?? '?', ...statsFromRow(r, 1) })),
  };
}
