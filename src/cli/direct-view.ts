// `ltt view` on trace folders named on the command line, with the viewer's own options only: straight to the
// viewer (src/view/run-view.ts) without loading the rest of the command line (~80 modules, a tenth of a second
// of CPU per run, which a short view of a trace pays in full). bin/ltt loads this module and what it imports
// as one bundle (scripts/build-bundles.mjs, bundle-loader.cts).

import { existsSync } from 'node:fs';
import { parseCommandLine } from './option-parser.js';
import { runView } from '../view/run-view.js';
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

/** The viewer itself, for `ltt view` of a session (commands/view.ts), from this bundle when bin/ltt ran it. */
export { runView };

/** The view's exit code when `argv` is a direct view (it ran); undefined when main.ts must take the command. */
export async function runDirectView(argv: readonly string[]): Promise<number | undefined> {
  const args = directViewArgs(argv);
  return args === undefined ? undefined : runView(args);
}
