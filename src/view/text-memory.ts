// babeltrace2 2.0.4 prints an empty text field (a string, text array or text sequence that got no byte
// before its first NUL) as the last non-empty text the same field of the same event object held: the objects
// are reused (graph/event-pool.ts) and clearing a string field only resets its length. A TextMemory is that
// state for one event object (event class + pool slot) and one scope: per text field, numbered in the order
// the printers meet them, the last non-empty text as bytes (fused printers) or as a string (value printers).
// A text field inside arrays has one per element (an array field keeps its element fields, and a dynamic
// array the ones past its current length too): numbered apart, in the same order, with the element indexes
// (elemSlot()).

import type { FieldClass, StructFieldClass } from '../ctf/ir/trace-class.js';
import { utf8 } from '../ctf/decode/bits.js';
import type { OutputWriter } from './output-writer.js';

export class TextMemory {
  /**
   * Where each text's bytes are: the packet bytes they were read from (no copy per event; detach() copies
   * them into `own` so that old packet windows are not kept alive), at `starts`, `lengths` long.
   */
  readonly refs: (Uint8Array | undefined)[];
  readonly starts: number[];
  readonly lengths: number[];
  readonly own: (Uint8Array | undefined)[];
  readonly strings: (string | undefined)[];

  /** Dense index of each (text field inside arrays, element indexes) met so far. */
  readonly elems = new Map<string, number>();

  constructor(
    count: number,
    /** The scope has text fields (inside arrays or not). */
    readonly follows = count > 0,
  ) {
    this.refs = new Array<Uint8Array | undefined>(count).fill(undefined);
    this.starts = new Array<number>(count).fill(0);
    this.lengths = new Array<number>(count).fill(0);
    this.own = new Array<Uint8Array | undefined>(count).fill(undefined);
    this.strings = new Array<string | undefined>(count).fill(undefined);
  }

  /** Copies the texts that still point into packet bytes. */
  detach(): void {
    for (let k = 0; k < this.refs.length; k++) {
      const r = this.refs[k];
      if (r === undefined || r === this.own[k]) continue;
      const n = this.lengths[k]!;
      let buf = this.own[k];
      if (buf === undefined || buf.length < n) this.own[k] = buf = new Uint8Array(Math.max(32, n));
      buf.set(r.subarray(this.starts[k]!, this.starts[k]! + n));
      this.refs[k] = buf;
      this.starts[k] = 0;
    }
  }
}

/** Index in `t` of text field `key` ("N:I[:J...]": the scope's N-th text field inside arrays, element I...). */
export function elemSlot(t: TextMemory, key: string): number {
  let k = t.elems.get(key);
  if (k === undefined) {
    k = t.refs.length;
    t.refs.push(undefined);
    t.starts.push(0);
    t.lengths.push(0);
    t.own.push(undefined);
    t.strings.push(undefined);
    t.elems.set(key, k);
  }
  return k;
}

/** Text field k's new non-empty text: the bytes u8[a, e) (kept by reference until detach()). */
export function keepBytes(t: TextMemory, k: number, u8: Uint8Array, a: number, e: number): void {
  // Stores compared first: most texts come from the packet bytes the field's last text came from, and storing
  // a young object into these old arrays costs a write-barrier call each time (2-3% of a kernel trace's view).
  if (t.refs[k] !== u8) t.refs[k] = u8;
  t.starts[k] = a;
  t.lengths[k] = e - a;
  if (t.strings[k] !== undefined) t.strings[k] = undefined;
}

/** Text field k's new non-empty text, as a string. */
export function keepString(t: TextMemory, k: number, s: string): void {
  t.strings[k] = s;
}

/** Writes text field k's empty value as babeltrace2 shows it: the quoted last non-empty text, or `""`. */
export function recall(o: OutputWriter, t: TextMemory, k: number): void {
  const s = t.strings[k];
  if (s !== undefined) o.qstr(s);
  else o.qstr(t.refs[k] !== undefined ? utf8(t.refs[k]!, t.starts[k]!, t.starts[k]! + t.lengths[k]!) : '');
}

/** Is this field class a text field whose value the memory follows (string or text array/sequence)? */
export function remembered(fc: FieldClass): boolean {
  if (fc.kind === 'string') return fc.staticLength === undefined && fc.lengthSlot === undefined && !fc.encoding.startsWith('utf16') && !fc.encoding.startsWith('utf32');
  return (fc.kind === 'array' || fc.kind === 'sequence') && fc.isText === true;
}

/** Whether a field has text fields the memory follows, inside arrays too (shown members). */
function hasTexts(fc: FieldClass): boolean {
  if (fc.hidden) return false;
  if (remembered(fc)) return true;
  if (fc.kind === 'struct') return fc.members.some((m) => hasTexts(m.fc));
  if (fc.kind === 'variant') return fc.options.some((o) => hasTexts(o.fc));
  if (fc.kind === 'array' || fc.kind === 'sequence') return hasTexts(fc.element);
  return false;
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
  return scopes.map((fc) => new TextMemory(fc ? countTexts(fc) : 0, fc !== undefined && hasTexts(fc)));
}
