// Per-event-class record encoders, generated with `new Function` (design.md: no generic interpreter on the
// hot path). An encoder writes what follows a record's event header: stream event context, then payload. The
// header (compact or large, extended when the id or the time since the previous record does not fit) is the
// stream writer's, one piece of code for every record (StreamWriter.header).
//
// Contract: `compileEncoder(...)` returns a factory (the code is generated at its first call: kernel channels
// declare hundreds of classes and record few); a stream calls it once with its packet buffer and gets an
// `EventEncoder`. `body(off, payload, context)` writes context and payload at byte `off` and returns the new
// offset, or -1 when they do not fit before `end` (the buffer length); in that case bytes from `off` on may
// have been written and the caller must zero them again. The buffer must be all zero from `off` to its end on
// entry: padding and string terminators rely on it. Values are positional (see index.ts for the accepted JS
// types per field kind). Transcoders (below) are the same with the payload read from a source record.

import type { FieldDef, FieldType, IntegerFieldType } from './field-types.js';

/** An event class bound to a stream: its id and header form (for the stream's header), and its body writer. */
export interface EventEncoder {
  readonly id: number;
  readonly compact: boolean;
  readonly body: (off: number, payload: readonly unknown[], context: readonly unknown[] | undefined) => number;
}

export type EncoderFactory = (u8: Buffer, dv: DataView) => EventEncoder;

/**
 * Where a transcoder takes one payload field from: a source record in another binary format (an ftrace
 * record), instead of a JS value. Transcoding skips the JS values altogether for the common fields.
 */
export type FieldSource =
  /**
   * Bytes at `copy` in the source record, copied as they are: for an integer or enum field, the low bytes of a
   * little-endian integer at least as wide as the field (truncation keeps the bit pattern, so signedness does
   * not matter); for a `text` field, the bytes up to the first NUL, at most the field's length.
   */
  | { readonly copy: number }
  /**
   * A JS expression giving the value (any type `encode` accepts for the field), over the source record: `dv`
   * and `buf` (DataView and Buffer of the source), `off` (the record's first byte), `len` (its length) and `h`
   * (the helpers object given to compileTranscoder).
   */
  | { readonly expr: string };

/**
 * An event class's transcoder bound to a stream, as EventEncoder: `body` writes the stream event context and
 * the payload from the source record at `rec` (`len` bytes) of the source buffer bound at creation. Only
 * integers cross this call: a double timestamp passed to a call V8 does not inline is boxed, one allocation
 * per record on the kernel consumer's hot path (the header, which needs it, is written by the stream).
 */
export interface Transcoder {
  readonly id: number;
  readonly compact: boolean;
  readonly body: (off: number, rec: number, len: number, context: readonly unknown[] | undefined) => number;
}

export type TranscoderFactory = ((u8: Buffer, dv: DataView, src: Buffer, srcDv: DataView) => Transcoder) & {
  /** The class's id and header form, as its Transcoders have them. */
  readonly id: number;
  readonly compact: boolean;
  /** The body as statements to inline into a record loop, when its size is fixed (see InlineTranscoder). */
  inline(): InlineTranscoder | undefined;
};

/**
 * A transcoder body to inline into a generated record loop (the kernel consumer's): `code` writes the payload
 * at `off` (advancing it) from the source record at `rec` (`len` bytes), with `u8`/`dv` the packet buffer,
 * `s8`/`sdv` the source, `h` the helpers, `EMPTY` and `Buffer` in scope, and checks no space: the loop checks
 * `size` (an upper bound, alignment included) once. Only for classes with no stream event context and fixed-size
 * fields (the rest keep the called body).
 */
export interface InlineTranscoder {
  readonly size: number;
  readonly code: string;
  readonly helpers: unknown;
}

const EMPTY: readonly unknown[] = Object.freeze([]);

