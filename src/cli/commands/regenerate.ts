// `ltt regenerate statedump [-s SESSION]`: a new state dump into the recording session's trace, as `lttng
// regenerate statedump`. `regenerate metadata` is refused with one line: ltt writes a trace's metadata once.

import { ControlError } from '../../control/error-codes.js';
import type { CommandSpec } from '../command-spec.js';
import { CliError, usageError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { group, leaf } from '../output/mi-document.js';

export const regenerateCommand: CommandSpec = {
  name: 'regenerate',
  summary: 'Regenerate specific recording session data',
  help: `Usage: ltt regenerate [--session=SESSION] statedump

Record a new state dump (processes, threads, file descriptors, ...) in SESSION (default: the current
session), which must be recording. (lttng's \`regenerate metadata\` is not supported.)
`,
  subcommands: ['metadata', 'statedump'],
  options: { session: { type: 'string', short: 's' }, 'list-options': { type: 'boolean' }, 'list-commands': { type: 'boolean' } },
  async run(ctx, { positionals, values }) {
    const what = positionals[0];
    if (what === undefined) throw usageError('No object specified for regenerate command.');
    ctx.miOutput = group('regenerate_action', [leaf('name', what)]);
    if (positionals.length > 1) throw usageError(`Unknown argument: ${positionals[1]}`);
    if (what === 'metadata') throw new CliError('NOT_SUPPORTED', 'Failed to regenerate metadata: Operation not supported by ltt');
    if (what !== 'statedump') throw usageError(`Unknown object to regenerate: ${what}`);
    const name = ctx.session(values.session as string | undefined);
    const client = await ctx.control();
    try {
      await client.request('regenerate-statedump', { session: name });
    } catch (error) {
      if (error instanceof ControlError) throw new CliError(error.code, `Failed to regenerate the state dump: ${error.message}`);
      throw error;
    }
    ctx.out(`State dump successfully regenerated for session ${name}`);
    return ExitCode.SUCCESS;
  },
};
