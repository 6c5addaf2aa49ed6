// `create-session`: registers a new recording session. Name rules and the default output follow LTTng: an
// absent name becomes auto-YYYYmmdd-HHMMSS, the default output is $LTT_HOME/ltt-traces/NAME-YYYYmmdd-HHMMSS
// (the client's LTT_HOME if it sends one; auto sessions do not repeat the date), `output: null` means no output.
// The client becomes the session's owner. Nothing touches the disk or the
// tracers until channels are created and the session starts.

import { isIP } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { ControlError } from '../../control/error-codes.js';
import type { CommandResult } from '../../control/messages.js';
import { asArgs, hasControlCharacter, optionalBoolean, optionalInteger } from '../command-args.js';
import type { DaemonContext } from '../daemon-context.js';
import { Session } from '../session.js';
import { folderDateTime } from '../../ctf/writer/lttng-time-names.js';
import type { RelayTarget } from '../../control/messages.js';
import { DEFAULT_LIVE_TARGET, relayOutputText, relayUris } from '../../relay/relay-url.js';
import { RelayOutput } from '../relay-output.js';

/** A relay target from the wire: checked field by field (the CLI parsed the URL; a raw peer may not have). */
export function checkRelayTarget(value: unknown): RelayTarget {
  const t = value as Partial<RelayTarget> | null;
  const port = (p: unknown): boolean => Number.isInteger(p) && (p as number) > 0 && (p as number) <= 0xffff;
  if (
    typeof t !== 'object' || t === null || (t.family !== 4 && t.family !== 6) || typeof t.host !== 'string' || isIP(t.host) !== t.family ||
    !port(t.controlPort) || !port(t.dataPort) || typeof t.subdir !== 'string' || hasControlCharacter(t.subdir)
  ) {
    throw new ControlError('INVALID', 'Invalid parameter: relay must be { family, host (an address), controlPort, dataPort, subdir }');
  }
  return { family: t.family, host: t.host, controlPort: t.controlPort!, dataPort: t.dataPort!, subdir: t.subdir };
}

export async function createSession(ctx: DaemonContext, rawArgs: unknown): Promise<CommandResult<'create-session'>> {
  const args = asArgs(rawArgs);
  const now = new Date();
  const suffix = folderDateTime(now);
  let name: string;
  let auto = false;
  if (args.name === undefined || args.name === null) {
    name = `auto-${suffix}`;
    auto = true;
  } else if (typeof args.name === 'string') {
    name = args.name;
  } else {
    throw new ControlError('INVALID', 'Invalid parameter: name must be a string');
  }
  if (name.length === 0 || name.length > 255 || name.includes('/') || name === '.' || name === '..' || hasControlCharacter(name)) {
    throw new ControlError('SESSION_INVALID_CHAR');
  }
  if (ctx.registry.has(name)) throw new ControlError('EXIST_SESS');

  const snapshot = optionalBoolean(args, 'snapshot');
  const liveTimerUs = optionalInteger(args, 'liveTimerUs') ?? 0;
  if (snapshot && liveTimerUs > 0) {
    throw new ControlError('INVALID', 'Invalid parameter: snapshot and live modes are mutually exclusive');
  }
  const relayTarget = args.relay === undefined ? (liveTimerUs > 0 ? DEFAULT_LIVE_TARGET : undefined) : checkRelayTarget(args.relay);
  // A snapshot session's relay is its snapshot output's (snapshot-1): nothing streams until a snapshot.
  const relay = relayTarget && !snapshot ? new RelayOutput(relayTarget, name, liveTimerUs, now, auto) : undefined;
  let outputPath: string;
  if (relayTarget !== undefined) {
    outputPath = relayOutputText(relayTarget);
  } else if (args.output === null) {
    outputPath = '';
  } else if (args.output === undefined) {
    // The client's $LTT_HOME when it says (a tracing-group user of root's daemon wants its own home, as the
    // lttng client builds the default URL itself); the directory is created as the session's owner anyway.
    const home = typeof args.home === 'string' && isAbsolute(args.home) ? args.home : ctx.home;
    outputPath = join(home, 'ltt-traces', auto ? name : `${name}-${suffix}`);
  } else if (typeof args.output === 'string' && isAbsolute(args.output)) {
    outputPath = args.output;
  } else {
    throw new ControlError('INVALID', 'Invalid parameter: output must be an absolute path');
  }

  const session = new Session(name, outputPath, snapshot, liveTimerUs, now, ctx.peer);
  session.relay = relay;
  // A snapshot session's output is its first snapshot output, snapshot-1 (LTTng's default output).
  if (snapshot && outputPath !== '') {
    session.snapshotOutputs.push({ id: 1, name: 'snapshot-1', path: relayTarget ? relayUris(relayTarget).control : outputPath, maxSize: 0, ...(relayTarget ? { relay: relayTarget } : {}) });
    session.nextSnapshotOutputId = 2;
  }
  ctx.registry.add(session);
  ctx.log(`Session ${name} created (output ${outputPath || 'none'})`);
  return session.summary();
}
