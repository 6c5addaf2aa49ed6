// What bin/ltt runs. `ltt view` on trace folders named on the command line, with the viewer's own options
// only, goes straight to the viewer (src/view/run-view.ts) without loading the rest of the command line
// (~80 modules, a tenth of a second of CPU per run, which a short view of a trace pays in full). Anything else
// (sessions, -t, -e, help, global options) goes through main.ts, which gives the same result for these too.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { parseCommandLine } from './option-parser.js';
import { viewOptionTakesValue } from '../view/view-args.js';

/** The viewer's arguments (options, then trace folders) when `argv` is such a direct view; else undefined. */
export function directViewArgs(argv: readonly string[]): string[] | undefined {
  if (argv[0] !== 'view') return undefined;
  let parsed;
  try {
    parsed = parseCommandLine(argv.slice(1), {}, true, viewOptionTakesValue);
  } catch {
    return undefined;
  }
  const { positionals, unknown } = parsed;
  if (positionals.length === 0 || !positionals.every((p) => existsSync(p) || p.includes('/'))) return undefined;
  for (let i = 0; i < unknown.length; i++) {
    const a = unknown[i]!;
    // The view command's own options (-t/--trace-path, -e/--viewer) and help are main.ts's.
    if (/^--(trace-path|viewer|help)(=|$)/.test(a) || /^-[^-]*[teh]/.test(a)) return undefined;
    if (viewOptionTakesValue(a)) i++;
  }
  return [...unknown, ...positionals];
}

export async function entry(argv: string[]): Promise<void> {
  const direct = directViewArgs(argv);
  if (direct === undefined) {
    const { main } = await import('./main.js');
    return main(argv);
  }
  const { runView } = (await import(freshViewBundle() ?? '../view/run-view.js')) as typeof import('../view/run-view.js');
  process.exitCode = await runView(direct);
}

/**
 * The view's modules bundled in one file (scripts/build-view-bundle.mjs: loading ~50 ES modules one by one costs
 * more than decoding a million events), when every module it was made from is still the one on disk.
 */
export function freshViewBundle(dir = new URL('../view/', import.meta.url)): string | undefined {
  try {
    const { inputs } = JSON.parse(readFileSync(new URL('run-view.bundle.json', dir), 'utf8')) as { inputs: Record<string, [number, number]> };
    for (const [path, [size, mtimeMs]] of Object.entries(inputs)) {
      const st = statSync(new URL(path, dir));
      if (st.size !== size || st.mtimeMs !== mtimeMs) return undefined;
    }
  } catch {
    return undefined;
  }
  return new URL('run-view.bundle.js', dir).href;
}
