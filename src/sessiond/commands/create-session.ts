// `create-session`: registers a new recording session. Name rules and the default output follow LTTng: an
// absent name becomes auto-YYYYmmdd-HHMMSS, the default output is $LTT_HOME/ltt-traces/NAME-YYYYmmdd-HHMMSS
// (the client's LTT_HOME if it sends one; auto sessions do not repeat the date), `output: null` means no output.
// The client becomes the session's owner. Nothing touches the disk or the
// tracers until channels are created and the session starts.

import { isAbsolute, join } from 'node:path';
import { ControlError } from '../../control/error-codes.js';
import type { CommandResult } from '../../control/messages.js';
import { asArgs, hasControlCharacter, optionalBoolean, optionalInteger } from '../command-args.js';
import type { DaemonContext } from '../daemon-context.js';
import { Session } from '../session.js';
import { folderDateTime } from '../../ctf/writer/lttng-time-names.js';

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
  let outputPath: string;
  if (liveTimerUs > 0) {
    // Where LTTng's live sessions stream by default; ltt's relay daemon is a later milestone.
    outputPath = 'tcp4://127.0.0.1:5342/ [data: 5343]';
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
  // A snapshot session's output is its first snapshot output, snapshot-1 (LTTng's default output).
  if (snapshot && outputPath !== '') {
    session.snapshotOutputs.push({ id: 1, name: 'snapshot-1', path: outputPath, maxSize: 0 });
    session.nextSnapshotOutputId = 2;
  }
  ctx.registry.add(session);
  ctx.log(`Session ${name} created (output ${outputPath || 'none'})`);
  return session.summary();
}
