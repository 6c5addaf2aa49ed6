// Numeric option values as lttng reads them: sizes with k/M/G suffixes (powers of 1024), plain microsecond
// counts, and the round-up to a power of two that lttng applies (with a warning) to sub-buffer sizes and counts.

import { usageError } from './cli-error.js';

export function parseSize(option: string, text: string): number {
  const match = /^(\d+)([kKmMgG]?)$/.exec(text);
  if (!match) throw usageError(`Wrong value in --${option} parameter: ${text}`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  const value = Number(match[1]) * unit;
  if (!Number.isSafeInteger(value)) throw usageError(`Wrong value in --${option} parameter: ${text}`);
  return value;
}

export function parseCount(option: string, text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw usageError(`Wrong value in --${option} parameter: ${text}`);
  }
  return Number(text);
}

export function nextPowerOfTwo(value: number): number {
  let power = 1;
  while (power < value) power *= 2;
  return power;
}
