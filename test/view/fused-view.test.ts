// The pretty view's two reading loops (reading-graph.ts prettyLoopFor): the fused loop (fused-view.ts: streams
// merged and printed with no messages) must print the same bytes, warnings and error as the general one (the
// muxer's message batches through PrettySink.consume) on every trace of the corpus and on the real LTTng-UST
// traces whose texts depend on babeltrace2's event objects, with several option sets; and the choice is
// fused exactly when no trimmer sits between the streams and the sink.

import { join } from 'node:path';
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { OutputWriter } from '../../src/view/output-writer.js';
import { PrettySink } from '../../src/view/pretty-sink.js';
import { prettyLoopFor, type PrettyLoop } from '../../src/view/reading-graph.js';
import { printPretty } from '../../src/view/run-view.js';
import { parseViewArgs } from '../../src/view/view-args.js';
import { CORPUS, REPO_ROOT } from '../repo-paths.js';
import { traceDirs } from '../graph/corpus-helpers.js';


/** stdout, stderr and the error of `ltt view ARGS` through the given loop. */
async function view(args: string[], loop: PrettyLoop): Promise<string> {
  const cfg = parseViewArgs(args);
  const out = OutputWriter.memory(cfg.pretty.stringEncoding);
  const warnings: string[] = [];
  const sink = new PrettySink({ ...cfg.pretty, color: 'never' }, out, (l) => warnings.push(l), false);
  let error = '';
  try {
    await printPretty(cfg, sink, out, loop);
  } catch (err) {
    error = String((err as Error).message);
  }
  return out.text() + '\n--\n' + warnings.join('') + '\n--\n' + error;
}

const OPTION_SETS: string[][] = [[], ['-n', 'all', '-f', 'all'], ['--no-delta', '--clock-cycles'], ['--clock-seconds', '--clock-gmt']];

test('the fused loop prints what the general loop prints, on the corpus and the LTTng-UST text traces', async () => {
  const dirs = [
    ...traceDirs(CORPUS).filter((d) => !d.includes('/expected')),
    ...traceDirs(join(REPO_ROOT, 'test', 'view', 'lttng-ust-texts', 'traces')),
  ];
  assert.ok(dirs.length > 50, `corpus at ${CORPUS} has traces`);
  let compared = 0;
  let failed = 0;
  for (const dir of dirs) {
    for (const opts of OPTION_SETS) {
      const fused = await view([...opts, dir], 'fused');
      const general = await view([...opts, dir], 'general');
      assert.equal(fused, general, `${dir} ${opts.join(' ')}`);
      if (!fused.endsWith('\n--\n')) failed++;
      compared++;
    }
  }
  assert.ok(compared > 200);
  // The corpus's damaged traces are compared too: their errors and the lines printed before them.
  assert.ok(failed > 10, `${failed} runs ended in an error`);
});

test('the fused loop reads unless a trimmer sits between the streams and the sink', () => {
  assert.equal(prettyLoopFor(parseViewArgs(['t'])), 'fused');
  assert.equal(prettyLoopFor(parseViewArgs(['-n', 'all', '--no-delta', 't'])), 'fused');
  assert.equal(prettyLoopFor(parseViewArgs(['--begin', '1', 't'])), 'general');
  assert.equal(prettyLoopFor(parseViewArgs(['--end', '1', 't'])), 'general');
  assert.equal(prettyLoopFor(parseViewArgs(['--stream-intersection', 't'])), 'general');
});
