// `ltt load [-a] [-f] [-i PATH] [--override-url=URL] [SESSION [--override-name=NAME]]`: recreates sessions from
// saved configurations (ltt's or LTTng's NAME.lttng files: src/cli/session-config.ts) with the daemon's ordinary
// commands: create, channels, event rules, contexts, trackers, and start when the session was recording.
// PATH is a file or a folder; by default $LTT_HOME/.ltt/sessions, then $LTT_HOME/.lttng/sessions, then
// /etc/lttng/sessions. An existing session of the same name is an error, or is replaced with --force.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ControlError } from '../../control/error-codes.js';
import { lttHome } from '../../control/runtime-paths.js';
import type { ControlClient } from '../../control/client.js';
import type { CommandSpec } from '../command-spec.js';
import { CliError, usageError } from '../cli-error.js';
import { stageCurrentSession } from '../current-session.js';
import { ExitCode } from '../exit-codes.js';
import { parseSessions, type SavedSession } from '../session-config.js';
import { savedSessionsDir } from './save.js';
import { group, leaf } from '../output/mi-document.js';

/** The saved sessions under `path` (a .lttng file, or every .lttng file of a folder), with their files. */
function readSaved(path: string): Array<{ file: string; session: SavedSession }> {
  let files: string[];
  try {
    files = statSync(path).isDirectory()
      ? readdirSync(path).filter((f) => f.endsWith('.lttng')).sort().map((f) => join(path, f))
      : [path];
  } catch {
    return [];
  }
  return files.flatMap((file) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new CliError('LOAD_IO_FAIL', `Cannot read ${file}: ${(error as Error).message}`);
    }
    try {
      return parseSessions(text).map((session) => ({ file, session }));
    } catch (error) {
      throw new CliError('LOAD_INVALID_CONFIG', `Invalid session configuration ${file}: ${(error as Error).message}`);
    }
  });
}

async function recreate(client: ControlClient, s: SavedSession, force: boolean): Promise<void> {
  const exists = (await client.request('list-sessions', {})).some((x) => x.name === s.name);
  if (exists) {
    if (!force) throw new CliError('EXIST_SESS', `Session ${s.name}: Session name already exists`);
    await client.request('destroy-session', { session: s.name });
  }
  await client.request('create-session', {
    name: s.name,
    // Saved snapshot outputs are added below, with their names and sizes.
    output: s.snapshotOutputs ? null : s.output,
    ...(s.snapshot ? { snapshot: true } : {}),
    ...(s.liveTimerUs > 0 ? { liveTimerUs: s.liveTimerUs } : {}),
  });
  try {
    if (s.rotationTimerUs || s.rotationSizeBytes) {
      await client.request('enable-rotation', {
        session: s.name,
        ...(s.rotationTimerUs ? { timerUs: s.rotationTimerUs } : {}),
        ...(s.rotationSizeBytes ? { sizeBytes: s.rotationSizeBytes } : {}),
      });
    }
    for (const o of s.snapshotOutputs ?? []) {
      await client.request('snapshot-add-output', { session: s.name, url: o.path, ...(o.name ? { name: o.name } : {}), maxSize: o.maxSize });
    }
    for (const d of s.domains) {
      const base = { session: s.name, domain: d.domain };
      for (const c of d.channels) {
        await client.request('enable-channel', { ...base, channel: c.name, attributes: c.attributes });
        for (const e of c.events) {
          const { enabled, ...rule } = e;
          await client.request('enable-event', { ...base, channel: c.name, rule });
          if (!enabled) await client.request('disable-event', { ...base, channel: c.name, name: e.name, type: e.type });
        }
        for (const context of c.contexts) await client.request('add-context', { ...base, channel: c.name, context });
        if (!c.enabled) await client.request('disable-channel', { ...base, channel: c.name });
      }
      for (const t of d.trackers) {
        if (t.values.length === 0) await client.request('untrack', { ...base, attribute: t.attribute, values: 'all' });
        else await client.request('track', { ...base, attribute: t.attribute, values: t.values });
      }
    }
    if (s.started) await client.request('start-session', { session: s.name });
  } catch (error) {
    // No half-loaded session stays behind.
    await client.request('destroy-session', { session: s.name }).catch(() => undefined);
    if (error instanceof ControlError) throw new CliError(error.code, `Session ${s.name}: ${error.message}`);
    throw error;
  }
}

export const loadCommand: CommandSpec = {
  name: 'load',
  summary: 'Load recording session configurations',
  help: `Usage: ltt load [--all] [--force] [--input-path=PATH] [--override-url=URL] [SESSION [--override-name=NAME]]

Create SESSION, or every session (--all, or no SESSION), from saved configurations (.lttng files, ltt's or
LTTng's) in PATH, a file or a folder (default: $LTT_HOME/.ltt/sessions, then $LTT_HOME/.lttng/sessions, then
/etc/lttng/sessions). A session that exists already is an error, or is replaced with --force.
--override-url=file://DIR (or DIR) writes the traces to DIR; --override-name renames the one SESSION loaded.
`,
  options: {
    all: { type: 'boolean', short: 'a' },
    force: { type: 'boolean', short: 'f' },
    'input-path': { type: 'string', short: 'i' },
    'override-url': { type: 'string' },
    'override-name': { type: 'string' },
  },
  async run(ctx, { positionals, values }) {
    if (positionals.length > 1) throw usageError(`Unknown argument: ${positionals[1]}`);
    if (values.all && positionals.length > 0) throw usageError('--all cannot be used with a session name');
    const overrideName = values['override-name'] as string | undefined;
    if (overrideName !== undefined && positionals.length === 0) throw usageError('--override-name needs a session name');
    let overrideOutput: string | undefined;
    const url = values['override-url'] as string | undefined;
    if (url !== undefined) {
      if (/^(net|net6|tcp|tcp6):\/\//.test(url)) throw usageError(`Network streaming URLs are not supported by ltt yet: ${url}`);
      const p = url.startsWith('file://') ? url.slice('file://'.length) : url;
      if (!isAbsolute(p)) throw usageError(`Unable to parse the URL ${url}`);
      overrideOutput = p;
    }
    const input = values['input-path'] as string | undefined;
    const places = input !== undefined ? [resolve(input)] : [savedSessionsDir(), join(lttHome(), '.lttng', 'sessions'), '/etc/lttng/sessions'];
    // The first place holding a session wins for it (ltt's own folder before LTTng's).
    const found = new Map<string, SavedSession>();
    for (const place of places) {
      for (const { session } of readSaved(place)) if (!found.has(session.name)) found.set(session.name, session);
    }
    let chosen = [...found.values()];
    if (positionals.length > 0) {
      const one = found.get(positionals[0]!);
      if (!one) throw new CliError('LOAD_SESSION_NOENT', `Session ${positionals[0]}: Session file not found`);
      chosen = [{ ...one, name: overrideName ?? one.name }];
    } else if (chosen.length === 0) {
      throw new CliError('LOAD_SESSION_NOENT', 'Session file not found');
    }
    const rc = positionals.length > 0 ? stageCurrentSession() : undefined;
    const loaded: string[] = [];
    try {
      const client = await ctx.control({ spawn: true });
      for (const s of chosen) {
        await recreate(client, overrideOutput !== undefined ? { ...s, output: overrideOutput } : s, values.force === true);
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
