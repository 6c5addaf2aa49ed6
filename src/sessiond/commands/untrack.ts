// `untrack`: removes values from a process-attribute inclusion set, or (`values: 'all'`) empties it so that
// nothing matches. Removing a value that is not in the set is PROCESS_ATTR_MISSING.

import { ControlError } from '../../control/error-codes.js';
import type { CommandResult, Domain } from '../../control/messages.js';
import type { DaemonContext } from '../daemon-context.js';
import type { LockedSession } from '../session.js';
import { applyTracker, trackerRequest } from './track.js';

export async function untrack(
  ctx: DaemonContext,
  rawArgs: unknown,
  session: LockedSession,
  domain: Domain,
): Promise<CommandResult<'untrack'>> {
  const request = trackerRequest(rawArgs, session, domain);
  const { tracker } = request;
  if (request.values !== 'all') {
    for (const value of request.values) {
      if (tracker.policy === 'all' || !tracker.values.includes(value)) throw new ControlError('PROCESS_ATTR_MISSING');
    }
  }
  await applyTracker(ctx, session, domain, request, 'untrack');
  if (request.values === 'all') {
    tracker.policy = 'set';
    tracker.values = [];
  } else {
    const removed = request.values;
    tracker.values = tracker.values.filter((value) => !removed.includes(value));
  }
  return { attribute: request.attribute, policy: tracker.policy, values: [...tracker.values] };
}
