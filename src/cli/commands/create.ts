// `ltt create [NAME] [-o DIR | --no-output] [--snapshot | --live[=US]]`: creates a recording session, makes it
// the current one, and starts a session daemon first when none answers (unless -n). Messages as lttng's.

import { resolve } from 'node:path';
import { ControlError } from '../../control/error-codes.js';
import { lttHome } from '../../control/runtime-paths.js';
import type { CommandSpec } from '../command-spec.js';
import { usageError } from '../cli-error.js';
import { stageCurrentSession } from '../current-session.js';
import { ExitCode } from '../exit-codes.js';
import { sessionNode } from '../output/mi-model.js';

const DEFAULT_LIVE_TIMER_US = 1_000_000;

export const createCommand: CommandSpec = {
  name: 'create',
  summary: 'Create a recording session',
  help: `Usage: ltt create [SESSION] [--output=DIR | --no-output] [--snapshot | --live[=DELAYUS]]

Create a recording session named SESSION (default: auto-YYYYmmdd-HHMMSS) and make it the current session.
Traces go to $LTT_HOME/ltt-traces/SESSION-YYYYmmdd-HHMMSS unless --output or --no-output is given.
Starts a session daemon if none is running (unless -n/--no-sessiond).

Options:
  -o, --output=DIR         write the traces to DIR
      --no-output          do not write traces
  -U, --set-url=URL        file://DIR is the same as --output=DIR (network URLs are not supported yet)
      --snapshot           snapshot mode (channels default to overwrite + mmap)
      --live[=DELAYUS]     live mode (default delay 1000000 us)
`,
  options: {
    output: { type: 'string', short: 'o' },
    'list-options': { type: 'boolean' },
    'set-url': { type: 'string', short: 'U' },
    'ctrl-url': { type: 'string', short: 'C' },
    'data-url': { type: 'string', short: 'D' },
    'no-output': { type: 'boolean' },
    'no-consumer': { type: 'boolean' },
    snapshot: { type: 'boolean' },
    live: { type: 'string', defaultValue: String(DEFAULT_LIVE_TIMER_US) },
    'shm-path': { type: 'string' },
  },
  async run(ctx, { values, positionals }) {
    if (positionals.length > 1) throw usageError(`Unknown argument: ${positionals[1]}`);
    const name = positionals[0];
    if (values.snapshot && values.live !== undefined) throw usageError('Snapshot and live modes are mutually exclusive.');
    if (values['ctrl-url'] || values['data-url']) {
      throw usageError('Network streaming (--ctrl-url/--data-url) is not supported by ltt yet');
    }
    if (values['shm-path']) throw usageError('--shm-path is not supported by ltt');
    let output: string | null | undefined;
    const url = values['set-url'] as string | undefined;
    if (url !== undefined) {
      // lttng's URL grammar: file://ABSPATH or NETPROTO://HOST...; anything else is not a URL at all.
      if (/^(net|net6|tcp|tcp6):\/\//.test(url)) throw usageError(`Network streaming URLs are not supported by ltt yet: ${url}`);
      if (!/^file:\/\/\//.test(url)) throw usageError(`Unable to parse the URL ${url}\nError: Unrecognized URL format.`);
      output = url.slice('file://'.length);
    }
    if (values.output !== undefined) {
      if (output !== undefined) throw usageError('Only one of --output and --set-url can be given');
      output = values.output as string;
    }
    if (values['no-output'] || values['no-consumer']) {
      if (output !== undefined) throw usageError('--no-output cannot be used with --output');
      output = null;
    }
    if (typeof output === 'string') {
      if (output.length === 0) throw usageError('The output directory cannot be empty');
      output = resolve(output);
    }
    let liveTimerUs: number | undefined;
    if (values.live !== undefined) {
      const text = values.live as string;
      if (!/^\d+$/.test(text) || Number(text) === 0) throw usageError(`Wrong value for --live parameter: ${text}`);
      liveTimerUs = Number(text);
    }

    // Before the daemon (maybe spawned into $LTT_HOME/.ltt) creates anything: a home that cannot hold .lttrc is
    // refused here, so a failed create leaves no session behind.
    const rc = stageCurrentSession();
    let summary;
    try {
      const client = await ctx.control({ spawn: true });
      summary = await client.request('create-session', {
        ...(name !== undefined ? { name } : {}),
        ...(output !== undefined ? { output } : { home: lttHome() }),
        ...(values.snapshot ? { snapshot: true } : {}),
        ...(liveTimerUs !== undefined ? { liveTimerUs } : {}),
      });
    } catch (error) {
      rc.abandon();
      if (error instanceof ControlError) {
        ctx.error(error.message, error.code);
        return ExitCode.ERROR;
      }
      throw error;
    }
    try {
      rc.commit(summary.name);
    } catch (error) {
      // Nothing half done: the session goes again when it cannot become the current one.
      await (await ctx.control()).request('destroy-session', { session: summary.name }).catch(() => {});
      throw error;
    }
    ctx.miOutput = sessionNode(summary);
    if (summary.snapshot) {
      ctx.out(`Snapshot session ${summary.name} created.`);
      if (summary.outputPath) ctx.out(`Default snapshot output set to ${summary.outputPath}`);
      ctx.out('Every channel enabled for this session will be set to mmap output and default to overwrite mode.');
    } else if (summary.liveTimerUs > 0) {
      ctx.out(`Live session ${summary.name} created.`);
      ctx.out(`Traces will be written in ${summary.outputPath}`);
      ctx.out(`Live timer interval set to ${summary.liveTimerUs} us`);
    } else {
      ctx.out(`Session ${summary.name} created.`);
      if (summary.outputPath) ctx.out(`Traces will be written in ${summary.outputPath}`);
    }
    return ExitCode.SUCCESS;
  },
};
