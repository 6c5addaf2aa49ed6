// `ltt save [-a] [-f] [-o DIR] [SESSION]`: writes sessions' configurations as LTTng does (NAME.lttng, the XML of
// src/session-config/session-xml.ts), by default into $LTT_HOME/.ltt/sessions/. No SESSION (or -a): every session.

import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { lttHome } from '../../control/runtime-paths.js';
import { savedSessionsDir } from '../../session-config/saved-sessions.js';
import type { CommandSpec } from '../command-spec.js';
import { CliError, usageError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { sessionXml } from '../../session-config/session-xml.js';
import { makeDirectories } from '../../make-directories.js';
import { group, leaf } from '../output/mi-document.js';

export const saveCommand: CommandSpec = {
  name: 'save',
  help: `Usage: ltt save [--all] [--force] [--output-path=DIR] [SESSION]

Save the configuration of SESSION, or of every session (--all, or no SESSION), as SESSION.lttng (LTTng's
session XML) in DIR (default: $LTT_HOME/.ltt/sessions). An existing file is replaced only with --force.
`,
  options: {
    all: { type: 'boolean', short: 'a' },
    'output-path': { type: 'string', short: 'o' },
    force: { type: 'boolean', short: 'f' },
  },
  async run(ctx, { positionals, values }) {
    if (positionals.length > 1) throw usageError(`Unknown argument: ${positionals[1]}`);
    if (values.all && positionals.length > 0) throw usageError('--all cannot be used with a session name');
    const given = values['output-path'] as string | undefined;
    if (given === '') throw usageError('The output path cannot be empty');
    const dir = given !== undefined ? resolve(given) : savedSessionsDir(lttHome());
    // lttng's document names the session, or * for all, and the folder, whatever the outcome.
    ctx.miOutput = group('save', [group('session', [leaf('name', positionals[0] ?? '*')]), leaf('path', dir)]);
    const client = await ctx.control();
    const names = positionals.length > 0 ? [positionals[0]!] : (await client.request('list-sessions', {})).map((s) => s.name);
    for (const name of names) {
      const detail = await client.request('get-session', { session: name });
      const file = join(dir, `${name}.lttng`);
      if (existsSync(file) && !values.force) throw new CliError('SAVE_FILE_EXIST', `Session ${name}: Session file already exists`);
      try {
        makeDirectories(dir);
        // Whole or not at all: a reader never sees half a file.
        writeFileSync(`${file}.tmp-${process.pid}`, sessionXml(detail));
        renameSync(`${file}.tmp-${process.pid}`, file);
      } catch (error) {
        throw new CliError('SAVE_IO_FAIL', `Session ${name}: cannot write ${file}: ${(error as Error).message}`);
      }
      if (positionals.length > 0) ctx.out(given !== undefined ? `Session ${name} saved successfully in ${dir}.` : `Session ${name} saved successfully.`);
    }
    if (positionals.length === 0) ctx.out(given !== undefined ? `All sessions have been saved successfully in ${dir}.` : 'All sessions have been saved successfully.');
    return ExitCode.SUCCESS;
  },
};
