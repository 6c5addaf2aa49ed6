// The daemon's command table (lttng-sessiond's process_client_msg switch, as data). Each entry says what the
// command needs before its handler runs: a session (looked up by args.session and locked for the duration), a
// domain (args.domain checked; the kernel domain also needs kernel access; the agent domains only where rules are
// enabled and disabled). Handlers live one per file in
// commands/. A command missing here is answered with UND.

import { ControlError } from '../control/error-codes.js';
import { AGENT_DOMAINS, type CommandName, type Domain, type RuleDomain } from '../control/messages.js';
import { asArgs, oneOf, requiredString } from './command-args.js';
import { mayAccess, type DaemonContext } from './daemon-context.js';
import type { LockedSession, PeerCredentials } from './session.js';
import { addContext } from './commands/add-context.js';
import { clearSession } from './commands/clear-session.js';
import { createSession } from './commands/create-session.js';
import { daemonInfo } from './commands/daemon-info.js';
import { destroySession } from './commands/destroy-session.js';
import { disableChannel } from './commands/disable-channel.js';
import { disableEvent } from './commands/disable-event.js';
import { enableChannel } from './commands/enable-channel.js';
import { enableEvent } from './commands/enable-event.js';
import { getSession } from './commands/get-session.js';
import { listSessions } from './commands/list-sessions.js';
import { listSyscalls } from './commands/list-syscalls.js';
import { listTracepoints } from './commands/list-tracepoints.js';
import { regenerateStatedump } from './commands/regenerate-statedump.js';
import { regenerateMetadata } from './commands/regenerate-metadata.js';
import { rotateSession } from './commands/rotate-session.js';
import { disableRotation, enableRotation } from './commands/rotation-schedule.js';
import { snapshotAddOutput, snapshotDelOutput, snapshotListOutput, snapshotRecord } from './commands/snapshot.js';
import { startSession } from './commands/start-session.js';
import { stopSession } from './commands/stop-session.js';
import { track } from './commands/track.js';
import { untrack } from './commands/untrack.js';

type Handler =
  | { needsSession: false; needsDomain: false; run(ctx: DaemonContext, args: unknown): Promise<unknown> }
  | { needsSession: false; needsDomain: true; run(ctx: DaemonContext, args: unknown, domain: Domain): Promise<unknown> }
  | {
      needsSession: true;
      needsDomain: false;
      run(ctx: DaemonContext, args: unknown, session: LockedSession): Promise<unknown>;
    }
  | {
      needsSession: true;
      needsDomain: true;
      run(ctx: DaemonContext, args: unknown, session: LockedSession, domain: Domain): Promise<unknown>;
    }
  | {
      needsSession: true;
      needsDomain: 'rules';
      run(ctx: DaemonContext, args: unknown, session: LockedSession, domain: RuleDomain): Promise<unknown>;
    };

export const DISPATCH_TABLE: Record<CommandName, Handler> = {
  'daemon-info': { needsSession: false, needsDomain: false, run: daemonInfo },
  'create-session': { needsSession: false, needsDomain: false, run: createSession },
  'list-sessions': { needsSession: false, needsDomain: false, run: listSessions },
  'list-syscalls': { needsSession: false, needsDomain: false, run: listSyscalls },
  'list-tracepoints': { needsSession: false, needsDomain: true, run: listTracepoints },
  'destroy-session': { needsSession: true, needsDomain: false, run: destroySession },
  'start-session': { needsSession: true, needsDomain: false, run: startSession },
  'regenerate-statedump': { needsSession: true, needsDomain: false, run: regenerateStatedump },
  'regenerate-metadata': { needsSession: true, needsDomain: false, run: regenerateMetadata },
  'rotate-session': { needsSession: true, needsDomain: false, run: rotateSession },
  'clear-session': { needsSession: true, needsDomain: false, run: clearSession },
  'enable-rotation': { needsSession: true, needsDomain: false, run: enableRotation },
  'disable-rotation': { needsSession: true, needsDomain: false, run: disableRotation },
  'stop-session': { needsSession: true, needsDomain: false, run: stopSession },
  'get-session': { needsSession: true, needsDomain: false, run: getSession },
  'enable-channel': { needsSession: true, needsDomain: true, run: enableChannel },
  'disable-channel': { needsSession: true, needsDomain: true, run: disableChannel },
  'enable-event': { needsSession: true, needsDomain: 'rules', run: enableEvent },
  'disable-event': { needsSession: true, needsDomain: 'rules', run: disableEvent },
  'add-context': { needsSession: true, needsDomain: true, run: addContext },
  track: { needsSession: true, needsDomain: true, run: track },
  untrack: { needsSession: true, needsDomain: true, run: untrack },
  'snapshot-add-output': { needsSession: true, needsDomain: false, run: snapshotAddOutput },
  'snapshot-del-output': { needsSession: true, needsDomain: false, run: snapshotDelOutput },
  'snapshot-list-output': { needsSession: true, needsDomain: false, run: snapshotListOutput },
  'snapshot-record': { needsSession: true, needsDomain: false, run: snapshotRecord },
};

/**
 * Runs one request of `peer`: checks the needs of its table entry, then calls the handler. As lttng-sessiond's
 * session_access_ok(): root may use every session, anyone else only the sessions they created.
 */
export async function dispatch(daemon: DaemonContext, peer: PeerCredentials, command: string, rawArgs: unknown): Promise<unknown> {
  const ctx: DaemonContext = { ...daemon, peer };
  const handler = Object.hasOwn(DISPATCH_TABLE, command) ? DISPATCH_TABLE[command as CommandName] : undefined;
  if (!handler) throw new ControlError('UND', `Undefined command: ${JSON.stringify(command).slice(0, 80)}`);
  const args = asArgs(rawArgs);
  let domain: RuleDomain | undefined;
  if (handler.needsDomain) {
    domain = oneOf(args, 'domain', handler.needsDomain === 'rules' ? ['kernel', 'ust', ...AGENT_DOMAINS] : (['kernel', 'ust'] as const)) as RuleDomain;
    if (domain === 'kernel') ctx.kernel.check();
  }
  if (!handler.needsSession) {
    return handler.needsDomain ? await handler.run(ctx, args, domain as Domain) : await handler.run(ctx, args);
  }
  const name = requiredString(args, 'session');
  return await ctx.registry.withSession(name, (session) => {
    if (!mayAccess(peer, session)) throw new ControlError('EPERM', `Permission denied: session ${name} belongs to another user`);
    if (handler.needsDomain === 'rules') return handler.run(ctx, args, session, domain!);
    return handler.needsDomain ? handler.run(ctx, args, session, domain as Domain) : handler.run(ctx, args, session);
  });
}
