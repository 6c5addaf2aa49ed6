// Checks of request arguments. Any client can reach the socket, so the daemon trusts nothing about a request's
// shape: a wrong type is an INVALID error naming the argument, never an exception inside a handler.

import { ControlError } from '../control/error-codes.js';

export type Args = Record<string, unknown>;

export function asArgs(value: unknown): Args {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ControlError('INVALID', 'Invalid parameter: request arguments must be an object');
  }
  return value as Args;
}

export function requiredString(args: Args, key: string): string {
  const value = args[key];
  if (typeof value !== 'string' || value.length === 0) {
    throw new ControlError('INVALID', `Invalid parameter: ${key} must be a non-empty string`);
  }
  return value;
}

export function optionalString(args: Args, key: string): string | undefined {
  const value = args[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ControlError('INVALID', `Invalid parameter: ${key} must be a string`);
  return value;
}

export function optionalBoolean(args: Args, key: string): boolean {
  const value = args[key];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new ControlError('INVALID', `Invalid parameter: ${key} must be a boolean`);
  return value;
}

export function optionalInteger(args: Args, key: string): number | undefined {
  const value = args[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ControlError('INVALID', `Invalid parameter: ${key} must be a non-negative integer`);
  }
  return value;
}

export function oneOf<T extends string>(args: Args, key: string, allowed: readonly T[], fallback?: T): T {
  const value = args[key];
  if ((value === undefined || value === null) && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ControlError('INVALID', `Invalid parameter: ${key} must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** Names `ltt list` prints and the log records: a control character (an escape, a newline) is refused. */
export function hasControlCharacter(name: string): boolean {
  return /\p{Cc}/u.test(name);
}
