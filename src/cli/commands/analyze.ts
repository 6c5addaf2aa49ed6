// `ltt analyze ANALYSIS [TRACE | SESSION]...`: LTTng's analyses (lttng-cputop, lttng-syscallstats, ...) as
// queries over the trace's tables (src/engine, src/analyses), with their options and text layout, or JSON.

import { LttError } from '../../errors.js';
import { lostNotes, traceRange, type AnalysisOptions } from '../../analyses/analysis-range.js';
import { cpuTop } from '../../analyses/cputop.js';
import { syscallStats } from '../../analyses/syscallstats.js';
import { irqStats } from '../../analyses/irqstats.js';
import { schedLatencies, schedStats } from '../../analyses/schedstats.js';
import { ioLatency, ioUsageTop } from '../../analyses/iolatency.js';
import { memTop } from '../../analyses/memtop.js';
import { threadList } from '../../analyses/threads.js';
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

const ANALYSES = ['cputop', 'syscallstats', 'schedstats', 'schedlat', 'irqstats', 'iolatency', 'iousagetop', 'memtop', 'threads'] as const;
type Analysis = (typeof ANALYSES)[number];

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

function jsonText(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v), 1) + '\n';
}

export const analyzeCommand: CommandSpec = {
  name: 'analyze',
  summary: "Run one of LTTng's analyses on a trace",
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
    if (!(ANALYSES as readonly string[]).includes(analysis)) throw usageError(`Unknown analysis ${analysis}: ${ANALYSES.join(', ')}`);
    const format = (values.format ?? 'text') as string;
    if (format !== 'text' && format !== 'json') throw usageError(`Unknown format ${format}: text or json`);
    const opts = analysisOptions(values);
    const db = await openForCli(ctx, words, values['no-cache'] === true);
    try {
      const range = await traceRange(db.conn, opts);
      for (const note of await lostNotes(db.conn, range)) process.stderr.write(note + '\n');
      switch (analysis as Analysis) {
        case 'cputop': {
          const r = await cpuTop(db.conn, range, opts);
          ctx.raw(format === 'json' ? jsonText(r) : cpuTopText(r));
          break;
        }
        case 'syscallstats': {
          const r = await syscallStats(db.conn, range, opts);
          ctx.raw(format === 'json' ? jsonText({ range, threads: r }) : syscallStatsText(range, r));
          break;
        }
        case 'schedstats': {
          const r = await schedStats(db.conn, range, opts);
          ctx.raw(format === 'json' ? jsonText({ range, threads: r }) : schedStatsText(range, r));
          break;
        }
        case 'schedlat': {
          const r = await schedLatencies(db.conn, range, opts);
          ctx.raw(format === 'json' ? jsonText({ range, wakeups: r }) : schedLatText(range, r, opts.top !== undefined));
          break;
        }
        case 'irqstats': {
          const r = await irqStats(db.conn, range, opts);
          ctx.raw(format === 'json' ? jsonText({ range, ...r }) : irqStatsText(range, r));
          break;
        }
        case 'iolatency': {
          const r = await ioLatency(db.conn, range, opts);
          ctx.raw(format === 'json' ? jsonText({ range, syscalls: r }) : ioLatencyText(range, r));
          break;
        }
        case 'iousagetop': {
          const r = await ioUsageTop(db.conn, range, opts);
          ctx.raw(format === 'json' ? jsonText({ range, ...r }) : ioUsageText(range, r));
          break;
        }
        case 'memtop': {
          const r = await memTop(db.conn, range, opts);
          ctx.raw(format === 'json' ? jsonText({ range, ...r }) : memTopText(range, r));
          break;
        }
        case 'threads': {
          const r = await threadList(db.conn, range, opts);
          ctx.raw(format === 'json' ? jsonText({ range, threads: r }) : threadsText(range, r));
          break;
        }
        default:
          throw new LttError('ANALYSIS', `Unknown analysis ${analysis}`);
      }
      return ExitCode.SUCCESS;
    } finally {
      db.close();
    }
  },
};
