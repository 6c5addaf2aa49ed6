// `enable-event`: adds (or re-enables) one recording event rule in a channel. Channel choice is LTTng's: -c
// names it (created with defaults if missing), otherwise channel0 (created on first use; an error if other
// channels exist). The kernel `all` type (-a without --tracepoint/--syscall) becomes two rules, tracepoints
// and syscalls. An identical enabled rule is KERN_EVENT_EXIST / UST_EVENT_EXIST (a warning in the CLI); an
// identical disabled one is enabled again. What the tracer cannot do (no kprobes on this kernel, unknown
// tracepoint) comes back as the tracer's own one-line error.
// Agent domains (JUL, log4j, Python) as lttng-sessiond handles them: their rule is kept in the session, and the
// domain's user-space channel and rule (lttng_jul_channel, lttng_jul:* with the rule's filter) are enabled in
// the 'ust' domain (already there: fine). ltt apps have no agent, so no event ever matches the agent rule.

import { ControlError } from '../../control/error-codes.js';
import { AGENT_CHANNELS, isAgentDomain, type AgentDomain, type CommandResult, type Domain, type EventRuleInfo, type EventRuleSpec, type EventType, type RuleDomain } from '../../control/messages.js';
import { createChannel, defaultChannel } from '../channel-creation.js';
import { checkChannelName } from '../channel-defaults.js';
import { asArgs, oneOf, optionalString } from '../command-args.js';
import { domainTracer, type DaemonContext } from '../daemon-context.js';
import type { ChannelState, LockedSession } from '../session.js';

const EVENT_TYPES: readonly EventType[] = ['tracepoint', 'syscall', 'kprobe', 'function', 'uprobe', 'all'];

function parseRule(raw: unknown, domain: RuleDomain): EventRuleSpec {
  const args = asArgs(raw);
  const name = optionalString(args, 'name');
  if (!name || name.length > 255) throw new ControlError('INVALID_EVENT_NAME');
  const type = oneOf(args, 'type', EVENT_TYPES, 'tracepoint');
  if (domain !== 'kernel' && type !== 'tracepoint' && type !== 'all') {
    throw new ControlError('INVALID', `Invalid parameter: event type not available for ${domain === 'ust' ? 'user-space tracing' : 'agent domains'}`);
  }
  const rule: EventRuleSpec = { name, type: domain !== 'kernel' && type === 'all' ? 'tracepoint' : type };
  const filter = optionalString(args, 'filter');
  if (filter !== undefined) {
    if (type === 'kprobe' || type === 'function' || type === 'uprobe') {
      throw new ControlError('FILTER_INVAL', 'Invalid filter bytecode: filters apply to tracepoints and syscalls only');
    }
    rule.filter = filter;
  }
  const location = optionalString(args, 'location');
  if (type === 'kprobe' || type === 'function' || type === 'uprobe') {
    if (!location) throw new ControlError('INVALID', `Invalid parameter: a ${type} rule needs a location`);
    rule.location = location;
  }
  if (args.loglevel !== undefined && args.loglevel !== null) {
    if (domain === 'kernel') throw new ControlError('INVALID', 'Invalid parameter: kernel log levels are not supported');
    const loglevel = asArgs(args.loglevel);
    const level = loglevel.level;
    if (typeof level !== 'number' || !Number.isInteger(level)) {
      throw new ControlError('INVALID', 'Invalid parameter: loglevel.level must be an integer');
    }
    rule.loglevel = { type: oneOf(loglevel, 'type', ['range', 'single'] as const), level };
  }
  if (args.exclusions !== undefined && args.exclusions !== null) {
    if (domain !== 'ust') {
      throw new ControlError('INVALID', `Invalid parameter: event name exclusions are not supported for ${domain === 'kernel' ? 'kernel events' : 'agent domains'}`);
    }
    if (!Array.isArray(args.exclusions) || !args.exclusions.every((e) => typeof e === 'string' && e.length > 0)) {
      throw new ControlError('INVALID', 'Invalid parameter: exclusions must be a list of names');
    }
    if (args.exclusions.length > 0) rule.exclusions = args.exclusions as string[];
  }
  return rule;
}

function sameRule(a: EventRuleSpec, b: EventRuleSpec): boolean {
  return (
    a.name === b.name &&
    a.type === b.type &&
    a.filter === b.filter &&
    a.location === b.location &&
    a.loglevel?.type === b.loglevel?.type &&
    a.loglevel?.level === b.loglevel?.level &&
    (a.exclusions ?? []).join('\0') === (b.exclusions ?? []).join('\0')
  );
}

