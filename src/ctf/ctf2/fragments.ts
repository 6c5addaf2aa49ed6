// CTF 2 metadata stream -> JSON fragments.
//
// Contract: `splitFragments(text)` cuts an RFC 7464 JSON text sequence (each fragment starts with
// the 0x1E record separator) into parsed JSON objects, in order. A fragment that is not valid JSON
// or not a JSON object is an LttError('CTF_METADATA') naming its index (1-based).

import { LttError } from '../../errors.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function splitFragments(text: string): JsonObject[] {
  const out: JsonObject[] = [];
  const parts = text.split('\x1e');
  // Anything before the first separator must be blank.
  if (parts[0]!.trim() !== '') throw new LttError('CTF_METADATA', 'metadata: CTF 2 metadata must start with a record separator (0x1E)');
  for (let i = 1; i < parts.length; i++) {
    const raw = parts[i]!;
    if (raw.trim() === '') throw new LttError('CTF_METADATA', `metadata: CTF 2 fragment ${i} is empty`);
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch (err) {
      throw new LttError('CTF_METADATA', `metadata: CTF 2 fragment ${i} is not valid JSON (${(err as Error).message})`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      throw new LttError('CTF_METADATA', `metadata: CTF 2 fragment ${i} is not a JSON object`);
    }
    out.push(v as JsonObject);
  }
  return out;
}
