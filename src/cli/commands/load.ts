// `ltt load [-a] [-f] [-i PATH] [--override-url=URL] [SESSION [--override-name=NAME]]`: recreates sessions from
// saved configurations (ltt's or LTTng's NAME.lttng files: src/session-config) with the daemon's ordinary
// commands: create, channels, event rules, contexts, trackers, and start when the session was recording.
// Agent domains (JUL, log4j, Python) are loaded as lttng saves them; unknown domains are skipped with one warning; with SESSION, a file in PATH
// that cannot be read or parsed is skipped with a warning when SESSION is found in another one.
// PATH is a file or a folder; by default $LTT_HOME/.ltt/sessions, then $LTT_HOME/.lttng/sessions, then
// /etc/lttng/sessions. An existing session of the same name is an error, or is replaced with --force.

import { isAbsolute, resolve } from 'node:path';
import { lttHome } from '../../control/runtime-paths.js';
import { parseOutputUrls } from '../../relay/relay-url.js';
import { findSavedSessions, loadPlaces, recreateSession, skippedDomainsWarning, withOutput } from '../../session-config/saved-sessions.js';
import type { CommandSpec } from '../command-spec.js';
import { CliError, usageError } from '../cli-error.js';
import { stageCurrentSession } from '../current-session.js';
import { ExitCode } from '../exit-codes.js';
import { group, leaf } from '../output/mi-document.js';

export const loadCommand: CommandSpec = {
  name: 'load',
  help: `Usage: ltt load [--all] [--force] [--input-path=PATH] [--override-url=URL] [SESSION [--override-name=NAME]]

Create SESSION, or every session (--all, or no SESSION), from saved configurations (.lttng files, ltt's or
LTTng's) in PATH, a file or a folder (default: $LTT_HOME/.ltt/sessions, then $LTT_HOME/.lttng/sessions, then
/etc/lttng/sessions). A session that exists already is an error, or is replaced with --force.
--override-url=file://DIR (or DIR) writes the traces to DIR, --override-url=net://HOST[:CTRL[:DATA]] streams them
to that relay daemon; --override-name renames the one SESSION loaded.
`,
  options: {
    all: { type: 'boolean', short: 'a' },
    'input-path': { type: 'string', short: 'i' },
    force: { type: 'boolean', short: 'f' },
    'override-url': { type: 'string' },
    'override-name': { type: 'string' },
  },
  async run(ctx, { positionals, values }) {
    if (positionals.length > 1) throw usageError(`Unknown argument: ${positionals[1]}`);
    if (values.all && positionals.length > 0) throw usageError('--all cannot be used with a session name');
    const overrideName = values['override-name'] as string | undefined;
    if (overrideName !== undefined && positionals.length === 0) throw usageError('--override-name needs a session name');
    let overrideOutput: { path: string } | { url: string } | undefined;
    const url = values['override-url'] as string | undefined;
    if (url !== undefined) {
      if (/^[a-z0-9]+:\/\//.test(url) && !url.startsWith('file://')) {
        await parseOutputUrls(url);
        overrideOutput = { url };
      } else {
        const p = url.startsWith('file://') ? url.slice('file://'.length) : url;
        if (!isAbsolute(p)) throw usageError(`Unable to parse the URL ${url}`);
        // lttng keeps the overriding folder as a URL, listed with a trailing slash.
        overrideOutput = { path: p.endsWith('/') ? p : `${p}/` };
      }
    }
    const input = values['input-path'] as string | undefined;
    const places = input !== undefined ? [resolve(input)] : loadPlaces(lttHome());
    // The first place holding a session wins for it (ltt's own folder before LTTng's).
    const found = findSavedSessions(places, positionals.length > 0 ? { name: positionals[0]! } : {});
    let chosen = [...found.sessions.values()];
    if (positionals.length > 0) {
      const one = found.sessions.get(positionals[0]!);
      if (!one) throw new CliError('LOAD_SESSION_NOENT', `Session ${positionals[0]}: Session file not found`);
      chosen = [{ ...one, name: overrideName ?? one.name }];
    } else if (chosen.length === 0) {
      throw new CliError('LOAD_SESSION_NOENT', 'Session file not found');
    }
    if (overrideOutput !== undefined) chosen = chosen.map((s) => withOutput(s, overrideOutput!));
    for (const w of found.warnings) ctx.warn(w);
    const skipped = skippedDomainsWarning(chosen);
    if (skipped) ctx.warn(skipped);
    const rc = positionals.length > 0 ? stageCurrentSession() : undefined;
    const loaded: string[] = [];
    try {
      const client = await ctx.control({ spawn: true });
      for (const s of chosen) {
        await recreateSession(client, s, values.force === true);
        loaded.push(s.name);
      }
    } catch (err) {
      rc?.abandon();
      throw err;
    }
    ctx.miOutput = group('load', [
      group('session', [leaf('name', positionals[0] ?? '*')]),
      input !== undefined && leaf('path', input),
      group('overrides', [overrideName !== undefined && leaf('name', overrideName), url !== undefined && leaf('url', url)]),
    ]);
    if (rc) {
      rc.commit(loaded[0]!);
      ctx.out(`Session ${loaded[0]} has been loaded successfully`);
    } else ctx.out('All sessions have been loaded successfully');
    return ExitCode.SUCCESS;
  },
};
