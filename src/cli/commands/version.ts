// `ltt version`: the version and where ltt comes from (lttng prints its release name and blurb the same way).

import { LTT_VERSION } from '../../control/messages.js';
import type { CommandSpec } from '../command-spec.js';
import { ExitCode } from '../exit-codes.js';
import { group, leaf } from '../output/mi-document.js';

export const versionCommand: CommandSpec = {
  name: 'version',
  help: 'Usage: ltt version\n\nShow the version of ltt.\n',
  options: {},
  async run(ctx) {
    const [major, minor, patch] = LTT_VERSION.split('.').map(Number);
    ctx.miOutput = group('version', [
      leaf('string', LTT_VERSION),
      leaf('major', major!),
      leaf('minor', minor!),
      leaf('commit', ''),
      leaf('patchLevel', patch!),
      leaf('name', 'ltt'),
      leaf('description', 'The Linux Trace Toolkit rebuilt in TypeScript'),
      // ltt publishes no project page.
      leaf('url', ''),
      leaf('license', 'ltt is free software under the MIT license'),
    ]);
    ctx.out(`ltt version ${LTT_VERSION}`);
    ctx.out('');
    ctx.out('The Linux Trace Toolkit rebuilt in TypeScript: LTTng\'s vocabulary, tracefs and Node.js tracers, CTF 1.8');
    ctx.out('traces, and a babeltrace2-compatible viewer.');
    ctx.out('');
    ctx.out('ltt is free software under the MIT license');
    return ExitCode.SUCCESS;
  },
};
