// `ltt enable-channel (-k|-u) [-s SESSION] [attributes] CHANNEL[,CHANNEL...]`: creates channels with the given
// attributes over the domain defaults (kernel 4 x 1 MiB, splice, 200 ms read timer; user space 4 x 512 KiB),
// or re-enables disabled ones. Sizes and counts are rounded up to powers of two with lttng's warnings.

import { ControlError, oneLine } from '../../control/error-codes.js';
import type { ChannelAttributes } from '../../control/messages.js';
import type { CommandSpec } from '../command-spec.js';
import { usageError } from '../cli-error.js';
import { domainFrom, domainOptions, domainLabel, splitNameList } from '../domain-option.js';
import { ExitCode } from '../exit-codes.js';
import { channelNode, successNode } from '../output/mi-model.js';
import { array, group, leaf, type MiNode, withChild } from '../output/mi-document.js';
import { nextPowerOfTwo, parseCount, parseSize } from '../size-option.js';

export const enableChannelCommand: CommandSpec = {
  name: 'enable-channel',
  help: `Usage: ltt enable-channel (-k | -u) [-s SESSION] [--discard | --overwrite] [--output=(mmap | splice)]
                          [--subbuf-size=SIZE] [--num-subbuf=COUNT] [--switch-timer=PERIODUS]
                          [--read-timer=PERIODUS] [--monitor-timer=PERIODUS] [--blocking-timeout=TIMEOUTUS]
                          [--tracefile-size=SIZE [--tracefile-count=COUNT]] CHANNEL[,CHANNEL...]

Create channels (or enable disabled ones) in SESSION (default: the current session). Channels cannot be
created once the session has been started. SIZE accepts k, M and G suffixes.
`,
  options: {
    session: { type: 'string', short: 's' },
    ...domainOptions('kernel', 'userspace'),
    discard: { type: 'boolean' },
    overwrite: { type: 'boolean' },
    'subbuf-size': { type: 'string' },
    'num-subbuf': { type: 'string' },
    'switch-timer': { type: 'string' },
    'monitor-timer': { type: 'string' },
    'read-timer': { type: 'string' },
    'list-options': { type: 'boolean' },
    output: { type: 'string' },
    'buffers-uid': { type: 'boolean' },
    'buffers-pid': { type: 'boolean' },
    'buffers-global': { type: 'boolean' },
    'tracefile-size': { type: 'string', short: 'C' },
    'tracefile-count': { type: 'string', short: 'W' },
    'blocking-timeout': { type: 'string' },
  },
  async run(ctx, { values, positionals, order }) {
    const domain = domainFrom(values);
    if (positionals.length === 0) throw usageError('Missing channel name.');
    if (positionals.length > 1) throw usageError(`Unknown argument: ${positionals[1]}`);
    const attributes: Partial<ChannelAttributes> = {};
    // Like lttng (popt), the last of --discard / --overwrite wins.
    const lossMode = (order ?? []).filter((o) => o === 'discard' || o === 'overwrite').pop();
    if (lossMode !== undefined) attributes.overwrite = lossMode === 'overwrite';
    if (values.output !== undefined) {
      if (values.output !== 'mmap' && values.output !== 'splice') throw usageError(`Unknown output type ${String(values.output)}. Possible values are: mmap, splice`);
      attributes.output = values.output;
    }
    if (values['subbuf-size'] !== undefined) {
      const size = parseSize('subbuf-size', values['subbuf-size'] as string);
      // As lttng: a zero sub-buffer size is a wrong value, not something to round up.
      if (size === 0) throw usageError(`Wrong value in --subbuf-size parameter: ${String(values['subbuf-size'])}`);
      const rounded = nextPowerOfTwo(size);
      if (rounded !== size) ctx.warn(`The subbuf size (${size}) is rounded to the next power of 2 (${rounded})`);
      attributes.subbufSize = rounded;
    }
    if (values['num-subbuf'] !== undefined) {
      const count = parseCount('num-subbuf', values['num-subbuf'] as string);
      // lttng refuses 0 outright (a channel needs at least one sub-buffer) rather than rounding it up.
      if (count === 0) throw usageError(`Wrong value in --num-subbuf parameter: ${String(values['num-subbuf'])}`);
      const rounded = nextPowerOfTwo(count);
      if (rounded !== count) ctx.warn(`The number of subbuffers (${count}) is rounded to the next power of 2 (${rounded})`);
      attributes.numSubbuf = rounded;
    }
    const timers = [
      ['switch-timer', 'switchTimerUs'],
      ['read-timer', 'readTimerUs'],
      ['monitor-timer', 'monitorTimerUs'],
    ] as const;
    for (const [option, key] of timers) {
      if (values[option] !== undefined) attributes[key] = parseCount(option, values[option] as string, 'for');
    }
    if (values['blocking-timeout'] !== undefined) {
      const text = values['blocking-timeout'] as string;
      attributes.blockingTimeoutUs = text === 'inf' ? -1 : parseCount('blocking-timeout', text, 'for');
    }
    if (values['tracefile-size'] !== undefined) {
      attributes.tracefileSize = parseSize('tracefile-size', values['tracefile-size'] as string);
    }
    if (values['tracefile-count'] !== undefined) {
      attributes.tracefileCount = parseCount('tracefile-count', values['tracefile-count'] as string);
    }
    // User space: per-UID (LTTng's default: one trace per user, ust/uid/UID/64-bit) or per-PID buffers
    // (ust/pid/PROCNAME-PID-DATETIME); the kernel's are global.
    if ((values['buffers-pid'] && domain === 'kernel') || (values['buffers-global'] && domain === 'ust') || (values['buffers-uid'] && domain === 'kernel')) {
      throw usageError(`Buffer type not supported for domain ${domain === 'kernel' ? '-k' : '-u'}`);
    }

    const session = ctx.session(values.session as string | undefined);
    const client = await ctx.control();
    const label = domainLabel(domain);
    const channels: MiNode[] = [];
    let code = ExitCode.SUCCESS as ExitCode;
    for (const name of splitNameList(positionals[0]!)) {
      try {
        const result = await client.request('enable-channel', {
          session,
          domain,
          channel: name,
          ...(Object.keys(attributes).length > 0 ? { attributes } : {}),
          ...(domain === 'ust' && values['buffers-pid'] ? { buffers: 'per-pid' as const } : {}),
          ...(domain === 'ust' && values['buffers-uid'] ? { buffers: 'per-uid' as const } : {}),
        });
        channels.push(withChild(channelNode(result.channel, false), successNode(true)));
        ctx.out(`${label} channel ${name} enabled for session ${session}`);
        const ring = result.channel.ring;
        if (ring && ring.subbufSize !== ring.wantedSubbufSize) {
          ctx.warn(`The kernel kept ${ring.subbufSize}-byte ring-buffer sub-buffers for channel ${name} (${ring.wantedSubbufSize} asked); CTF packets stay ${result.channel.attributes.subbufSize} bytes`);
        }
      } catch (error) {
        if (!(error instanceof ControlError)) throw error;
        channels.push(group('channel', [leaf('name', name), leaf('enabled', true), successNode(false)]));
        if (error.code === 'KERN_CHAN_EXIST' || error.code === 'UST_CHAN_EXIST') {
          ctx.miError ??= error.toWire();
          ctx.warn(`Channel ${oneLine(name)}: ${error.message} (session ${session})`);
          if (code === ExitCode.SUCCESS) code = ExitCode.WARNING;
        } else {
          ctx.error(`Channel ${oneLine(name)}: ${error.message} (session ${session})`, error.code);
          code = ExitCode.ERROR;
        }
      }
    }
    ctx.miOutput = array('channels', channels);
    return code;
  },
};
