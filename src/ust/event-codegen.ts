// Per-event-class code generation of emit functions (the tracepoint hot path).
//
// Contract: compileEmitter() returns a function taking the event's field values positionally that, when the event
// is enabled, reads CLOCK_MONOTONIC once and writes one CTF record (event_header_large, the stream's event
// context, the payload) straight into the thread's ring buffer, with no allocation for integer, float, bool,
// enum and ASCII string values. It is specialised for one event class, one ring and one context list: field
// offsets, sizes, the event id and constant contexts (vpid, vtid, procname) are literals in the generated code.
// contextTsdl() gives the matching `event.context` declaration for the metadata.

import { executionAsyncId } from 'node:async_hooks';
import type { FieldSpec, ScalarSpec } from './fields.js';
import { scalarSize } from './fields.js';
import { BASE_LO, BASE_SEC } from './clock.js';
import type { RingProducer } from './ring-buffer.js';
import { CTL_COMMIT } from './ring-layout.js';
import type { FilterContext } from '../filter/compile-filter.js';

export type ContextName = 'vpid' | 'vtid' | 'procname' | 'async_id';
export const CONTEXT_NAMES: readonly ContextName[] = ['vpid', 'vtid', 'procname', 'async_id'];

export interface ContextValues {
  readonly vpid: number;
  readonly vtid: number;
  /** 17 bytes, NUL-padded (lttng-ust's char[17] procname context). */
  readonly procname: Uint8Array;
}

const CONTEXT_SIZE: Record<ContextName, number> = { vpid: 4, vtid: 4, procname: 17, async_id: 8 };

export function contextTsdl(ctx: readonly ContextName[]): string[] {
  return ctx.map((c) => {
    switch (c) {
      case 'vpid':
      case 'vtid':
        return `integer { size = 32; align = 8; signed = 1; encoding = none; base = 10; } _${c};`;
      case 'procname':
        return 'integer { size = 8; align = 8; signed = 1; encoding = UTF8; base = 10; } _procname[17];';
      case 'async_id':
        return 'integer { size = 64; align = 8; signed = 1; encoding = none; base = 10; } _async_id;';
    }
  });
}

/** Coerces a non-string value given for a string field (JS callers); TypeScript callers never get here. */
function strOf(x: unknown): string {
  return x === null || x === undefined ? '' : String(x);
}

/**
 * Encoded size bound of a string with its NUL: 3 bytes per UTF-16 unit is cheap and exact enough for short
 * strings; long ones get their exact UTF-8 length so that a string that fits a sub-buffer is never refused.
 */
function strBound(s: string): number {
  return s.length <= LONG_STRING ? s.length * 3 + 1 : Buffer.byteLength(s, 'utf8') + 1;
}
const LONG_STRING = 256;

/** Size bound of n strings taken from an array-like. */
function strArrBound(a: ArrayLike<unknown>, n: number): number {
  let b = 0;
  for (let k = 0; k < n; k++) {
    const x = a[k];
    b += strBound(typeof x === 'string' ? x : strOf(x));
  }
  return b;
}

function badLabel(event: string, label: unknown): never {
  throw new TypeError(`ltt/ust: event ${event}: unknown enumeration label ${JSON.stringify(label)}`);
}

interface Gen {
  lines: string[];
  consts: unknown[];
  constNames: string[];
}

function addConst(g: Gen, v: unknown): string {
  const name = `K${g.consts.length}`;
  g.consts.push(v);
  g.constNames.push(name);
  return name;
}

function intWrite(bits: number, signed: boolean, x: string, order: 'le' | 'be'): string {
  const le = order === 'le';
  switch (bits) {
    case 8:
      return `dv.set${signed ? 'Int8' : 'Uint8'}(o, ${x}); o += 1;`;
    case 16:
      return `dv.set${signed ? 'Int16' : 'Uint16'}(o, ${x}, ${le}); o += 2;`;
    case 32:
      return `dv.set${signed ? 'Int32' : 'Uint32'}(o, ${x}, ${le}); o += 4;`;
    default: {
      // A bigint is exact; a number is split into two 32-bit words (exact up to 2^53, two's complement).
      const [lo, hi] = le ? ['o', 'o + 4'] : ['o + 4', 'o'];
      return (
        `if (typeof ${x} === 'bigint') dv.setBigInt64(o, ${x}, ${le}); ` +
        `else { dv.setUint32(${lo}, ${x} >>> 0, ${le}); dv.setInt32(${hi}, Math.floor(${x} / 4294967296), ${le}); } o += 8;`
      );
    }
  }
}

function scalarWrite(g: Gen, s: ScalarSpec, x: string, event: string): string {
  switch (s.kind) {
    case 'int':
      return intWrite(s.bits, s.signed, x, s.byteOrder);
    case 'float':
      return s.bits === 32 ? `dv.setFloat32(o, ${x}, true); o += 4;` : `dv.setFloat64(o, ${x}, true); o += 8;`;
    case 'bool':
      return `u8[o++] = ${x} ? 1 : 0;`;
    case 'string':
      return (
        `{ let s = ${x}; if (typeof s !== 'string') s = strOf(s); const n = s.length; let k = 0; ` +
        `for (; k < n; k++) { const c = s.charCodeAt(k); if (c > 127 || c === 0) break; u8[o + k] = c; } ` +
        `if (k === n) { u8[o + n] = 0; o += n + 1; } else o = r.strSlow(s, o, k); }`
      );
    case 'enum': {
      const lv = addConst(g, s.labelValues);
      const ev = addConst(g, event);
      return (
        `{ let e = ${x}; if (typeof e !== 'number') { e = ${lv}[e]; if (e === undefined) badLabel(${ev}, ${x}); } ` +
        `${intWrite(s.container.bits, s.container.signed, 'e', s.container.byteOrder)} }`
      );
    }
  }
}

