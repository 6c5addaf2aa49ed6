// What V8 said about a child process's functions when run with --trace-opt --trace-deopt: those it compiled
// with its optimizing compiler, and its bailouts out of them. A test that a function is never deoptimized must
// also see that it was optimized: if V8 never optimized it there is no bailout to see, and the test would pass
// without checking anything.

/** The name V8 prints for a function: "<JSFunction NAME (sfi = ...)>". */
const FUNCTION_NAME = /<JSFunction ([^\s>]+)/;

/** Names of the functions TurboFan compiled, at function entry or on stack replacement (OSR). */
export function optimizedFunctions(trace: string): Set<string> {
  const names = new Set<string>();
  for (const line of trace.split('\n')) {
    if (!/^\[completed (optimizing|compiling) /.test(line) || !line.includes('(target TURBOFAN)')) continue;
    const name = FUNCTION_NAME.exec(line)?.[1];
    if (name !== undefined) names.add(name);
  }
  return names;
}

/** The deoptimizations of functions whose whole name matches `names`, one entry each (V8 may wrap a bailout). */
export function bailoutsOf(trace: string, names: RegExp): string[] {
  const whole = new RegExp(`^(?:${names.source})$`);
  return trace
    .split(/\n(?=\[)/)
    .filter((entry) => entry.startsWith('[bailout') && whole.test(FUNCTION_NAME.exec(entry)?.[1] ?? ''))
    .map((entry) => entry.split('\n')[0]!);
}
