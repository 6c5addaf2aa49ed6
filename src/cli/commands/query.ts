// `ltt query [TRACE | SESSION]... [SQL]`: a trace as SQL tables (src/engine). With SQL, prints its result
// (--format table|csv|json); without, an interactive prompt (.tables, .schema NAME, .quit). The tables are
// imported once and cached until the trace changes (--no-cache: in memory only).

import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { lttHome } from '../../control/runtime-paths.js';
import { RESULT_FORMATS, formatRows, type ResultFormat } from '../../engine/result-format.js';
import { runSql, schemaOf } from '../../engine/run-sql.js';
import type { TableExtension, TraceDb } from '../../engine/trace-db.js';
import type { CliContext } from '../cli-context.js';
import type { CommandSpec } from '../command-spec.js';
import { usageError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { traceInputs } from '../session-trace-dir.js';

export const QUERY_TABLES_HELP = `Tables (one row per ...):
  events           event: id, ts (ns), cpu, trace_id, stream_id, name, tid, pid, procname
  "EVENT NAME"     event of that name: id, ts, cpu, tid, pid, procname and its fields (e.g. sched_switch)
  threads          thread: trace_id, tid, pid, name (newest), first_ts, last_ts; thread_names: every name seen
  processes        process: trace_id, pid, name, threads
  sched            time slice a thread ran on a CPU: trace_id, ts, dur, cpu, tid (0: idle), prio, end_state
  syscalls         system call: trace_id, ts, dur, cpu, tid, name, ret
  irqs, softirqs   interrupt handler run: trace_id, ts, dur, cpu, irq, name, ret / vec
  lost             discarded events or lost packets: trace_id, stream_id, stream, kind, count, begin_ts, end_ts
  traces, streams, event_classes: what was read`;

/** `extend`: tables an analysis keeps in the cache beside the trace's (see openTraceDb). */
export async function openForCli(ctx: CliContext, words: readonly string[], noCache: boolean, extend?: TableExtension): Promise<TraceDb> {
  const paths = await traceInputs(ctx, words);
  ctx.close();
  const tty = process.stderr.isTTY === true;
  // Loaded here, not at the top: DuckDB's native module costs every other command (ltt view) ~0.3 s of startup.
  const { openTraceDb } = await import('../../engine/trace-db.js');
  return openTraceDb(paths, {
    noCache,
    extend,
    cacheDir: process.env['LTT_CACHE'] || join(lttHome(), '.cache', 'ltt', 'tables'),
    progress: tty
      ? (f, n) => process.stderr.write(f < 1 ? `\rImporting the trace: ${Math.floor(100 * f)}% (${(n / 1e6).toFixed(1)} M events)` : `\r\x1b[KBuilding the tables of ${(n / 1e6).toFixed(1)} M events`)
      : undefined,
  }).finally(() => {
    if (tty) process.stderr.write('\r\x1b[K');
  });
}

function parseFormat(v: unknown): ResultFormat {
  const f = (v ?? 'table') as ResultFormat;
  if (!RESULT_FORMATS.includes(f)) throw usageError(`Unknown format ${String(v)}: use ${RESULT_FORMATS.join(', ')}`);
  return f;
}

async function prompt(ctx: CliContext, db: TraceDb, format: ResultFormat): Promise<void> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: 'ltt> ', terminal: process.stdin.isTTY });
  ctx.raw(`${QUERY_TABLES_HELP}\nEnter SQL ending with ';', or .tables, .schema NAME, .quit\n`);
  let buffer = '';
  rl.prompt();
  for await (const line of rl) {
    const trimmed = line.trim();
    try {
      if (buffer === '' && trimmed.startsWith('.')) {
        const [cmd, arg] = trimmed.split(/\s+/, 2);
        if (cmd === '.quit' || cmd === '.exit') break;
        if (cmd === '.tables') ctx.raw(formatRows(['table'], (await schemaOf(db.conn)).rows.map((r) => [r[0]]), format));
        else if (cmd === '.schema') {
          const s = await schemaOf(db.conn, arg);
          ctx.raw(formatRows(s.columns, s.rows, format));
        } else ctx.error(`Unknown command ${cmd}: .tables, .schema NAME, .quit`);
      } else if (trimmed !== '') {
        buffer += line + '\n';
        if (trimmed.endsWith(';')) {
          const sql = buffer;
          buffer = '';
          const r = await runSql(db.conn, sql);
          ctx.raw(formatRows(r.columns, r.rows, format));
        }
      }
    } catch (err) {
      buffer = '';
      ctx.error(err instanceof Error ? err.message : String(err));
    }
    rl.prompt();
  }
  rl.close();
}

export const queryCommand: CommandSpec = {
  name: 'query',
  help: `Usage: ltt query [TRACE_DIR | SESSION]... ["SQL"] [--format table|csv|json] [--no-cache]

Loads the traces as SQL tables (DuckDB) and runs SQL on them; without SQL, opens a prompt.
Default trace: the current session's. The tables are cached until the trace changes.
  -c, --command=SQL      the SQL to run (else: the last argument when it holds a space)
  -f, --format=FORMAT    table (default), csv or json
      --no-cache         keep the tables in memory only

${QUERY_TABLES_HELP}
`,
  options: {
    command: { type: 'string', short: 'c' },
    format: { type: 'string', short: 'f' },
    'no-cache': { type: 'boolean' },
  },
  async run(ctx, { values, positionals }) {
    const format = parseFormat(values.format);
    const words = [...positionals];
    let sql = values.command as string | undefined;
    if (sql === undefined && words.length > 0 && /\s/.test(words[words.length - 1]!)) sql = words.pop();
    const db = await openForCli(ctx, words, values['no-cache'] === true);
    try {
      if (sql === undefined) {
        await prompt(ctx, db, format);
        return ExitCode.SUCCESS;
      }
      const r = await runSql(db.conn, sql);
      ctx.raw(formatRows(r.columns, r.rows, format));
      return ExitCode.SUCCESS;
    } finally {
      db.close();
    }
  },
};