export interface CompileInput {
  readonly event: { enabled: boolean; readonly name: string };
  readonly fields: readonly FieldSpec[];
  readonly id: number;
  readonly ring: RingProducer;
  readonly contexts: readonly ContextName[];
  readonly contextValues: ContextValues;
  /**
   * `--filter` predicate over the payload values (positional, as emitted) and $ctx values. Checked before the
   * clock read; it allocates the values array, which only filtered events pay.
   */
  readonly filter?: (values: readonly unknown[], ctx: FilterContext) => boolean;
  readonly filterContext?: FilterContext;
}

export type Emitter = (...args: unknown[]) => void;

/** Generates the emit function of one event class for one ring. */
export function compileEmitter(inp: CompileInput): Emitter {
  const g: Gen = { lines: [], consts: [], constNames: [] };
  const args = inp.fields.map((_, i) => `a${i}`);
  const L = g.lines;
  let fixed = 6; // compact event_header_large: u16 id + u32 timestamp
  for (const c of inp.contexts) fixed += CONTEXT_SIZE[c];
  const bound: string[] = [];
  const coerce: string[] = [];
  inp.fields.forEach((f, i) => {
    const a = args[i]!;
    if (f.kind === 'string') {
      coerce.push(`if (typeof ${a} !== 'string') ${a} = strOf(${a});`);
      bound.push(`(${a}.length <= ${LONG_STRING} ? ${a}.length * 3 + 1 : strBound(${a}))`);
    } else if (f.kind === 'array') {
      const es = scalarSize(f.element);
      if (es >= 0) fixed += es * f.length;
      else bound.push(`strArrBound(${a}, ${f.length})`);
    } else if (f.kind === 'sequence') {
      fixed += 4;
      const es = scalarSize(f.element);
      bound.push(es >= 0 ? `(${a}.length >>> 0) * ${es}` : `strArrBound(${a}, ${a}.length >>> 0)`);
    } else {
      fixed += scalarSize(f);
    }
  });
  L.push(`return function emit(${args.join(', ')}) {`);
  L.push('if (ev.enabled !== true) return;');
  L.push(...coerce);
  if (inp.filter !== undefined) L.push(`if (!flt([${args.join(', ')}], fctx)) return;`);
  L.push('const h = hrtime();');
  L.push(`const t = (h[0] - ${BASE_SEC}) * 1e9 + h[1];`);
  L.push(`const need = ${[String(fixed), ...bound].join(' + ')};`);
  L.push('let o = r.off;');
  const forceSlow = inp.id >= 0xffff ? 'true || ' : '';
  L.push(`if (${forceSlow}o + need > r.end || t - r.last > 4294967295) { o = r.reserve(t, need, ${inp.id}); if (o < 0) return; }`);
  L.push(`else { dv.setUint16(o, ${inp.id}, true); dv.setUint32(o + 2, (t + ${BASE_LO}) >>> 0, true); o += 6; }`);
  for (const c of inp.contexts) {
    switch (c) {
      case 'vpid':
        L.push(`dv.setInt32(o, ${inp.contextValues.vpid | 0}, true); o += 4;`);
        break;
      case 'vtid':
        L.push(`dv.setInt32(o, ${inp.contextValues.vtid | 0}, true); o += 4;`);
        break;
      case 'procname': {
        const p = inp.contextValues.procname;
        const w = (k: number) => (p[k]! | (p[k + 1]! << 8) | (p[k + 2]! << 16) | (p[k + 3]! << 24)) >>> 0;
        L.push(
          `dv.setUint32(o, ${w(0)}, true); dv.setUint32(o + 4, ${w(4)}, true); dv.setUint32(o + 8, ${w(8)}, true); ` +
            `dv.setUint32(o + 12, ${w(12)}, true); u8[o + 16] = ${p[16]!}; o += 17;`,
        );
        break;
      }
      case 'async_id':
        L.push('{ const x = eaid(); dv.setUint32(o, x >>> 0, true); dv.setInt32(o + 4, Math.floor(x / 4294967296), true); o += 8; }');
        break;
    }
  }
  inp.fields.forEach((f, i) => {
    const a = args[i]!;
    if (f.kind === 'array') {
      L.push(`{ const A = ${a}; for (let j = 0; j < ${f.length}; j++) { const x = A[j]; ${scalarWrite(g, f.element, 'x', inp.event.name)} } }`);
    } else if (f.kind === 'sequence') {
      L.push(
        `{ const A = ${a}; const m = A.length >>> 0; dv.setUint32(o, m, true); o += 4; ` +
          `for (let j = 0; j < m; j++) { const x = A[j]; ${scalarWrite(g, f.element, 'x', inp.event.name)} } }`,
      );
    } else {
      L.push(scalarWrite(g, f, a, inp.event.name));
    }
  });
  L.push(`r.off = o; r.n++; r.last = t; ctl[${CTL_COMMIT}] = o;`);
  L.push('};');
  const params = ['ev', 'r', 'dv', 'u8', 'ctl', 'hrtime', 'eaid', 'strOf', 'strBound', 'strArrBound', 'badLabel', 'flt', 'fctx', ...g.constNames];
  const factory = new Function(...params, L.join('\n')) as (...p: unknown[]) => Emitter;
  const ring = inp.ring;
  return factory(
    inp.event, ring, ring.dv, ring.u8, ring.ctl, process.hrtime, executionAsyncId, strOf, strBound, strArrBound, badLabel,
    inp.filter, inp.filterContext, ...g.consts,
  );
}

/** The emitter of an event while no session traces it (the event is disabled anyway). */
export const NOOP_EMITTER: Emitter = () => {};
