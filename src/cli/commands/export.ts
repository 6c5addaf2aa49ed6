// `ltt export --format parquet|perfetto|chrome-json OUTPUT [TRACE | SESSION]...`: a trace's tables (src/engine)
// for other tools: Parquet files in the OUTPUT folder, one Perfetto protobuf trace, or one Trace Event JSON file.

import { exportChromeJson } from '../../export/chrome-json.js';
import { exportParquet } from '../../export/parquet.js';
import { exportPerfetto } from '../../export/perfetto.js';
import type { CommandSpec } from '../command-spec.js';
import { usageError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { openForCli } from './query.js';

const FORMATS = ['parquet', 'perfetto', 'chrome-json'];

export const exportCommand: CommandSpec = {
  name: 'export',
  help: `Usage: ltt export --format=FORMAT OUTPUT [TRACE_DIR | SESSION]...

Writes the trace's tables (see \`ltt query --help\`) for other tools. Default trace: the current session's.
  -f, --format=FORMAT    parquet: one OUTPUT/TABLE.parquet per table (OUTPUT is a folder)
                         perfetto: Perfetto's protobuf trace (ui.perfetto.dev, trace_processor) in the file
                           OUTPUT: kernel events as ftrace events, user-space events as track events
                         chrome-json: the Trace Event format (chrome://tracing, ui.perfetto.dev) in the file OUTPUT
      --no-cache         keep the tables in memory only
`,
  options: {
    format: { type: 'string', short: 'f' },
    'no-cache': { type: 'boolean' },
  },
  async run(ctx, { values, positionals }) {
    const format = values.format as string | undefined;
    if (format === undefined) throw usageError(`Missing --format: ${FORMATS.join(', ')}`);
    if (!FORMATS.includes(format)) throw usageError(`Unknown format ${format}: ${FORMATS.join(', ')}`);
    const [output, ...words] = positionals;
    if (output === undefined) throw usageError('Missing OUTPUT');
    const db = await openForCli(ctx, words, values['no-cache'] === true);
    try {
      if (format === 'parquet') {
        const files = await exportParquet(db.conn, output);
        const rows = files.reduce((a, f) => a + f.rows, 0);
        ctx.out(`${files.length} tables (${rows} rows) written to ${output}`);
      } else if (format === 'perfetto') {
        const r = await exportPerfetto(db.conn, output);
        if (r.syscallsSkipped !== undefined) ctx.warn(`System calls not exported: ${r.syscallsSkipped}`);
        ctx.out(`${r.ftraceEvents} kernel events, ${r.trackEvents} user-space events, ${r.threads} threads written to ${output}`);
      } else {
        const n = await exportChromeJson(db.conn, output);
        ctx.out(`${n} trace events written to ${output}`);
      }
      return ExitCode.SUCCESS;
    } finally {
      db.close();
    }
  },
};
