// Loading saved sessions (NAME.lttng files, session-xml.ts) into a daemon through its ordinary commands: what
// `ltt load` does and what ltt-sessiond does at start (--load PATH, or the autoload folders), one code path.
//
// Contract: findSavedSessions(places, {name}) reads the files of each place (a file, or a folder's *.lttng) and
// returns the sessions found, the first place holding a name winning. A file that cannot be read or parsed
// fails the search, except when a NAME is wanted and found elsewhere: an unrelated file never fails a load
// (its problem is then a warning). recreateSession() creates one session and everything in it, and destroys
// it again if any step fails. skippedDomainsWarning() is the one line saying which non-empty domains of
// unknown types were left out.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlClient } from '../control/client.js';
import { ControlError } from '../control/error-codes.js';
import { isAgentDomain, type Domain } from '../control/messages.js';
import { LttError } from '../errors.js';
import { parseSessions, type SavedSession } from './session-xml.js';
import { parseOutputUrls } from '../relay/relay-url.js';

/** Where `save` writes and `load` looks first: $LTT_HOME/.ltt/sessions (LTTng: $LTTNG_HOME/.lttng/sessions). */
export function savedSessionsDir(home: string): string {
  return join(home, '.ltt', 'sessions');
}

/** Where `load` looks without -i: ltt's folder, then LTTng's, then LTTng's system folder. */
export function loadPlaces(home: string): string[] {
  return [savedSessionsDir(home), join(home, '.lttng', 'sessions'), '/etc/lttng/sessions'];
}

/** The system's autoload folder (lttng-sessiond's is /etc/lttng/sessions/auto: ltt does not take those). */
export const SYSTEM_AUTOLOAD_DIR = '/etc/ltt/sessions/auto';

/**
 * What a daemon loads at start without --load: the auto/ folders of ltt's and LTTng's saved sessions in its
 * home, then the system's. As lttng-sessiond, a daemon not run by root skips a folder some other user owns.
 */
export function autoloadPlaces(home: string): string[] {
  const uid = process.getuid?.() ?? 0;
  return [join(savedSessionsDir(home), 'auto'), join(home, '.lttng', 'sessions', 'auto'), SYSTEM_AUTOLOAD_DIR].filter((dir) => {
    if (uid === 0) return true;
    try {
      return statSync(dir).uid === uid;
    } catch {
      return true;
    }
  });
}

export interface SavedSessions {
  /** By name, in the order found. */
  readonly sessions: Map<string, SavedSession>;
  /** One line per file that could not be used (only when it did not matter: see the contract). */
  readonly warnings: string[];
}

/** The .lttng files of a place (itself when it is a file); none when it does not exist. */
function filesOf(place: string): string[] {
  try {
    return statSync(place).isDirectory()
      ? readdirSync(place).filter((f) => f.endsWith('.lttng')).sort().map((f) => join(place, f))
      : [place];
  } catch {
    return [];
  }
}