/** Upper bound in bytes (alignment padding included), or null when the size depends on the value. */
function fixedSize(t: FieldType): number | null {
  switch (t.kind) {
    case 'int':
      return t.size / 8 + alignSlack(t.align);
    case 'enum':
      return t.container.size / 8 + alignSlack(t.container.align);
    case 'float':
      return t.size / 8 + alignSlack(t.align);
    case 'text':
      return t.length;
    case 'string':
    case 'sequence':
      return null;
    case 'array': {
      const e = fixedSize(t.element);
      return e === null ? null : e * t.length + alignSlack(alignOf(t.element) * 8);
    }
    case 'struct': {
      // The struct's own alignment padding comes on top of its members' (each bound includes its own).
      let sum = alignSlack(alignOf(t) * 8);
      for (const f of t.fields) {
        const s = fixedSize(f);
        if (s === null) return null;
        sum += s;
      }
      return sum;
    }
  }
}

function alignSlack(alignBits: number | undefined): number {
  return alignBits === undefined || alignBits <= 8 ? 0 : alignBits / 8 - 1;
}

/** Alignment in bytes. */
function alignOf(t: FieldType): number {
  switch (t.kind) {
    case 'int':
      return (t.align ?? 8) / 8;
    case 'enum':
      return (t.container.align ?? 8) / 8;
    case 'float':
      return (t.align ?? 8) / 8;
    case 'string':
    case 'text':
      return 1;
    case 'array':
    case 'sequence':
      return alignOf(t.element);
    case 'struct': {
      let a = 1;
      for (const f of t.fields) a = Math.max(a, alignOf(f));
      return a;
    }
  }
}

function isByteElement(t: FieldType): t is IntegerFieldType {
  return t.kind === 'int' && t.size === 8 && (t.align ?? 8) === 8;
}

interface GenItem {
  readonly size: number | null;
  readonly emit: () => void;
}

class CodeGen {
  private readonly lines: string[] = [];
  private tmp = 0;

  /** `unchecked`: the caller checks the space of the whole record once (inlined fixed-size records). */
  constructor(private readonly unchecked = false) {}

  emit(line: string): void {
    this.lines.push(line);
  }

  name(prefix: string): string {
    return `${prefix}${this.tmp++}`;
  }

  text(): string {
    return this.lines.join('\n');
  }

  align(bytes: number): void {
    if (bytes > 1) this.emit(`off = (off + ${bytes - 1}) & ${~(bytes - 1)};`);
  }

  check(bytesExpr: string): void {
    if (this.unchecked) return;
    this.emit(`if (off + ${bytesExpr} > end) return -1;`);
  }

  /**
   * Writes items in order with one bounds check per run of fixed-size items (`size` = upper bound in bytes,
   * null = variable: such items check their own space).
   */
  items(items: readonly GenItem[]): void {
    for (let i = 0; i < items.length; i++) {
      const s = items[i]!.size;
      if (s !== null && (i === 0 || items[i - 1]!.size === null)) {
        let run = 0;
        for (let j = i; j < items.length && items[j]!.size !== null; j++) run += items[j]!.size!;
        if (run > 0) this.check(String(run));
      }
      items[i]!.emit();
    }
  }

  /** Items writing `fields`, read positionally from the array expression `src`. */
  fieldItems(fields: readonly FieldDef[], src: string): GenItem[] {
    return fields.map((f, i) => ({
      size: fixedSize(f),
      emit: () => {
        const v = this.name('v');
        this.emit(`const ${v} = ${src}[${i}];`);
        this.value(f, v, true);
      },
    }));
  }

  /**
   * Items writing `fields` from a source record (see FieldSource): copies read `s8`/`sdv` at `rec`;
   * expressions were evaluated into `x0`, `x1`, ... by the transcoder's prologue.
   */
  sourceItems(fields: readonly FieldDef[], sources: readonly FieldSource[]): GenItem[] {
    return fields.map((f, i) => {
      const src = sources[i]!;
      return {
        size: fixedSize(f),
        emit: () => {
          if ('expr' in src) this.value(f, `x${i}`, true);
          else this.copy(f, src.copy);
        },
      };
    });
  }

