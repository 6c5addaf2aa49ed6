// The CTF trace model shared by every part of ltt that reads or writes CTF.
//
// Contract: the metadata front ends (TSDL in ctf/tsdl/, CTF 2 JSON in ctf/ctf2/) produce a TraceClass whose
// field classes are fully resolved: sequence lengths and variant tags point at "slots" (numbered storage
// for integer values decoded earlier in the same packet/event), clock mappings point at ClockClass objects,
// special meanings ("roles") are set, and `hidden` says whether babeltrace2's trace-IR translation drops
// the field (so the pretty printer and the analyses see exactly what babeltrace2 shows). The binary decoder
// (ctf/decode/) and the pretty printer (view/) only read this model; nothing mutates it after the passes.

export type ByteOrder = 'le' | 'be';
export type DisplayBase = 2 | 8 | 10 | 16;
export type StringEncoding = 'none' | 'utf8' | 'ascii';

/** Special meanings of integer fields (CTF 1.8 well-known names, CTF 2 roles). */
export type FieldRole =
  | 'packet-magic'
  | 'metadata-uuid'
  | 'stream-class-id'
  | 'stream-instance-id'
  | 'packet-total-size'
  | 'packet-content-size'
  | 'packet-begin-ts'
  | 'packet-end-ts'
  | 'discarded-events'
  | 'packet-seq-num'
  | 'event-class-id'
  | 'default-clock-timestamp';

interface FieldClassBase {
  /** Alignment in bits (power of two). */
  readonly align: number;
  /** babeltrace2 drops this field from trace IR (clock-mapped or special meaning, not used as length/tag). */
  hidden: boolean;
}

export interface IntegerFieldClass extends FieldClassBase {
  readonly kind: 'int';
  /** Size in bits, 1..64. */
  readonly size: number;
  readonly signed: boolean;
  readonly byteOrder: ByteOrder;
  readonly base: DisplayBase;
  readonly encoding: StringEncoding;
  /** Clock whose value this field updates when decoded (explicit `map` or auto-mapping). */
  mappedClock?: ClockClass;
  role?: FieldRole;
  /** When set, the decoder stores the decoded value in slots[storeSlot] (used by sequences and variants). */
  storeSlot?: number;
}

export interface EnumMapping {
  readonly label: string;
  /** Inclusive ranges. Values are bigint so 64-bit unsigned ranges are exact. */
  readonly ranges: ReadonlyArray<readonly [bigint, bigint]>;
}

export interface EnumFieldClass extends FieldClassBase {
  readonly kind: 'enum';
  readonly container: IntegerFieldClass;
  readonly mappings: readonly EnumMapping[];
  storeSlot?: number;
  /**
   * TSDL: the error for a range with lower > upper (kept as given: it matches nothing). babeltrace2 aborts only
   * when such an enum reaches its trace IR (contexts and payloads), so headers and unused types may have one.
   */
  readonly reversedRange?: string;
}

export interface FloatFieldClass extends FieldClassBase {
  readonly kind: 'float';
  /** 32 or 64. */
  readonly size: number;
  readonly byteOrder: ByteOrder;
}

/** CTF 1.8 string, or CTF 2 null-terminated / static / dynamic length string. */
export interface StringFieldClass extends FieldClassBase {
  readonly kind: 'string';
  readonly encoding: StringEncoding | 'utf16be' | 'utf16le' | 'utf32be' | 'utf32le';
  /** CTF 2 static-length-string: length in bytes. */
  readonly staticLength?: number;
  /** CTF 2 dynamic-length-string: slot holding the length in bytes. */
  readonly lengthSlot?: number;
}

export interface StructMember {
  /** Name as shown by babeltrace2 (CTF 1.8: one leading underscore removed). */
  readonly name: string;
  /** Name as written in the metadata (used for path lookups). */
  readonly originalName: string;
  readonly fc: FieldClass;
}

export interface StructFieldClass extends FieldClassBase {
  readonly kind: 'struct';
  readonly members: readonly StructMember[];
}

export interface VariantOption {
  readonly name: string;
  readonly originalName: string;
  readonly fc: FieldClass;
  /** CTF 2 selector ranges (CTF 1.8: derived from the tag enum's labels by the passes). */
  readonly ranges: ReadonlyArray<readonly [bigint, bigint]>;
}

