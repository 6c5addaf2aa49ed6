// Parser for tracefs event format files (events/SYSTEM/NAME/format) and the event catalog built from them.
//
// Contract: parseEventFormat() turns the text of one format file into an EventFormat (id, fields with offsets,
// sizes, signedness and their layout kind: scalar, fixed array, char array, __data_loc/__rel_loc string or
// dynamic array, pointer). The `print fmt` line is ignored. common_* fields are kept apart in `common`.
// Catalog functions read tracefs (top level events/ is shared by all instances and read only).

import * as tracefs from './tracefs.js';
import { LttError } from '../errors.js';

export type FieldLayout =
  | 'int' // scalar integer (1, 2, 4 or 8 bytes)
  | 'char-array' // char name[N]: NUL-terminated text in a fixed slot
  | 'array' // fixed array of integers
  | 'dyn-string' // __data_loc char[] (u32: offset | length << 16), offset from record start
  | 'dyn-array' // __data_loc T[]
  | 'rel-string' // __rel_loc char[]: offset relative to the end of the field
  | 'rel-array';

export interface FormatField {
  readonly name: string;
  /** The C type as written, e.g. "unsigned long", "char", "pid_t", "const char *". */
  readonly type: string;
  readonly offset: number;
  readonly size: number;
  readonly signed: boolean;
  readonly layout: FieldLayout;
  /** Element size in bytes for arrays (and the scalar size for `int`). */
  readonly elemSize: number;
  /** Element count for fixed arrays and char arrays. */
  readonly count: number;
  readonly isPointer: boolean;
}

export interface EventFormat {
  readonly system: string;
  readonly name: string;
  readonly id: number;
  readonly common: readonly FormatField[];
  readonly fields: readonly FormatField[];
}

const FIELD_RE = /^\s*field:(.*);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d+);/;

const TYPE_SIZES: Record<string, number> = {
  char: 1, u8: 1, s8: 1, __u8: 1, __s8: 1, bool: 1, _Bool: 1,
  short: 2, u16: 2, s16: 2, __u16: 2, __s16: 2, __le16: 2, __be16: 2,
  int: 4, u32: 4, s32: 4, __u32: 4, __s32: 4, __le32: 4, __be32: 4, pid_t: 4, gfp_t: 4,
  long: 8, u64: 8, s64: 8, __u64: 8, __s64: 8, __le64: 8, __be64: 8,
};

/** Best guess of an array element size from its C type; falls back to size/count. */
function elementSize(baseType: string, totalSize: number, count: number): number {
  const words = baseType.replace(/\b(const|volatile|unsigned|signed|struct|enum)\b/g, ' ').trim().split(/\s+/);
  const last = words[words.length - 1] ?? '';
  const known = TYPE_SIZES[last];
  if (known !== undefined) return known;
  if (count > 0 && totalSize % count === 0) return totalSize / count;
  return 1;
}

function parseField(decl: string, offset: number, size: number, signed: boolean): FormatField {
  decl = decl.trim();
  let layout: FieldLayout;
  let isPointer = false;
  let count = 1;
  let elemSize = size;
  let m: RegExpMatchArray | null;
  const dyn = /^__(data|rel)_loc\s+(.*?)\s*\[\s*\]\s+(\w+)$/.exec(decl) ?? /^__(data|rel)_loc\s+(.*?)\s+(\w+)\s*\[\s*\]$/.exec(decl);
  if (dyn) {
    const [, kind, base, name] = dyn as unknown as [string, string, string, string];
    const isChar = /\bchar$/.test(base.trim());
    layout = kind === 'data' ? (isChar ? 'dyn-string' : 'dyn-array') : isChar ? 'rel-string' : 'rel-array';
    elemSize = isChar ? 1 : elementSize(base, 0, 0);
    return { name, type: base.trim(), offset, size, signed, layout, elemSize, count: 0, isPointer };
  }
  if ((m = /^(.*?)\s*(\w+)\s*\[\s*([^\]]*)\s*\]$/.exec(decl))) {
    const base = m[1]!.trim();
    const name = m[2]!;
    const n = Number(m[3]);
    const isChar = /\bchar$/.test(base) && !/\*/.test(base);
    elemSize = isChar ? 1 : elementSize(base, size, Number.isFinite(n) && n > 0 ? n : 0);
    count = Number.isFinite(n) && n > 0 ? n : Math.floor(size / elemSize);
    layout = isChar ? 'char-array' : 'array';
    if (/\*/.test(base)) isPointer = true;
    return { name, type: base, offset, size, signed, layout, elemSize, count, isPointer };
  }
  m = /^(.*?)\s*(\w+)$/.exec(decl);
  if (!m) throw new LttError('KERNEL_FORMAT', `Cannot parse tracefs field declaration: ${decl}`);
  const type = m[1]!.trim();
  isPointer = type.includes('*');
  layout = 'int';
  return { name: m[2]!, type, offset, size, signed, layout, elemSize: size, count: 1, isPointer };
}