  /** Copies a field's bytes from the source record (space reserved by the caller). */
  private copy(t: FieldDef, at: number): void {
    const from = `rec + ${at}`;
    if (t.kind === 'text') {
      const k = this.name('k');
      const b = this.name('b');
      // The rest of the array is already zero.
      this.emit(`for (let ${k} = 0; ${k} < ${t.length}; ${k}++) { const ${b} = s8[${from} + ${k}]; if (${b} === 0) break; u8[off + ${k}] = ${b}; }`);
      this.emit(`off += ${t.length};`);
      return;
    }
    const int = t.kind === 'int' ? t : t.kind === 'enum' ? t.container : undefined;
    if (int === undefined || int.byteOrder === 'be') throw new Error(`cannot copy a ${t.kind}${int ? ' (big-endian)' : ''} field from a source record`);
    this.align((int.align ?? 8) / 8);
    switch (int.size) {
      case 8:
        this.emit(`u8[off] = s8[${from}]; off += 1;`);
        return;
      case 16:
        this.emit(`dv.setUint16(off, sdv.getUint16(${from}, true), true); off += 2;`);
        return;
      case 32:
        this.emit(`dv.setUint32(off, sdv.getUint32(${from}, true), true); off += 4;`);
        return;
      case 64:
        this.emit(`dv.setUint32(off, sdv.getUint32(${from}, true), true); dv.setUint32(off + 4, sdv.getUint32(${from} + 4, true), true); off += 8;`);
        return;
    }
  }

  /** Writes one value. `checked`: space for fixed-size types was reserved by the caller. */
  value(t: FieldType, v: string, checked: boolean): void {
    const fixed = fixedSize(t);
    if (!checked && fixed !== null && fixed > 0) this.check(String(fixed));
    switch (t.kind) {
      case 'int':
        this.integer(t, v);
        return;
      case 'enum':
        this.integer(t.container, v);
        return;
      case 'float': {
        this.align((t.align ?? 8) / 8);
        const le = t.byteOrder === 'be' ? 'false' : 'true';
        this.emit(`dv.setFloat${t.size}(off, ${v}, ${le}); off += ${t.size / 8};`);
        return;
      }
      case 'string':
        this.string(v);
        return;
      case 'text':
        this.byteArray(t.length, v);
        return;
      case 'array':
        if (isByteElement(t.element)) {
          this.byteArray(t.length, v);
          return;
        }
        this.align(alignOf(t.element));
        {
          const a = this.name('a');
          const i = this.name('i');
          this.emit(`const ${a} = ${v} ?? EMPTY;`);
          this.emit(`for (let ${i} = 0; ${i} < ${t.length}; ${i}++) {`);
          const e = this.name('e');
          this.emit(`const ${e} = ${a}[${i}];`);
          // Fixed-size elements were reserved with the array; variable ones check themselves.
          this.value(t.element, e, fixedSize(t.element) !== null);
          this.emit('}');
        }
        return;
      case 'sequence':
        this.sequence(t.element, t.lengthType ?? { kind: 'int', size: 64 }, v);
        return;
      case 'struct': {
        const s = this.name('s');
        this.emit(`const ${s} = ${v} ?? EMPTY;`);
        this.align(alignOf(t));
        // A fixed-size struct was reserved as a whole; re-checking inside costs nothing but one compare per run.
        this.items(this.fieldItems(t.fields, s));
        return;
      }
    }
  }

