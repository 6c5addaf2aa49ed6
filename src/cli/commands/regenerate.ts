// `ltt regenerate statedump [-s SESSION]`: a new state dump into the recording session's trace, as `lttng
// regenerate statedump`, and `ltt regenerate metadata`: the trace's metadata written again, as `lttng regenerate
// metadata` (recording, not live, user space per-UID).

import { ControlError } from '../../control/error-codes.js';
import type { CommandSpec } from '../command-spec.js';
import { CliError, usageError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { group, leaf } from '../output/mi-document.js';

export const regenerateCommand: CommandSpec = {
  name: 'regenerate',
  help: `Usage: ltt regenerate [--session=SESSION] metadata | statedump

metadata:  write the metadata of SESSION's trace again (SESSION must be recording, not live, and its
           user-space buffers per-UID).
statedump: record a new state dump (processes, threads, file descriptors, ...) in SESSION (default: the
           current session), which must be recording.
`,
  subcommands: ['metadata', 'statedump'],
  options: { session: { type: 'string', short: 's' }, 'list-options': { type: 'boolean' }, 'list-commands': { type: 'boolean' } },
  async run(ctx, { positionals, values }) {
    const what = positionals[0];
    if (what === undefined) throw usageError('No object specified for regenerate command.');
    ctx.miOutput = group('regenerate_action', [leaf('name', what)]);
    if (positionals.length > 1) throw usageError(`Unknown argument: ${positionals[1]}`);
    if (what !== 'statedump' && what !== 'metadata') throw usageError(`Unknown object to regenerate: ${what}`);
    const name = ctx.session(values.session as string | undefined);
    const client = await ctx.control();
    if (what === 'metadata') {
      try {
        await client.request('regenerate-metadata', { session: name });
      } catch (error) {
        if (error instanceof ControlError) throw new CliError(error.code, `Failed to regenerate metadata: ${error.message}`);
        throw error;
      }
      ctx.out(`Metadata successfully regenerated for session ${name}`);
      return ExitCode.SUCCESS;
    }
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
