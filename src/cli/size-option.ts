// Numeric option values as lttng reads them: sizes with k/M/G suffixes (powers of 1024), plain microsecond
// counts, and the round-up to a power of two that lttng applies (with a warning) to sub-buffer sizes and counts.

import { usageError } from './cli-error.js';

export function parseSize(option: string, text: string): number {
  // lttng's size syntax (strtoull base 0, then one of k K M G): decimal, 0x hex or 0 octal; a lower-case m or g
  // is refused as lttng refuses it (1m would read as a millibyte to some).
  const match = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)([kKMG]?)$/.exec(text);
  if (!match) throw usageError(`Wrong value in --${option} parameter: ${text}`);
  const unit = { '': 1, k: 1024, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[match[2] as '' | 'k' | 'K' | 'M' | 'G'];
  const digits = match[1]!;
  const base = /^0[xX]/.test(digits) ? 16 : digits.length > 1 && digits.startsWith('0') ? 8 : 10;
  const value = parseInt(base === 16 ? digits.slice(2) : digits, base) * unit;
  if (!Number.isSafeInteger(value)) throw usageError(`Wrong value in --${option} parameter: ${text}`);
  return value;
}

/** `preposition`: lttng says "Wrong value in --num-subbuf" but "Wrong value for --switch-timer" (timers). */
export function parseCount(option: string, text: string, preposition: 'in' | 'for' = 'in'): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw usageError(`Wrong value ${preposition} --${option} parameter: ${text}`);
  }
  return Number(text);
}

export function nextPowerOfTwo(value: number): number {
  let power = 1;
  while (power < value) power *= 2;
  return power;
}