  integer(t: IntegerFieldType, v: string): void {
    this.align((t.align ?? 8) / 8);
    const le = t.byteOrder === 'be' ? 'false' : 'true';
    // Numbers are the fast path; bigints (and anything else) are converted.
    const n = `(typeof ${v} === 'number' ? ${v} : Number(${v}))`;
    switch (t.size) {
      case 8:
        this.emit(`u8[off] = ${n}; off += 1;`);
        return;
      case 16:
        this.emit(`dv.setUint16(off, ${n}, ${le}); off += 2;`);
        return;
      case 32:
        this.emit(`dv.setUint32(off, ${n}, ${le}); off += 4;`);
        return;
      case 64: {
        const [lo, hi] = t.byteOrder === 'be' ? [4, 0] : [0, 4];
        const l = this.name('lo');
        this.emit(
          `if (typeof ${v} === 'number') { const ${l} = ${v} >>> 0; dv.setUint32(off + ${lo}, ${l}, ${le}); ` +
            `dv.setUint32(off + ${hi}, ((${v} - ${l}) / 4294967296) >>> 0, ${le}); }`,
        );
        this.emit(`else if (typeof ${v} === 'bigint') dv.setBigUint64(off, BigInt.asUintN(64, ${v}), ${le});`);
        this.emit(`else if (${v} != null) dv.setBigUint64(off, BigInt.asUintN(64, BigInt(${v})), ${le});`);
        this.emit('off += 8;');
        return;
      }
    }
  }

  string(v: string): void {
    const s = this.name('str');
    const k = this.name('k');
    const ch = this.name('ch');
    this.emit(`let ${s} = ${v};`);
    this.emit(`if (typeof ${s} !== 'string') ${s} = ${s} == null ? '' : String(${s});`);
    // Fast path: short ASCII strings are copied by hand (cheaper than a native call); a NUL ends the string,
    // as it would for a reader. Anything else takes the UTF-8 encoder.
    this.emit(`let ${k} = 0;`);
    this.emit(`if (${s}.length <= 64 && off + ${s}.length + 1 <= end) {`);
    this.emit(`for (; ${k} < ${s}.length; ${k}++) { const ${ch} = ${s}.charCodeAt(${k}); if (${ch} >= 0x80 || ${ch} === 0) break; u8[off + ${k}] = ${ch}; }`);
    this.emit('}');
    this.emit(`if (${k} === ${s}.length) { off += ${k}; u8[off++] = 0; }`);
    this.emit('else {');
    // A NUL inside the value would end the CTF string early and desynchronise the record: cut there.
    this.emit(`const z = ${s}.indexOf('\\0'); if (z !== -1) ${s} = ${s}.slice(0, z);`);
    // UTF-16 units encode to at most 3 UTF-8 bytes: only measure the string when the bound does not fit.
    this.emit(`if (off + ${s}.length * 3 + 1 > end && off + Buffer.byteLength(${s}) + 1 > end) return -1;`);
    this.emit(`off += u8.utf8Write(${s}, off, end - off); u8[off++] = 0;`);
    this.emit('}');
  }

  /** Fixed-length array of bytes: strings (UTF-8, truncated), Uint8Array, or arrays of numbers. */
  byteArray(length: number, v: string): void {
    const k = this.name('k');
    const ch = this.name('ch');
    this.emit(`if (typeof ${v} === 'string') {`);
    // Short ASCII text (comm fields) is copied by hand; the rest of the array is already zero.
    this.emit(`let ${k} = 0;`);
    this.emit(`if (${v}.length <= ${length}) for (; ${k} < ${v}.length; ${k}++) { const ${ch} = ${v}.charCodeAt(${k}); if (${ch} >= 0x80) break; u8[off + ${k}] = ${ch}; }`);
    this.emit(`if (${k} !== ${v}.length) u8.utf8Write(${v}, off, ${length});`);
    this.emit('}');
    this.emit(`else if (${v} instanceof Uint8Array) u8.set(${v}.length > ${length} ? ${v}.subarray(0, ${length}) : ${v}, off);`);
    const i = this.name('i');
    this.emit(`else if (${v} != null) for (let ${i} = 0; ${i} < ${length}; ${i}++) { const b = ${v}[${i}]; u8[off + ${i}] = typeof b === 'number' ? b : Number(b ?? 0); }`);
    this.emit(`off += ${length};`);
  }

