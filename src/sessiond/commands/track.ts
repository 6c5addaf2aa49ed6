// `track`: adds values to a process-attribute inclusion set, or (`values: 'all'`) makes the set "all"
// again. The first value tracked on an "all" set replaces it by that value alone (LTTng semantics). A value
// already in the set is PROCESS_ATTR_EXISTS. The kernel has pid/vpid/uid/vuid/gid/vgid, user space only the
// virtual three.

import { ControlError } from '../../control/error-codes.js';
import type { CommandResult, Domain, ProcessAttribute } from '../../control/messages.js';
import { asArgs, oneOf } from '../command-args.js';
import { domainTracer, type DaemonContext } from '../daemon-context.js';
import { KERNEL_TRACKERS, UST_TRACKERS, type LockedSession, type TrackerState } from '../session.js';
import { checkTrackerValue, resolveTrackerValues } from '../tracker-values.js';

export interface TrackerRequest {
  attribute: ProcessAttribute;
  values: Array<number | string> | 'all';
  tracker: TrackerState;
}

/** Validates the attribute/values of a track or untrack request against the domain. */
export function trackerRequest(rawArgs: unknown, session: LockedSession, domain: Domain): TrackerRequest {
  const args = asArgs(rawArgs);
  const attribute = oneOf(args, 'attribute', KERNEL_TRACKERS);
  if (!(domain === 'kernel' ? KERNEL_TRACKERS : UST_TRACKERS).includes(attribute)) {
    throw new ControlError(
      'UNSUPPORTED_DOMAIN',
      `Unsupported domain used: the ${attribute} tracker exists only in the kernel domain`,
    );
  }
  if (domain === 'kernel' && attribute.startsWith('v')) {
    // The tracefs kernel domain filters on real IDs only (KernelSession tracks pid, uid and gid).
    throw new ControlError(
      'NOT_SUPPORTED',
      `Operation not supported: the kernel domain tracks --pid, --uid and --gid, not --${attribute}`,
    );
  }
  let values: Array<number | string> | 'all';
  if (args.values === 'all') values = 'all';
  else if (Array.isArray(args.values) && args.values.length > 0) {
    values = args.values.map((value) => checkTrackerValue(attribute, value));
  } else throw new ControlError('INVALID', 'Invalid parameter: values must be a non-empty list or "all"');
  return { attribute, values, tracker: session.domainState(domain).trackers.get(attribute)! };
}

/** Applies the new set to the tracer only when one exists; otherwise it is replayed when the tracer is made. */
export async function applyTracker(
  ctx: DaemonContext,
  session: LockedSession,
  domain: Domain,
  request: TrackerRequest,
  operation: 'track' | 'untrack',
): Promise<void> {
  const tracer = session.domainState(domain).tracer ?? (await domainTracer(ctx, session, domain));
  const values = request.values === 'all' ? 'all' : resolveTrackerValues(request.attribute, request.values);
  await tracer[operation](request.attribute, values);
}

export async function track(
  ctx: DaemonContext,
  rawArgs: unknown,
  session: LockedSession,
  domain: Domain,
): Promise<CommandResult<'track'>> {
  const request = trackerRequest(rawArgs, session, domain);
  const { tracker } = request;
  if (request.values !== 'all') {
    const current = tracker.policy === 'all' ? [] : tracker.values;
    for (const value of request.values) {
      if (current.includes(value)) throw new ControlError('PROCESS_ATTR_EXISTS');
    }
  }
  await applyTracker(ctx, session, domain, request, 'track');
  if (request.values === 'all') {
    tracker.policy = 'all';
    tracker.values = [];
  } else {
    if (tracker.policy === 'all') tracker.values = [];
    tracker.policy = 'set';
    tracker.values.push(...request.values);
  }
  return { attribute: request.attribute, policy: tracker.policy, values: [...tracker.values] };
}
