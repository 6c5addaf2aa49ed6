// `ltt analyze ANALYSIS [TRACE | SESSION]...`: LTTng's analyses (lttng-cputop, lttng-syscallstats, ...) as
// queries over the trace's tables (src/engine, src/analyses), with their options and text layout, or JSON.

import type { DuckDBConnection } from '@duckdb/node-api';
import { lostNotes, traceRange, type AnalysisOptions, type TimeRange } from '../../analyses/analysis-range.js';
import { cpuTop } from '../../analyses/cputop.js';
import { SYSCALL_STATS, syscallStats } from '../../analyses/syscallstats.js';
import { irqStats } from '../../analyses/irqstats.js';
import { schedLatencies, schedStats } from '../../analyses/schedstats.js';
import { ioLatency, ioUsageTop } from '../../analyses/iolatency.js';
import { memTop } from '../../analyses/memtop.js';
import { threadList } from '../../analyses/threads.js';
import { requestsAnalysis } from '../../analyses/requests.js';
import { requestsText } from '../../analyses/requests-text.js';
import {
  cpuTopText,
  ioLatencyText,
  ioUsageText,
  irqStatsText,
  memTopText,
  schedLatText,
  schedStatsText,
  syscallStatsText,
  threadsText,
} from '../../analyses/text-report.js';
import type { CommandSpec, OptionValues } from '../command-spec.js';
import { usageError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { openForCli } from './query.js';

type Runner = (conn: DuckDBConnection, range: TimeRange, opts: AnalysisOptions) => Promise<{ json: unknown; text: string }>;

/** Each analysis: its query, its JSON document and its lttng-analyses-like text. */
const RUNNERS: Record<string, Runner> = {
  cputop: async (c, range, o) => {
    const r = await cpuTop(c, range, o);
    return { json: r, text: cpuTopText(r) };
  },
  syscallstats: async (c, range, o) => {
    const r = await syscallStats(c, range, o);
    return { json: { range, threads: r }, text: syscallStatsText(range, r) };
  },
  schedstats: async (c, range, o) => {
    const r = await schedStats(c, range, o);
    return { json: { range, threads: r }, text: schedStatsText(range, r) };
  },
  schedlat: async (c, range, o) => {
    const r = await schedLatencies(c, range, o);
    return { json: { range, wakeups: r }, text: schedLatText(range, r, o.top !== undefined) };
  },
  irqstats: async (c, range, o) => {
    const r = await irqStats(c, range, o);
    return { json: { range, ...r }, text: irqStatsText(range, r) };
  },
  iolatency: async (c, range, o) => {
    const r = await ioLatency(c, range, o);
    return { json: { range, syscalls: r }, text: ioLatencyText(range, r) };
  },
  iousagetop: async (c, range, o) => {
    const r = await ioUsageTop(c, range, o);
    return { json: { range, ...r }, text: ioUsageText(range, r) };
  },
  memtop: async (c, range, o) => {
    const r = await memTop(c, range, o);
    return { json: { range, ...r }, text: memTopText(range, r) };
  },
  threads: async (c, range, o) => {
    const r = await threadList(c, range, o);
    return { json: { range, threads: r }, text: threadsText(range, r) };
  },
  requests: async (c, range, o) => {
    const r = await requestsAnalysis(c, range, o);
    return { json: r, text: requestsText(r) };
  },
};
const ANALYSES = Object.keys(RUNNERS);

function list(v: unknown): string[] {
  const values = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return values.flatMap((s) => String(s).split(',')).filter((s) => s.length > 0);
}

function analysisOptions(values: OptionValues): AnalysisOptions {
  const tids = list(values.tid).map((t) => {
    if (!/^\d+$/.test(t)) throw usageError(`Invalid TID ${t}`);
    return Number(t);
  });
  let top: number | undefined;
  if (values.top !== undefined) {
    top = Number(values.top);
    if (!Number.isInteger(top) || top < 1) throw usageError(`Invalid --top ${String(values.top)}: a positive whole number`);
  }
  return {
    begin: values.begin as string | undefined,
    end: values.end as string | undefined,
    tids,
    procnames: list(values.procname),
    top,
  };
}

/** JSON with 64-bit integers (ns since the epoch) written with all their digits, not rounded to a double's 53 bits. */
function jsonText(value: unknown): string {
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `\u0000bigint ${v}` : v), 1);
  return text.replace(/"\\u0000bigint (-?\d+)"/g, '$1') + '\n';
}

export const analyzeCommand: CommandSpec = {
  name: 'analyze',
  help: `Usage: ltt analyze ANALYSIS [TRACE_DIR | SESSION]... [OPTIONS]

Analyses (as lttng-analyses' commands of the same name, on the trace's SQL tables):
  cputop         CPU usage per thread and per CPU
  syscallstats   system call counts and durations per thread
  schedstats     scheduling latency (wakeup to running) statistics per thread
  schedlat       one line per wakeup (lttng-schedlog); with --top, the slowest (lttng-schedtop)
  irqstats       interrupt handler durations per hard IRQ and soft IRQ vector
  iolatency      I/O system call latency (open, read, write, sync) statistics (lttng-iolatencystats)
  iousagetop     bytes read and written per thread, and per file where the trace names it
  memtop         pages allocated and freed per thread
  threads        every thread: tid, pid, names over time, first/last seen, CPU time
  requests       where each request of an ltt/auto app spent its time (on CPU, system calls, runnable,
                 blocked, queued, idle; thread pool, workers, children): the slowest (--top N, each with a
                 timeline), per-route percentiles; the requests themselves are the engine's requests table

Default trace: the current session's.
      --begin=TIME       start of the range (ns, HH:MM:SS[.ns] or YYYY-MM-DD HH:MM:SS[.ns], local time)
      --end=TIME         end of the range
      --tid=TID[,TID]    only these threads
      --procname=NAME[,NAME]  only threads of these names
      --top=N            the N first rows
  -f, --format=FORMAT    text (default) or json
      --no-cache         keep the tables in memory only
`,
  options: {
    begin: { type: 'string' },
    end: { type: 'string' },
    tid: { type: 'string', multiple: true },
    procname: { type: 'string', multiple: true },
    top: { type: 'string' },
    format: { type: 'string', short: 'f' },
    'no-cache': { type: 'boolean' },
  },
  async run(ctx, { values, positionals }) {
    const [analysis, ...words] = positionals;
    if (analysis === undefined) throw usageError(`Missing analysis: ${ANALYSES.join(', ')}`);
    if (!ANALYSES.includes(analysis)) throw usageError(`Unknown analysis ${analysis}: ${ANALYSES.join(', ')}`);
    const format = (values.format ?? 'text') as string;
    if (format !== 'text' && format !== 'json') throw usageError(`Unknown format ${format}: text or json`);
    const opts = analysisOptions(values);
    // Over the whole trace, syscallstats reads statistics kept in the cache (grouped once, at its first run).
    const whole = opts.begin === undefined && opts.end === undefined;
    const db = await openForCli(ctx, words, values['no-cache'] === true, analysis === 'syscallstats' && whole ? SYSCALL_STATS : undefined);
    try {
      const range = await traceRange(db.conn, opts);
      for (const note of await lostNotes(db.conn, range)) process.stderr.write(note + '\n');
      const r = await RUNNERS[analysis]!(db.conn, range, opts);
      ctx.raw(format === 'json' ? jsonText(r.json) : r.text);
      return ExitCode.SUCCESS;
    } finally {
      db.close();
    }
  },
};