export interface VariantFieldClass extends FieldClassBase {
  readonly kind: 'variant';
  /** Slot holding the tag (selector) value. */
  readonly tagSlot: number;
  readonly options: readonly VariantOption[];
}

export interface ArrayFieldClass extends FieldClassBase {
  readonly kind: 'array';
  readonly length: number;
  readonly element: FieldClass;
  /** Element is an 8-bit byte-aligned integer with an encoding: printed as a string up to the first NUL. */
  readonly isText: boolean;
}

export interface SequenceFieldClass extends FieldClassBase {
  readonly kind: 'sequence';
  readonly lengthSlot: number;
  readonly element: FieldClass;
  readonly isText: boolean;
}

/** CTF 2 only. */
export interface BoolFieldClass extends FieldClassBase {
  readonly kind: 'bool';
  readonly size: number;
  readonly byteOrder: ByteOrder;
}
export interface BitArrayFieldClass extends FieldClassBase {
  readonly kind: 'bit-array';
  readonly size: number;
  readonly byteOrder: ByteOrder;
  readonly flags?: ReadonlyArray<{ readonly label: string; readonly ranges: ReadonlyArray<readonly [bigint, bigint]> }>;
}
export interface VarIntFieldClass extends FieldClassBase {
  readonly kind: 'varint';
  readonly signed: boolean;
  readonly base: DisplayBase;
  readonly mappings?: readonly EnumMapping[];
  role?: FieldRole;
  storeSlot?: number;
}
export interface BlobFieldClass extends FieldClassBase {
  readonly kind: 'blob';
  readonly staticLength?: number;
  readonly lengthSlot?: number;
  readonly mediaType: string;
}
export interface OptionalFieldClass extends FieldClassBase {
  readonly kind: 'optional';
  readonly selectorSlot: number;
  /** Boolean selector when absent; integer selector ranges when present. */
  readonly selectorRanges?: ReadonlyArray<readonly [bigint, bigint]>;
  readonly fc: FieldClass;
}

export type FieldClass =
  | IntegerFieldClass
  | EnumFieldClass
  | FloatFieldClass
  | StringFieldClass
  | StructFieldClass
  | VariantFieldClass
  | ArrayFieldClass
  | SequenceFieldClass
  | BoolFieldClass
  | BitArrayFieldClass
  | VarIntFieldClass
  | BlobFieldClass
  | OptionalFieldClass;

export interface ClockClass {
  readonly name: string;
  readonly description?: string;
  /** Hz. */
  readonly frequency: number;
  /** Offsets after normalisation (offsetCycles < frequency); --clock-offset is applied by the source. */
  offsetSeconds: bigint;
  offsetCycles: bigint;
  readonly precision: number;
  readonly uuid?: string;
  /** `absolute = true`, CTF 2 unix-epoch origin, or the LTTng monotonic rule (see docs/ctf-babeltrace.md 1.1). */
  originIsUnixEpoch: boolean;
}

export interface EventClass {
  readonly id: number;
  readonly name: string;
  readonly streamClassId: number;
  /** TSDL `loglevel` (0..14) when given. */
  readonly logLevel?: number;
  readonly emfUri?: string;
  readonly specificContext?: StructFieldClass;
  readonly payload?: StructFieldClass;
}

export interface StreamClass {
  readonly id: number;
  readonly packetContext?: StructFieldClass;
  readonly eventHeader?: StructFieldClass;
  readonly eventCommonContext?: StructFieldClass;
  readonly eventClasses: Map<number, EventClass>;
  /** Clock mapped by the stream's timestamp fields, if any. */
  defaultClock?: ClockClass;
}

export type EnvValue = string | bigint;

export interface TraceClass {
  readonly major: number;
  readonly minor: number;
  /** Canonical lowercase 8-4-4-4-12 form. */
  readonly uuid?: string;
  readonly byteOrder: ByteOrder;
  readonly packetHeader?: StructFieldClass;
  readonly env: Map<string, EnvValue>;
  readonly clocks: Map<string, ClockClass>;
  readonly streamClasses: Map<number, StreamClass>;
  /** Number of value slots the decoder must allocate (max storeSlot + 1). */
  readonly slotCount: number;
  /** Non-fatal diagnostics (unknown attributes and the like). */
  readonly warnings: string[];
  /** 1 for TSDL, 2 for CTF 2 JSON. */
  readonly ctfVersion: 1 | 2;
}