function readFile(file: string): SavedSession[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new LttError('LOAD_IO_FAIL', `Cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return parseSessions(text);
  } catch (error) {
    throw new LttError('LOAD_INVALID_CONFIG', `Invalid session configuration ${file}: ${(error as Error).message}`);
  }
}

export function findSavedSessions(places: readonly string[], want: { name?: string } = {}): SavedSessions {
  const sessions = new Map<string, SavedSession>();
  const problems: LttError[] = [];
  for (const place of places) {
    for (const file of filesOf(place)) {
      let found: SavedSession[];
      try {
        found = readFile(file);
      } catch (error) {
        if (!(error instanceof LttError)) throw error;
        problems.push(error);
        continue;
      }
      for (const s of found) if (!sessions.has(s.name)) sessions.set(s.name, s);
    }
  }
  const first = problems[0];
  if (first !== undefined && (want.name === undefined || !sessions.has(want.name))) throw first;
  return { sessions, warnings: problems.map((p) => `${p.message} (skipped)`) };
}

/** "Skipped what ltt does not trace: session s1: JUL, PYTHON; ..." or undefined when nothing was. */
export function skippedDomainsWarning(sessions: readonly SavedSession[]): string | undefined {
  const parts = sessions.filter((s) => s.skippedDomains.length > 0).map((s) => `session ${s.name}: ${s.skippedDomains.join(', ')}`);
  return parts.length > 0 ? `Skipped the domains ltt does not trace: ${parts.join('; ')}` : undefined;
}

/**
 * The session with its trace output replaced (LTTng's --override-url; a snapshot session's outputs too): a local
 * folder, or a relay's URL (net://HOST[:CTRL[:DATA]], its control and data URIs as a saved network output).
 */
export function withOutput(s: SavedSession, override: { path: string } | { url: string }): SavedSession {
  const { netOutput: _replaced, ...local } = s;
  if ('url' in override) {
    const netOutput = { control: override.url, data: '' };
    return {
      ...local,
      output: null,
      netOutput,
      ...(s.snapshotOutputs ? { snapshotOutputs: s.snapshotOutputs.map((o) => ({ ...o, path: '', netOutput })) } : {}),
    };
  }
  if (s.liveTimerUs > 0) {
    throw new LttError('INVALID', `Session ${s.name}: a live session needs a network output, not ${override.path}`);
  }
  return {
    ...local,
    output: override.path,
    ...(s.snapshotOutputs ? { snapshotOutputs: s.snapshotOutputs.map(({ netOutput: _net, ...o }) => ({ ...o, path: override.path })) } : {}),
  };
}

/** Creates the saved session (replacing one of the same name when `force`); nothing stays behind on failure. */
export async function recreateSession(client: ControlClient, s: SavedSession, force: boolean): Promise<void> {
  const exists = (await client.request('list-sessions', {})).some((x) => x.name === s.name);
  if (exists) {
    if (!force) throw new LttError('EXIST_SESS', `Session ${s.name}: Session name already exists`);
    await client.request('destroy-session', { session: s.name });
  }
  const net = s.netOutput && !s.snapshotOutputs ? await parseOutputUrls(s.netOutput.control, s.netOutput.data) : undefined;
  await client.request('create-session', {
    name: s.name,
    // Saved snapshot outputs are added below, with their names and sizes.
    ...(net && 'relay' in net ? { relay: net.relay } : { output: s.snapshotOutputs ? null : net?.path ?? s.output }),
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
      // A network output: its saved URIs parsed as create's (-C/-D).
      const parsed = o.netOutput ? await parseOutputUrls(o.netOutput.control, o.netOutput.data) : undefined;
      const relay = parsed && 'relay' in parsed ? { relay: parsed.relay } : {};
      const url = o.netOutput ? o.netOutput.control : o.path;
      await client.request('snapshot-add-output', { session: s.name, url, ...relay, ...(o.name ? { name: o.name } : {}), maxSize: o.maxSize });
    }
    for (const d of s.domains) {
      const base = { session: s.name, domain: d.domain };
      // An agent domain's channel is the user-space channel its rules feed (lttng_jul_channel, ...); its rules
      // are the agent domain's, named without a channel.
      const agent = isAgentDomain(d.domain);
      const domain: Domain = isAgentDomain(d.domain) ? 'ust' : d.domain;
      for (const c of d.channels) {
        const channel = { session: s.name, domain, channel: c.name };
        // An agent domain's buffer type is its user-space channel's, which the user-space domain decides.
        await client.request('enable-channel', { ...channel, attributes: c.attributes, ...(!agent && d.buffers ? { buffers: d.buffers } : {}) });
        const at = agent ? base : { ...base, channel: c.name };
        const rules = c.events.map(({ enabled: _enabled, ...rule }) => rule);
        for (const rule of rules) await client.request('enable-event', { ...at, rule });
        // Disabling goes by name: two rules of one name differing in log level or filter could not keep
        // different states. As lttng's session-config.c: all disabled, then the enabled ones enabled again.
        if (c.events.some((e) => !e.enabled)) {
          await client.request('disable-event', { ...at, name: '*', all: true });
          for (const [i, rule] of rules.entries()) {
            if (c.events[i]!.enabled) await client.request('enable-event', { ...at, rule });
          }
        }
        for (const context of c.contexts) await client.request('add-context', { ...channel, context });
        if (!c.enabled) await client.request('disable-channel', channel);
      }
      for (const t of d.trackers) {
        if (t.values.length === 0) await client.request('untrack', { session: s.name, domain, attribute: t.attribute, values: 'all' });
        else await client.request('track', { session: s.name, domain, attribute: t.attribute, values: t.values });
      }
    }
    if (s.started) await client.request('start-session', { session: s.name });
  } catch (error) {
    await client.request('destroy-session', { session: s.name }).catch(() => undefined);
    if (error instanceof ControlError) throw new LttError(error.code, `Session ${s.name}: ${error.message}`);
    throw error;
  }
}
