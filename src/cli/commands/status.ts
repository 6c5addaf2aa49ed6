// `ltt status`: `ltt list CURRENT_SESSION`.

import type { CommandSpec } from '../command-spec.js';
import { usageError } from '../cli-error.js';
import { listSession } from './list.js';

export const statusCommand: CommandSpec = {
  name: 'status',
  help: `Usage: ltt status

Show the current recording session like \`ltt list SESSION\` does.
`,
  options: {},
  async run(ctx, { positionals }) {
    if (positionals.length > 0) throw usageError(`Unknown argument: ${positionals[0]}`);
    return await listSession(ctx, ctx.session(undefined), undefined);
  },
};
