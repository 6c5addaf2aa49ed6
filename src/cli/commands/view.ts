// `ltt view [SESSION | TRACE_DIR...] [-t DIR] [-e VIEWER] [viewer options]`: prints a trace the way babeltrace2
// does, with ltt's in-process reader (src/view/run-view.ts). Without a trace argument it views the current
// session's trace folder; a session name is replaced by that session's trace folder; other arguments and
// options go to the viewer unchanged. -e runs an external viewer with the trace folder as last argument
// (lttng's --viewer).

import { spawn } from 'node:child_process';
import type { CommandSpec } from '../command-spec.js';
import { usageError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { viewOptionTakesValue } from '../../view/view-args.js';
import { traceInputs } from '../session-trace-dir.js';
import { createRequire } from 'node:module';

type ViewRunner = (args: string[]) => Promise<number>;

/**
 * The view bundle's viewer while it is fresh (bin/ltt ran it already, to see whether the words were trace folders;
 * the loader runs a bundle once per process), else undefined. The loader is required from its file, as bin/ltt
 * requires it: bundled into the CLI bundle, its import() of left-out modules would have no loader to serve it.
 */
function bundledViewer(): ViewRunner | undefined {
  try {
    const loader = createRequire(import.meta.url)('../bundle-loader.cjs') as typeof import('../bundle-loader.cjs');
    return loader.loadBundle<{ runView?: ViewRunner }>('view')?.exports.runView;
  } catch {
    // Sources under tsx (no .cjs beside them), or no loader: the modules.
    return undefined;
  }
}

export const viewCommand: CommandSpec = {
  name: 'view',
  help: `Usage: ltt view [-e VIEWER] [-t TRACE_DIR | SESSION | TRACE_DIR...] [VIEWER OPTIONS]

Print the events of a trace like babeltrace2 does. Default: the trace of the current session.
  -t, --trace-path=DIR   view DIR
  -e, --viewer=CMD       run CMD with the trace directory as last argument instead of ltt's viewer
`,
  options: {
    'list-options': { type: 'boolean' },
    viewer: { type: 'string', short: 'e' },
    'trace-path': { type: 'string', short: 't' },
  },
  passThroughUnknown: true,
  unknownTakesValue: viewOptionTakesValue,
  async run(ctx, { values, positionals, unknown }) {
    const words = [...positionals];
    if (values['trace-path'] !== undefined) words.push(values['trace-path'] as string);
    const paths = await traceInputs(ctx, words);
    ctx.close();
    const passThrough = unknown;
    if (values.viewer !== undefined) {
      const [file, ...args] = (values.viewer as string).split(/\s+/).filter((s) => s.length > 0);
      if (!file) throw usageError('Empty --viewer command');
      return await new Promise<ExitCode>((resolve) => {
        const child = spawn(file, [...args, ...passThrough, ...paths], { stdio: 'inherit' });
        child.on('error', (error) => {
          ctx.error(`Cannot run viewer ${file}: ${error.message}`);
          resolve(ExitCode.ERROR);
        });
        child.on('exit', (code) => resolve(code === 0 ? ExitCode.SUCCESS : ExitCode.ERROR));
      });
    }
    const runView = bundledViewer() ?? ((await import('../../view/run-view.js')) as { runView: ViewRunner }).runView;
    return (await runView([...passThrough, ...paths])) === 0 ? ExitCode.SUCCESS : ExitCode.ERROR;
  },
};
