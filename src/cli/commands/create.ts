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
import type { RelayTarget } from '../../control/messages.js';
import { isLttError } from '../../errors.js';
import { parseOutputUrls } from '../../relay/relay-url.js';
import { ensureLocalRelay } from '../relayd-spawn.js';

const DEFAULT_LIVE_TIMER_US = 1_000_000;

export const createCommand: CommandSpec = {
  name: 'create',
  help: `Usage: ltt create [SESSION] [--output=DIR | --set-url=URL | --ctrl-url=URL --data-url=URL | --no-output]
                  [--snapshot | --live[=DELAYUS]]

Create a recording session named SESSION (default: auto-YYYYmmdd-HHMMSS) and make it the current session.
Traces go to $LTT_HOME/ltt-traces/SESSION-YYYYmmdd-HHMMSS unless --output or --no-output is given.
Starts a session daemon if none is running (unless -n/--no-sessiond).

Options:
  -o, --output=DIR         write the traces to DIR
      --no-output          do not write traces
  -U, --set-url=URL        file://DIR (as --output=DIR) or net[4|6]://HOST[:CTRLPORT[:DATAPORT]][/PATH]:
                           stream to a relay daemon (ltt-relayd or lttng-relayd; ports 5342 and 5343)
  -C, --ctrl-url=URL       control URL (tcp[4|6]://HOST[:PORT][/PATH]), with --data-url
  -D, --data-url=URL       data URL (tcp[4|6]://HOST[:PORT]), with --ctrl-url
      --snapshot           snapshot mode (channels default to overwrite + mmap)
      --live[=DELAYUS]     live mode: stream to a relay (default net://127.0.0.1, a relay daemon is started
                           when none listens on 127.0.0.1:5344), packets sent at least every DELAYUS
                           (default 1000000 us)
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
    const url = values['set-url'] as string | undefined;
    const ctrlUrl = values['ctrl-url'] as string | undefined;
    const dataUrl = values['data-url'] as string | undefined;
    if (Number(url !== undefined) + Number(values.output !== undefined) + Number(ctrlUrl !== undefined || dataUrl !== undefined) > 1) {
      throw usageError('Only one of the --set-url, --ctrl-url/data-url, or --output options may be used at once.');
    }
    if (values.snapshot && values.live !== undefined) throw usageError('Snapshot and live modes are mutually exclusive.');
    if ((ctrlUrl === undefined) !== (dataUrl === undefined)) throw usageError('Both control and data URLs must be specified.');
    if (values['shm-path']) throw usageError('--shm-path is not supported by ltt');
    let output: string | null | undefined;
    let relay: RelayTarget | undefined;
    if (url !== undefined || ctrlUrl !== undefined) {
      // LTTng's URL grammar and errors (src/relay/relay-url.ts): the first line lttng prints for a bad URL.
      let parsed;
      try {
        parsed = await parseOutputUrls((ctrlUrl ?? url)!, dataUrl);
      } catch (error) {
        if (isLttError(error)) throw usageError(error.message);
        throw error;
      }
      if ('path' in parsed) output = parsed.path;
      else relay = parsed.relay;
    }
    if (values.output !== undefined) output = values.output as string;
    if (values['no-output'] || values['no-consumer']) {
      if (output !== undefined || relay !== undefined) throw usageError('--no-output cannot be used with --output');
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
      if (output !== undefined) throw usageError('Unsupported output type specified for live session.');
    }

    // Before the daemon (maybe spawned into $LTT_HOME/.ltt) creates anything: a home that cannot hold .lttrc is
    // refused here, so a failed create leaves no session behind.
    const rc = stageCurrentSession();
    let summary;
    try {
      const client = await ctx.control({ spawn: true });
      // As lttng: live to the default URL starts a relay daemon when none listens on 127.0.0.1:5344 (once a
      // session daemon answers: `-n` without one starts nothing).
      if (liveTimerUs !== undefined && relay === undefined) await ensureLocalRelay(ctx.options.relaydPath, (line) => ctx.out(line));
      summary = await client.request('create-session', {
        ...(name !== undefined ? { name } : {}),
        ...(output !== undefined ? { output } : relay !== undefined ? {} : { home: lttHome() }),
        ...(values.snapshot ? { snapshot: true } : {}),
        ...(liveTimerUs !== undefined ? { liveTimerUs } : {}),
        ...(relay !== undefined ? { relay } : {}),
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