export async function enableEvent(
  ctx: DaemonContext,
  rawArgs: unknown,
  session: LockedSession,
  domain: RuleDomain,
): Promise<CommandResult<'enable-event'>> {
  const args = asArgs(rawArgs);
  const requested = parseRule(args.rule, domain);
  if (isAgentDomain(domain)) return await enableAgentEvent(ctx, session, domain, requested);
  const channelName = optionalString(args, 'channel');

  // Check every rule against the bookkeeping before creating anything, so a refused command changes nothing.
  const specs: EventRuleSpec[] =
    domain === 'kernel' && requested.type === 'all'
      ? requested.name === '*'
        ? [
            { ...requested, type: 'tracepoint' },
            { ...requested, type: 'syscall' },
          ]
        : [{ ...requested, type: 'tracepoint' }]
      : [requested];

  let channel: ChannelState;
  let channelCreated = false;
  const channels = session.domainState(domain).channels;
  if (channelName !== undefined) {
    checkChannelName(channelName);
    const existing = channels.get(channelName);
    if (existing) channel = existing;
    else {
      channel = await createChannel(ctx, session, domain, channelName, undefined);
      channelCreated = true;
    }
  } else {
    ({ channel, created: channelCreated } = await defaultChannel(ctx, session, domain));
  }

  const toEnable: EventRuleSpec[] = [];
  for (const spec of specs) {
    const existing = channel.events.find((rule) => sameRule(rule, spec));
    if (existing?.enabled) continue;
    toEnable.push(spec);
  }
  if (toEnable.length === 0) throw new ControlError(domain === 'kernel' ? 'KERN_EVENT_EXIST' : 'UST_EVENT_EXIST');

  const tracer = await domainTracer(ctx, session, domain);
  const matched: string[] = [];
  const rules: EventRuleInfo[] = [];
  for (const spec of toEnable) {
    const names = await tracer.enableEvent(channel.name, {
      name: spec.name,
      type: spec.type as 'tracepoint' | 'syscall' | 'kprobe' | 'function' | 'uprobe',
      ...(spec.location !== undefined ? { location: spec.location } : {}),
      ...(spec.filter !== undefined ? { filter: spec.filter } : {}),
      ...(spec.loglevel !== undefined ? { loglevel: spec.loglevel } : {}),
      ...(spec.exclusions !== undefined ? { exclusions: spec.exclusions } : {}),
    });
    if (Array.isArray(names)) matched.push(...names.filter((n) => typeof n === 'string'));
    const existing = channel.events.find((rule) => sameRule(rule, spec));
    if (existing) {
      existing.enabled = true;
      rules.push({ ...existing });
    } else {
      const rule: EventRuleInfo = { ...spec, enabled: true };
      channel.events.push(rule);
      rules.push({ ...rule });
    }
  }
  ctx.log(`Session ${session.name}: ${domain} rule ${requested.name} (${requested.type}) enabled in ${channel.name}`);
  return { channel: channel.name, channelCreated, rules, matched };
}

/** An agent domain's rule (its channel option is ignored, as lttng-sessiond ignores it). */
async function enableAgentEvent(ctx: DaemonContext, session: LockedSession, domain: AgentDomain, rule: EventRuleSpec): Promise<CommandResult<'enable-event'>> {
  const rules = session.agentRules.get(domain) ?? [];
  const existing = rules.find((r) => sameRule(r, rule));
  if (existing?.enabled) throw new ControlError('UST_EVENT_EXIST');
  const { channel, event } = AGENT_CHANNELS[domain];
  let channelCreated = false;
  try {
    const ustRule = { name: event, type: 'tracepoint', ...(rule.filter !== undefined ? { filter: rule.filter } : {}) };
    ({ channelCreated } = await enableEvent(ctx, { channel, rule: ustRule }, session, 'ust'));
  } catch (error) {
    if (!(error instanceof ControlError && error.code === 'UST_EVENT_EXIST')) throw error;
  }
  const enabled: EventRuleInfo = existing ?? { ...rule, enabled: true };
  enabled.enabled = true;
  if (!existing) rules.push(enabled);
  session.agentRules.set(domain, rules);
  ctx.log(`Session ${session.name}: ${domain} rule ${rule.name} enabled (no ${domain} agent: nothing will match)`);
  return { channel, channelCreated, rules: [{ ...enabled }], matched: [] };
}