/** Parse one events/SYSTEM/NAME/format text. */
export function parseEventFormat(text: string, system: string): EventFormat {
  let name = '';
  let id = -1;
  const common: FormatField[] = [];
  const fields: FormatField[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('name: ')) name = line.slice(6).trim();
    else if (line.startsWith('ID: ')) id = Number(line.slice(4));
    else if (line.startsWith('print fmt:')) break;
    else {
      const m = FIELD_RE.exec(line);
      if (!m) continue;
      const f = parseField(m[1]!, Number(m[2]), Number(m[3]), m[4] === '1');
      (f.name.startsWith('common_') ? common : fields).push(f);
    }
  }
  if (!name || id < 0) throw new LttError('KERNEL_FORMAT', `Malformed tracefs format for system ${system}: no name or ID line`);
  return { system, name, id, common, fields };
}

/** The ring-buffer header formats (events/header_page, events/header_event) this kernel uses. */
export interface HeaderPageFormat {
  timestampOffset: number;
  commitOffset: number;
  commitSize: number;
  dataOffset: number;
  dataSize: number;
}

export function parseHeaderPage(text: string): HeaderPageFormat {
  const out: Partial<HeaderPageFormat> = {};
  for (const line of text.split('\n')) {
    const m = /field:\s*(.*?)\s+(\w+);\s*offset:(\d+);\s*size:(\d+);/.exec(line);
    if (!m) continue;
    const [, , fname, off, sz] = m;
    if (fname === 'timestamp') out.timestampOffset = Number(off);
    else if (fname === 'commit') (out.commitOffset = Number(off)), (out.commitSize = Number(sz));
    else if (fname === 'data') (out.dataOffset = Number(off)), (out.dataSize = Number(sz));
  }
  if (out.timestampOffset === undefined || out.commitOffset === undefined || out.dataOffset === undefined) {
    throw new LttError('KERNEL_FORMAT', 'Cannot parse events/header_page: timestamp, commit or data field missing');
  }
  return out as HeaderPageFormat;
}

export interface HeaderEventFormat {
  typeLenBits: number;
  timeDeltaBits: number;
  padding: number;
  timeExtend: number;
  timeStamp: number;
  dataMaxTypeLen: number;
}

export function parseHeaderEvent(text: string): HeaderEventFormat {
  const num = (re: RegExp, dflt: number): number => {
    const m = re.exec(text);
    return m ? Number(m[1]) : dflt;
  };
  return {
    typeLenBits: num(/type_len\s*:\s*(\d+)\s*bits/, 5),
    timeDeltaBits: num(/time_delta\s*:\s*(\d+)\s*bits/, 27),
    padding: num(/padding\s*:\s*type\s*==\s*(\d+)/, 29),
    timeExtend: num(/time_extend\s*:\s*type\s*==\s*(\d+)/, 30),
    timeStamp: num(/time_stamp\s*:\s*type\s*==\s*(\d+)/, 31),
    dataMaxTypeLen: num(/data max type_len\s*==\s*(\d+)/, 28),
  };
}

// ---- catalog --------------------------------------------------------------------------------------------

const formatCache = new Map<string, EventFormat>();

/** Read and parse events/SYSTEM/NAME/format (cached: formats do not change while the kernel runs). */
export function readEventFormat(system: string, name: string): EventFormat {
  const key = `${system}/${name}`;
  let f = formatCache.get(key);
  if (!f) {
    f = parseEventFormat(tracefs.readText(`events/${system}/${name}/format`), system);
    formatCache.set(key, f);
  }
  return f;
}

/** Every SYSTEM/NAME pair tracefs offers (from the events/ tree, which also lists dynamic events). */
export function listEventNames(): Array<{ system: string; name: string }> {
  const out: Array<{ system: string; name: string }> = [];
  for (const system of tracefs.listDir('events').sort()) {
    if (system === 'header_page' || system === 'header_event' || system === 'enable' || system === 'filter') continue;
    for (const name of tracefs.listDir(`events/${system}`).sort()) {
      if (name === 'enable' || name === 'filter') continue;
      out.push({ system, name });
    }
  }
  return out;
}

/** System of a bare event name, e.g. sched_switch -> sched (first match in events/*). */
export function systemOf(name: string): string | undefined {
  for (const system of tracefs.listDir('events')) {
    if (tracefs.exists(`events/${system}/${name}/format`)) return system;
  }
  return undefined;
}
