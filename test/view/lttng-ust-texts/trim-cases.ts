// The --begin/--end/--timerange cases the LTTng-UST texts tests run through ltt view and babeltrace2.

import { spawnSync } from 'node:child_process';

/** The argument lists tried on a trace, from the event times of its untrimmed babeltrace2 output. */
export function trimCases(fullOutput: string, day: string): string[][] {
  const ts = [...fullOutput.matchAll(/^\[(\d\d:\d\d:\d\d\.\d{9})\]/gm)].map((m) => m[1]!);
  const at = (f: number): string => ts[Math.floor(ts.length * f)]!;
  return [
    [`--begin=${day} ${at(0.25)}`],
    [`--begin=${day} ${at(0.55)}`],
    [`--end=${day} ${at(0.4)}`],
    [`--end=${at(0.6)}`],
    [`--begin=${at(0.1)}`, `--end=${at(0.55)}`],
    [`--begin=${at(0.7)}`],
    [`--timerange=[${day} ${at(0.4)},${day} ${at(0.9)}]`],
    [`--timerange=${at(0.03)},${at(0.25)}`],
  ];
}

/** What a viewer printed for each case, in one text: the arguments, stdout, exit status and stderr. */
export function runCases(cmd: string, pre: string[], trace: string, cases: string[][]): string {
  let text = '';
  for (const args of cases) {
    const r = spawnSync(cmd, [...pre, trace, ...args], { env: { ...process.env, TZ: 'UTC' }, maxBuffer: 256 << 20 });
    text += `### ${args.join(' ')}\n${r.stdout.toString('utf8')}### exit ${r.status}\n${r.stderr.toString('utf8').split(trace).join('@TRACE@')}`;
  }
  return text;
}