  sequence(el: FieldType, lengthType: IntegerFieldType, v: string): void {
    const a = this.name('a');
    const n = this.name('n');
    const lenSize = lengthType.size / 8 + alignSlack(lengthType.align);
    // A length field narrower than 32 bits caps the element count (more elements would desynchronise it).
    const cap = lengthType.size < 32 ? 2 ** lengthType.size - 1 : null;
    const capped = (expr: string): string => (cap === null ? expr : `Math.min(${expr}, ${cap})`);
    this.emit(`let ${a} = ${v} ?? EMPTY;`);
    if (isByteElement(el)) {
      this.emit(`if (typeof ${a} === 'string') {`);
      this.emit(`const ${n} = ${capped(`Buffer.byteLength(${a})`)};`);
      this.check(`${lenSize} + ${n}`);
      this.integer(lengthType, n);
      this.emit(`if (${n} !== 0) u8.utf8Write(${a}, off, ${n}); off += ${n};`);
      this.emit('} else {');
    } else {
      this.emit('{');
    }
    this.emit(`const ${n} = ${capped(`${a}.length`)};`);
    const es = fixedSize(el);
    const elAlign = alignOf(el);
    if (es !== null) {
      this.check(`${lenSize + (elAlign - 1)} + ${n} * ${es}`);
    } else {
      this.check(String(lenSize));
    }
    this.integer(lengthType, n);
    this.align(elAlign);
    if (isByteElement(el)) {
      this.emit(`if (${a} instanceof Uint8Array) { u8.set(${a}.length > ${n} ? ${a}.subarray(0, ${n}) : ${a}, off); off += ${n}; }`);
      this.emit('else {');
    } else {
      this.emit('{');
    }
    const i = this.name('i');
    const e = this.name('e');
    this.emit(`for (let ${i} = 0; ${i} < ${n}; ${i}++) {`);
    this.emit(`const ${e} = ${a}[${i}];`);
    this.value(el, e, es !== null);
    this.emit('}');
    this.emit('}');
    this.emit('}');
  }
}

/**
 * The body shared by encoders and transcoders, after their prologue: stream event context, payload
 * (`payload`: the items writing it), each scope aligned as a struct to its most aligned member.
 */
function recordCode(g: CodeGen, context: readonly FieldDef[], fields: readonly FieldDef[], payload: GenItem[]): string {
  const scopeAlign = (scope: readonly FieldDef[]): GenItem[] => {
    const a = scope.reduce((m, f) => Math.max(m, alignOf(f)), 1);
    return a > 1 ? [{ size: a - 1, emit: () => g.align(a) }] : [];
  };
  g.items([
    ...scopeAlign(context),
    ...g.fieldItems(context, 'c'),
    ...scopeAlign(fields),
    ...payload,
  ]);
  g.emit('return off;');
  g.emit('};');
  return g.text();
}

/** Generated source of one event class's encoder body (exposed for debugging and tests). */
export function encoderSource(context: readonly FieldDef[], fields: readonly FieldDef[]): string {
  const g = new CodeGen();
  g.emit('return function encode(off, p, c) {');
  g.emit('const end = u8.length;');
  if (context.length > 0) g.emit('if (c === undefined) c = EMPTY;');
  return recordCode(g, context, fields, g.fieldItems(fields, 'p'));
}

/** Generated source of one event class's transcoder body: context and payload (see compileTranscoder). */
export function transcoderSource(context: readonly FieldDef[], fields: readonly FieldDef[], sources: readonly FieldSource[]): string {
  if (sources.length !== fields.length) throw new Error(`transcoder: ${sources.length} sources for ${fields.length} fields`);
  const g = new CodeGen();
  g.emit('return function transcode(off, rec, len, c) {');
  g.emit('const end = u8.length;');
  if (context.length > 0) g.emit('if (c === undefined) c = EMPTY;');
  // Expressions see the source under the converters' names (dv, buf, off): a block shadows ours.
  const exprs = sources.flatMap((src, i) => ('expr' in src ? [`x${i} = ${src.expr};`] : []));
  if (exprs.length > 0) {
    g.emit(`let ${sources.flatMap((src, i) => ('expr' in src ? [`x${i}`] : [])).join(', ')};`);
    g.emit(`{ const dv = sdv, buf = s8, off = rec; ${exprs.join(' ')} }`);
  }
  return recordCode(g, context, fields, g.sourceItems(fields, sources));
}

