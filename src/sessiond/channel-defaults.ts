// Channel attribute defaults per domain (LTTng 2.13, reference §1.4) and the rules a channel's attributes must
// satisfy. The CLI rounds sizes to powers of two with a warning, as lttng does; the daemon still checks, since
// any client may call it.

import { ControlError } from '../control/error-codes.js';
import type { ChannelAttributes, Domain } from '../control/messages.js';
import { hasControlCharacter } from './command-args.js';

export const DEFAULT_CHANNEL_NAME = 'channel0';

export function defaultChannelAttributes(domain: Domain): ChannelAttributes {
  if (domain === 'kernel') {
    return {
      overwrite: false,
      subbufSize: 1 << 20,
      numSubbuf: 4,
      switchTimerUs: 0,
      readTimerUs: 200_000,
      monitorTimerUs: 1_000_000,
      blockingTimeoutUs: 0,
      tracefileSize: 0,
      tracefileCount: 0,
      output: 'splice',
      liveTimerUs: 0,
    };
  }
  return {
    overwrite: false,
    subbufSize: 512 * 1024,
    numSubbuf: 4,
    switchTimerUs: 0,
    readTimerUs: 0,
    monitorTimerUs: 1_000_000,
    blockingTimeoutUs: 0,
    tracefileSize: 0,
    tracefileCount: 0,
    output: 'mmap',
    liveTimerUs: 0,
  };
}

const PAGE_SIZE = 4096;

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** Merges requested attributes over the domain's defaults and the session mode, then validates. */
export function resolveChannelAttributes(
  domain: Domain,
  requested: Partial<ChannelAttributes> | undefined,
  mode: { snapshot: boolean; liveTimerUs: number },
): ChannelAttributes {
  const attributes: ChannelAttributes = { ...defaultChannelAttributes(domain) };
  for (const [key, value] of Object.entries(requested ?? {})) {
    if (!(key in attributes)) throw new ControlError('INVALID', `Invalid parameter: unknown channel attribute ${key}`);
    if (value === undefined) continue;
    (attributes as unknown as Record<string, unknown>)[key] = value;
  }
  // Snapshot sessions keep the last buffers: channels overwrite and are mmap (LTTng's defaults there). A discard
  // channel would keep the oldest records instead, which ltt's snapshot ring does not do: refused, not ignored.
  if (mode.snapshot) {
    if (requested?.overwrite === false) {
      throw new ControlError('INVALID', 'Invalid parameter: snapshot sessions keep the newest records: their channels overwrite (--discard is not supported)');
    }
    attributes.overwrite = true;
    attributes.output = 'mmap';
  }
  if (mode.liveTimerUs > 0 && !requested?.liveTimerUs) attributes.liveTimerUs = mode.liveTimerUs;
  const numbers: Array<keyof ChannelAttributes> = [
    'subbufSize', 'numSubbuf', 'switchTimerUs', 'readTimerUs', 'monitorTimerUs', 'tracefileSize', 'tracefileCount',
    'liveTimerUs',
  ];
  for (const key of numbers) {
    const value = attributes[key];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new ControlError('INVALID', `Invalid parameter: channel attribute ${key} must be a non-negative integer`);
    }
  }
  if (typeof attributes.overwrite !== 'boolean') {
    throw new ControlError('INVALID', 'Invalid parameter: channel attribute overwrite must be a boolean');
  }
  if (!isPowerOfTwo(attributes.subbufSize) || attributes.subbufSize < PAGE_SIZE) {
    throw new ControlError(
      'INVALID',
      `Invalid parameter: sub-buffer size ${attributes.subbufSize} must be a power of two of at least ${PAGE_SIZE} bytes`,
    );
  }
  if (!isPowerOfTwo(attributes.numSubbuf)) {
    throw new ControlError('INVALID', `Invalid parameter: sub-buffer count ${attributes.numSubbuf} must be a power of two`);
  }
  if (attributes.output !== 'mmap' && attributes.output !== 'splice') {
    throw new ControlError('INVALID', 'Invalid parameter: channel output must be mmap or splice');
  }
  if (domain === 'ust' && attributes.output === 'splice') {
    throw new ControlError('INVALID', 'Invalid parameter: splice output is only available in the kernel domain');
  }
  if (domain === 'kernel' && attributes.blockingTimeoutUs !== 0) {
    throw new ControlError('INVALID', 'Invalid parameter: blocking timeout is only available in the user space domain');
  }
  if (attributes.tracefileCount > 0 && attributes.tracefileSize === 0) {
    throw new ControlError('INVALID', 'Invalid parameter: a trace file count needs a trace file size');
  }
  return attributes;
}

/** LTTng's channel name rules: not empty, no '/', not starting with '.', at most 255 bytes; no control character. */
export function checkChannelName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.includes('/') || name.startsWith('.') || name.length > 255 || hasControlCharacter(name)) {
    throw new ControlError('INVALID_CHANNEL_NAME');
  }
  return name;
}
