// babeltrace2 2.0.4 prints an empty text field (a string, text array or text sequence that got no byte
// before its first NUL) as the last non-empty text the same field of the same event object held: the objects
// are reused (graph/event-pool.ts) and clearing a string field only resets its length. A TextMemory is that
// state for one event object (event class + pool slot) and one scope: per text field, numbered in the order
// the printers meet them (text fields inside arrays, whose element objects the model does not follow, are not
// numbered), the last non-empty text as bytes (fused printers) or as a string (value printers).

import type { FieldClass, StructFieldClass } from '../ctf/ir/trace-class.js';
import { utf8 } from '../ctf/decode/bits.js';
import type { OutputWriter } from './output-writer.js';

export class TextMemory {
  readonly bytes: (Uint8Array | undefined)[];
  readonly lengths: number[];
  readonly strings: (string | undefined)[];

  constructor(count: number) {
    this.bytes = new Array<Uint8Array | undefined>(count).fill(undefined);
    this.lengths = new Array<number>(count).fill(0);
    this.strings = new Array<string | undefined>(count).fill(undefined);
  }
}

/** Text field k's new non-empty text: the bytes u8[a, e). */
export function keepBytes(t: TextMemory, k: number, u8: Uint8Array, a: number, e: number): void {
  const n = e - a;
  let buf = t.bytes[k];
  if (buf === undefined || buf.length < n) t.bytes[k] = buf = new Uint8Array(Math.max(32, 2 * n));
  if (n <= 64) for (let x = 0; x < n; x++) buf[x] = u8[a + x]!;
  else buf.set(u8.subarray(a, e));
  t.lengths[k] = n;
  t.strings[k] = undefined;
}

/** Text field k's new non-empty text, as a string. */
export function keepString(t: TextMemory, k: number, s: string): void {
  t.strings[k] = s;
}

/** Writes text field k's empty value as babeltrace2 shows it: the quoted last non-empty text, or `""`. */
export function recall(o: OutputWriter, t: TextMemory, k: number): void {
  const s = t.strings[k];
  if (s !== undefined) o.qstr(s);
  else o.qstr(t.lengths[k]! > 0 ? utf8(t.bytes[k]!, 0, t.lengths[k]!) : '');
}

/** Is this field class a text field whose value the memory follows (string or text array/sequence)? */
export function remembered(fc: FieldClass): boolean {
  if (fc.kind === 'string') return fc.staticLength === undefined && fc.lengthSlot === undefined && !fc.encoding.startsWith('utf16') && !fc.encoding.startsWith('utf32');
  return (fc.kind === 'array' || fc.kind === 'sequence') && fc.isText === true;
}

/** Number of text fields a scope's printers number (shown members, not inside arrays or optionals). */
export function countTexts(fc: FieldClass): number {
  if (fc.hidden) return 0;
  if (remembered(fc)) return 1;
  if (fc.kind === 'struct') return fc.members.reduce((n, m) => n + countTexts(m.fc), 0);
  if (fc.kind === 'variant') return fc.options.reduce((n, o) => n + countTexts(o.fc), 0);
  return 0;
}

/** Memories of an event object's common context, specific context and payload. */
export function scopeMemories(scopes: readonly (StructFieldClass | undefined)[]): TextMemory[] {
  return scopes.map((fc) => new TextMemory(fc ? countTexts(fc) : 0));
}