/** An InlineTranscoder's code, or undefined when the record's size is not fixed or it has a context. */
export function inlineTranscoderSource(context: readonly FieldDef[], fields: readonly FieldDef[], sources: readonly FieldSource[]): { size: number; code: string } | undefined {
  if (context.length > 0 || sources.length !== fields.length) return undefined;
  let size = 0;
  for (const f of fields) {
    const s = fixedSize(f);
    if (s === null) return undefined;
    size += s;
  }
  const a = fields.reduce((m, f) => Math.max(m, alignOf(f)), 1);
  size += a - 1;
  const g = new CodeGen(true);
  const exprs = sources.flatMap((src, i) => ('expr' in src ? [`x${i} = ${src.expr};`] : []));
  if (exprs.length > 0) {
    g.emit(`let ${sources.flatMap((src, i) => ('expr' in src ? [`x${i}`] : [])).join(', ')};`);
    g.emit(`{ const dv = sdv, buf = s8, off = rec; ${exprs.join(' ')} }`);
  }
  g.align(a);
  g.items(g.sourceItems(fields, sources));
  return { size, code: g.text() };
}

/**
 * Like compileEncoder, for records whose payload is read from a source record rather than JS values (the
 * kernel consumer turns ftrace records into LTTng records this way). `helpers` is `h` in source expressions.
 */
export function compileTranscoder(
  header: 'compact' | 'large',
  id: number,
  context: readonly FieldDef[],
  fields: readonly FieldDef[],
  sources: readonly FieldSource[],
  helpers: unknown,
): TranscoderFactory {
  type Make = (u8: Buffer, dv: DataView, s8: Buffer, sdv: DataView, h: unknown, empty: readonly unknown[], buffer: typeof Buffer) => Transcoder['body'];
  // Compiled on first use: a kernel channel declares hundreds of classes (every syscall) and records few.
  let make: Make | undefined;
  let inline: InlineTranscoder | undefined | null = null;
  const factory = (u8: Buffer, dv: DataView, src: Buffer, srcDv: DataView): Transcoder => {
    make ??= new Function('u8', 'dv', 's8', 'sdv', 'h', 'EMPTY', 'Buffer', transcoderSource(context, fields, sources)) as Make;
    withUtf8Write(u8);
    return { id, compact: header === 'compact', body: make(u8, dv, src, srcDv, helpers, EMPTY, Buffer) };
  };
  return Object.assign(factory, {
    id,
    compact: header === 'compact',
    inline(): InlineTranscoder | undefined {
      if (inline === null) {
        const src = inlineTranscoderSource(context, fields, sources);
        inline = src === undefined ? undefined : { ...src, helpers };
      }
      return inline;
    },
  });
}

/**
 * Buffer#utf8Write(string, offset, length) is the unchecked encoder behind Buffer#write; it is not public API,
 * so fall back to write() if a Node version lacks it.
 */
function withUtf8Write(u8: Buffer): void {
  const b = u8 as Buffer & { utf8Write?: unknown };
  if (typeof b.utf8Write !== 'function') {
    Object.defineProperty(b, 'utf8Write', { value: (s: string, o: number, l: number) => u8.write(s, o, l, 'utf8') });
  }
}

export function compileEncoder(header: 'compact' | 'large', id: number, context: readonly FieldDef[], fields: readonly FieldDef[]): EncoderFactory {
  type Make = (u8: Buffer, dv: DataView, empty: readonly unknown[], buffer: typeof Buffer) => EventEncoder['body'];
  // Compiled on first use, as transcoders are.
  let make: Make | undefined;
  return (u8, dv) => {
    make ??= new Function('u8', 'dv', 'EMPTY', 'Buffer', encoderSource(context, fields)) as Make;
    withUtf8Write(u8);
    return { id, compact: header === 'compact', body: make(u8, dv, EMPTY, Buffer) };
  };
}
