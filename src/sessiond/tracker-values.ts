// Process-attribute tracker values: users type numbers or, for uid/vuid/gid/vgid, user and group names, which
// the daemon resolves (LTTng does the same, so a root daemon resolves names in its own user database).

import { readFileSync } from 'node:fs';
import { ControlError } from '../control/error-codes.js';
import type { ProcessAttribute } from '../control/messages.js';

function lookup(file: string, name: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields[2] !== undefined && /^\d+$/.test(fields[2])) return Number(fields[2]);
  }
  return undefined;
}

/** Checks one value for `attribute`; returns it as stored (numbers stay numbers, names stay names). */
export function checkTrackerValue(attribute: ProcessAttribute, value: unknown): number | string {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  if (typeof value === 'string' && value.length > 0 && /^(v?uid|v?gid)$/.test(attribute)) {
    resolveOne(attribute, value);
    return value;
  }
  throw new ControlError('INVALID', `Invalid parameter: ${String(value)} is not a valid ${attribute} value`);
}

function resolveOne(attribute: ProcessAttribute, value: number | string): number {
  if (typeof value === 'number') return value;
  const isUser = attribute === 'uid' || attribute === 'vuid';
  const id = lookup(isUser ? '/etc/passwd' : '/etc/group', value);
  if (id === undefined) {
    throw new ControlError(isUser ? 'USER_NOT_FOUND' : 'GROUP_NOT_FOUND', `${isUser ? 'User' : 'Group'} not found: ${value}`);
  }
  return id;
}

/** Numeric values for the tracer. */
export function resolveTrackerValues(attribute: ProcessAttribute, values: Array<number | string>): number[] {
  return values.map((value) => resolveOne(attribute, value));
}
