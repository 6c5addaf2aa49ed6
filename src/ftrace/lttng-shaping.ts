// LTTng shaping: how a tracefs event is recorded under LTTng's kernel naming (lttng-modules), and the
// generated converter from a raw ftrace record to the LTTng payload values.
//
// Contract: shapeEvent(format, kind) returns the LTTng event name, the CTF field list (FieldSpec, no common_*
// fields) and `convert(dv, buf, off, len, out)`, a function generated once per event class with `new Function`
// that writes one value per field into `out` (numbers; bigint for 64-bit values beyond 2^53; strings; arrays
// of numbers for arrays/sequences). `off` is the start of the ftrace record (its common_type), `len` its size.
// Well-known events analyses use are reshaped exactly as lttng-modules records them (sched_* with *_tid and
// prio - 100, prev_state as the task_state enum, irq_softirq_*, timer_hrtimer_*, kmem_mm_page_*,
// syscall_entry_X {args} / syscall_exit_X {ret}); every other event keeps its own fields under its own name.

import * as fs from 'node:fs';
import type { EventFormat, FormatField } from './event-format.js';
import type { EnumFieldType, FieldDef, IntegerFieldType } from '../ctf/writer/field-types.js';
import type { FieldSource } from '../ctf/writer/event-encoder.js';

export type IntSpec = IntegerFieldType;
export type EnumSpec = EnumFieldType;
/** A payload field as the CTF writer takes it (name without LTTng's leading underscore). */
export type FieldSpec = FieldDef;

export type Converter = (dv: DataView, buf: Buffer, off: number, len: number, out: unknown[]) => void;

/** One LTTng field's value read from an ftrace record at `off` (the converter's expression for that field). */
export type FieldReader = (dv: DataView, buf: Buffer, off: number) => unknown;

export type EventKind = 'tracepoint' | 'syscall' | 'uprobe' | 'kprobe';

export interface ShapedEvent {
  /** The LTTng event name (what `ltt list`, filters and the trace show). */
  name: string;
  fields: FieldSpec[];
  convert: Converter;
  /**
   * Where each field comes from in the ftrace record, for a transcoder (CtfTraceWriter.transcoderFactory with
   * `converterHelpers`): byte copies for plain integers and char arrays, else the converter's expression.
   */
  sources: FieldSource[];
  /** tracefs field name behind each LTTng field (undefined for synthesized ones); used to translate filters. */
  sourceOf: Map<string, FormatField>;
  /** Fields whose value is transformed (prio - 100): filters on them cannot go to tracefs as is. */
  transformed: Set<string>;
}

// ---- naming ---------------------------------------------------------------------------------------------

/** lttng-modules LTTNG_TRACEPOINT_EVENT_MAP renames (system/name -> LTTng name). */
const EVENT_RENAMES: Record<string, string> = {
  'irq/softirq_entry': 'irq_softirq_entry',
  'irq/softirq_exit': 'irq_softirq_exit',
  'irq/softirq_raise': 'irq_softirq_raise',
  'timer/hrtimer_init': 'timer_hrtimer_init',
  'timer/hrtimer_setup': 'timer_hrtimer_init',
  'timer/hrtimer_start': 'timer_hrtimer_start',
  'timer/hrtimer_cancel': 'timer_hrtimer_cancel',
  'timer/hrtimer_expire_entry': 'timer_hrtimer_expire_entry',
  'timer/hrtimer_expire_exit': 'timer_hrtimer_expire_exit',
  'timer/itimer_state': 'timer_itimer_set',
  'timer/itimer_expire': 'timer_itimer_expire',
  'kmem/mm_page_alloc': 'kmem_mm_page_alloc',
  'kmem/mm_page_free': 'kmem_mm_page_free',
  'kmem/mm_page_free_batched': 'kmem_mm_page_free_batched',
  'kmem/mm_page_alloc_zone_locked': 'kmem_mm_page_alloc_zone_locked',
  'kmem/mm_page_pcpu_drain': 'kmem_mm_page_pcpu_drain',
  'kmem/mm_page_alloc_extfrag': 'kmem_mm_page_alloc_extfrag',
  'kmem/kmalloc': 'kmem_kmalloc',
  'kmem/kfree': 'kmem_kfree',
  'power/cpu_idle': 'power_cpu_idle',
  'power/cpu_frequency': 'power_cpu_frequency',
  'exceptions/page_fault_user': 'x86_exceptions_page_fault_user',
  'exceptions/page_fault_kernel': 'x86_exceptions_page_fault_kernel',
};

/** LTTng name of a tracefs tracepoint. */
export function lttngNameOf(system: string, name: string): string {
  const r = EVENT_RENAMES[`${system}/${name}`];
  if (r) return r;
  if (system === 'irq_vectors') return `x86_irq_vectors_${name}`;
  if (system === 'syscalls') {
    if (name.startsWith('sys_enter_')) return `syscall_entry_${name.slice(10)}`;
    if (name.startsWith('sys_exit_')) return `syscall_exit_${name.slice(9)}`;
  }
  return name;
}

/** Reverse map for enabling by LTTng name: LTTng name -> tracefs system/name (only renamed ones). */
export function tracefsNameOf(lttngName: string): { system: string; name: string } | undefined {
  for (const [k, v] of Object.entries(EVENT_RENAMES)) {
    if (v === lttngName) {
      const [system, name] = k.split('/') as [string, string];
      return { system, name };
    }
  }
  if (lttngName.startsWith('x86_irq_vectors_')) return { system: 'irq_vectors', name: lttngName.slice(16) };
  return undefined;
}

// lttng-modules sched.h: task_state enum of prev_state.
const TASK_STATE: Array<[string, number]> = [
  ['TASK_RUNNING', 0], ['TASK_INTERRUPTIBLE', 1], ['TASK_UNINTERRUPTIBLE', 2], ['TASK_STOPPED', 4],
  ['TASK_TRACED', 8], ['EXIT_DEAD', 16], ['EXIT_ZOMBIE', 32], ['TASK_PARKED', 64], ['TASK_DEAD', 128],
  ['TASK_WAKEKILL', 256], ['TASK_WAKING', 512], ['TASK_NOLOAD', 1024], ['TASK_NEW', 2048], ['TASK_STATE_MAX', 4096],
];
const TASK_STATE_ENUM: EnumSpec = {
  kind: 'enum',
  container: { kind: 'int', size: 64, signed: true, base: 10 },
  mappings: TASK_STATE.map(([label, value]) => ({ label, value })),
};

const SCHED_TID_RENAMES: Record<string, string> = {
  pid: 'tid', prev_pid: 'prev_tid', next_pid: 'next_tid', old_pid: 'old_tid', parent_pid: 'parent_tid', child_pid: 'child_tid',
};
const SCHED_PRIO_FIELDS = new Set(['prio', 'prev_prio', 'next_prio', 'oldprio', 'newprio']);
/** MAX_RT_PRIO: lttng-modules records prio - MAX_RT_PRIO. */
const MAX_RT_PRIO = 100;

/**
 * Events whose LTTng field list differs from ftrace's: lttng-modules order, `tid` taken from common_pid,
 * `rwbs` recorded as the RWBS_FLAG_* bit set instead of ftrace's text. Fields ftrace lacks are left out.
 */
const FIELD_LISTS: Record<string, string[]> = {
  'block/block_rq_insert': ['dev', 'sector', 'nr_sector', 'bytes', 'tid', 'rwbs', 'comm'],
  'block/block_rq_issue': ['dev', 'sector', 'nr_sector', 'bytes', 'tid', 'rwbs', 'comm'],
  'block/block_rq_merge': ['dev', 'sector', 'nr_sector', 'bytes', 'tid', 'rwbs', 'comm'],
  'block/block_rq_complete': ['dev', 'sector', 'nr_sector', 'error', 'rwbs'],
  'block/block_rq_requeue': ['dev', 'sector', 'nr_sector', 'rwbs'],
  'block/block_bio_complete': ['dev', 'sector', 'nr_sector', 'error', 'rwbs'],
  'block/block_bio_remap': ['dev', 'sector', 'nr_sector', 'rwbs', 'old_dev', 'old_sector'],
  'block/block_bio_bounce': ['dev', 'sector', 'nr_sector', 'rwbs', 'tid', 'comm'],
  'block/block_bio_backmerge': ['dev', 'sector', 'nr_sector', 'rwbs', 'tid', 'comm'],
  'block/block_bio_frontmerge': ['dev', 'sector', 'nr_sector', 'rwbs', 'tid', 'comm'],
  'block/block_bio_queue': ['dev', 'sector', 'nr_sector', 'rwbs', 'tid', 'comm'],
  'block/block_getrq': ['dev', 'sector', 'nr_sector', 'rwbs', 'tid', 'comm'],
  'net/net_dev_xmit': ['skbaddr', 'rc', 'len', 'name'],
};

// ---- C types of syscall arguments (tracefs gives every argument 8 bytes) -------------------------------

function syscallArgType(f: FormatField): IntSpec {
  const t = f.type.replace(/\bconst\b|\bvolatile\b|\b__user\b/g, '').trim();
  if (t.includes('*')) return { kind: 'int', size: 64, signed: false, base: 16 };
  if (/^(unsigned|u32|__u32|uid_t|gid_t|qid_t|key_serial_t|mqd_t|unsigned int|fmode_t|aio_context_t|rwf_t)$/.test(t)) return { kind: 'int', size: 32, signed: false, base: 10 };
  if (/^(umode_t|u16|__u16)$/.test(t)) return { kind: 'int', size: 16, signed: false, base: 10 };
  if (/^(int|pid_t|clockid_t|timer_t|key_t|__s32|s32)$/.test(t)) return { kind: 'int', size: 32, signed: true, base: 10 };
  if (/^(long|off_t|loff_t|ssize_t|time_t|__kernel_old_time_t|s64|__s64)$/.test(t)) return { kind: 'int', size: 64, signed: true, base: 10 };
  return { kind: 'int', size: 64, signed: false, base: 10 };
}

// ---- code generation ------------------------------------------------------------------------------------

/** Helpers the generated converters call (kept monomorphic and allocation-light). */
export const converterHelpers = {
  u64(dv: DataView, o: number): number | bigint {
    const hi = dv.getUint32(o + 4, true);
    const lo = dv.getUint32(o, true);
    return hi < 0x200000 ? hi * 4294967296 + lo : (BigInt(hi) << 32n) | BigInt(lo);
  },
  i64(dv: DataView, o: number): number | bigint {
    const hi = dv.getInt32(o + 4, true);
    const lo = dv.getUint32(o, true);
    return hi >= -0x200000 && hi < 0x200000 ? hi * 4294967296 + lo : (BigInt(hi) << 32n) | BigInt(lo);
  },
  /** NUL-terminated text within [o, o+max). */
  cstr(buf: Buffer, o: number, max: number): string {
    let e = o;
    const end = o + max;
    while (e < end && buf[e] !== 0) e++;
    return buf.toString('utf8', o, e);
  },
  /** __data_loc string: u32 (offset from record start | length << 16). */
  dstr(dv: DataView, buf: Buffer, rec: number, o: number): string {
    const v = dv.getUint32(o, true);
    const s = rec + (v & 0xffff);
    let e = s;
    const end = s + (v >>> 16);
    while (e < end && buf[e] !== 0) e++;
    return buf.toString('utf8', s, e);
  },
  /** __rel_loc string: offset relative to the end of the 4-byte field. */
  rstr(dv: DataView, buf: Buffer, o: number): string {
    const v = dv.getUint32(o, true);
    const s = o + 4 + (v & 0xffff);
    let e = s;
    const end = s + (v >>> 16);
    while (e < end && buf[e] !== 0) e++;
    return buf.toString('utf8', s, e);
  },
  ints(dv: DataView, o: number, count: number, size: number, signed: boolean): Array<number | bigint> {
    const a: Array<number | bigint> = new Array(count);
    for (let i = 0; i < count; i++) a[i] = converterHelpers.int(dv, o + i * size, size, signed);
    return a;
  },
  int(dv: DataView, o: number, size: number, signed: boolean): number | bigint {
    switch (size) {
      case 1: return signed ? dv.getInt8(o) : dv.getUint8(o);
      case 2: return signed ? dv.getInt16(o, true) : dv.getUint16(o, true);
      case 4: return signed ? dv.getInt32(o, true) : dv.getUint32(o, true);
      default: return signed ? converterHelpers.i64(dv, o) : converterHelpers.u64(dv, o);
    }
  },
  /** __data_loc/__rel_loc array. */
  dints(dv: DataView, rec: number, o: number, rel: boolean, size: number, signed: boolean): Array<number | bigint> {
    const v = dv.getUint32(o, true);
    const s = (rel ? o + 4 : rec) + (v & 0xffff);
    return converterHelpers.ints(dv, s, Math.floor((v >>> 16) / size), size, signed);
  },
  /** ftrace's rwbs text (e.g. "FWS") as lttng-modules' RWBS_FLAG_* bits. */
  rwbs(buf: Buffer, o: number, max: number): number {
    let v = 0;
    for (let i = 0; i < max; i++) {
      const c = buf[o + i];
      if (c === 0 || c === undefined) break;
      switch (c) {
        case 0x46: v |= i === 0 ? 1 << 10 : 1 << 9; break; // F: preflush first, FUA later
        case 0x57: v |= 1; break; // W
        case 0x44: v |= 2; break; // D
        case 0x52: v |= 4; break; // R
        case 0x41: v |= 8; break; // A
        case 0x53: v |= 32; break; // S
        case 0x4d: v |= 64; break; // M
        case 0x45: v |= 128; break; // E
      }
    }
    return v;
  },
  /** Thread-group id of a thread, for sched_process_fork's parent_pid/child_pid (tracefs lacks them). */
  tgidOf(tid: number): number {
    const cached = tgidCache.get(tid);
    if (cached !== undefined) return cached;
    let tgid = tid;
    try {
      const m = /\nTgid:\s*(\d+)/.exec(fs.readFileSync(`/proc/${tid}/status`, 'latin1'));
      if (m) tgid = Number(m[1]);
    } catch {
      // The thread is gone: a process's first thread has tid == tgid, the best guess left.
    }
    if (tgidCache.size > 65536) tgidCache.clear();
    tgidCache.set(tid, tgid);
    return tgid;
  },
  /** A new thread (fork): forget what a previous owner of this tid was. */
  freshTgid(tid: number): number {
    tgidCache.delete(tid);
    return converterHelpers.tgidOf(tid);
  },
  pidNsInum(tid: number): number {
    try {
      return Number(fs.statSync(`/proc/${tid}/ns/pid`).ino);
    } catch {
      return 0;
    }
  },
};
const tgidCache = new Map<number, number>();

/** Seed the thread -> thread-group map (the statedump knows every live thread). */
export function rememberTgid(tid: number, tgid: number): void {
  tgidCache.set(tid, tgid);
}

function intSpecOf(f: FormatField, size = f.size): IntSpec {
  const bits = (size * 8) as 8 | 16 | 32 | 64;
  return { kind: 'int', size: bits, signed: f.signed && !f.isPointer, base: f.isPointer ? 16 : 10 };
}

function readExpr(f: FormatField, size: number, signed: boolean, at = `off + ${f.offset}`): string {
  switch (size) {
    case 1: return signed ? `dv.getInt8(${at})` : `dv.getUint8(${at})`;
    case 2: return signed ? `dv.getInt16(${at}, true)` : `dv.getUint16(${at}, true)`;
    case 4: return signed ? `dv.getInt32(${at}, true)` : `dv.getUint32(${at}, true)`;
    default: return signed ? `h.i64(dv, ${at})` : `h.u64(dv, ${at})`;
  }
}

interface Plan {
  spec: FieldSpec;
  expr: string;
  /** Offset of the source bytes when the field is a plain copy of them (integers: low bytes; char arrays). */
  copy?: number;
  source?: FormatField;
  transformed?: boolean;
}

/** The default plan of one tracefs field: same name, natural CTF type. */
function defaultPlan(f: FormatField, name = f.name): Plan {
  switch (f.layout) {
    case 'int':
      if (f.size === 1 || f.size === 2 || f.size === 4 || f.size === 8) {
        return { spec: { name, ...intSpecOf(f) }, expr: readExpr(f, f.size, f.signed && !f.isPointer), source: f, copy: f.offset };
      }
      return { spec: { name, kind: 'array', length: f.size, element: { kind: 'int', size: 8, signed: false, base: 16 } }, expr: `h.ints(dv, off + ${f.offset}, ${f.size}, 1, false)`, source: f };
    case 'char-array':
      return { spec: { name, kind: 'text', length: f.size }, expr: `h.cstr(buf, off + ${f.offset}, ${f.size})`, source: f, copy: f.offset };
    case 'array': {
      const es = [1, 2, 4, 8].includes(f.elemSize) ? f.elemSize : 1;
      const n = es === f.elemSize ? f.count : f.size;
      const elem: IntSpec = { kind: 'int', size: (es * 8) as 8 | 16 | 32 | 64, signed: f.signed && !f.isPointer, base: f.isPointer ? 16 : 10 };
      return { spec: { name, kind: 'array', length: n, element: elem }, expr: `h.ints(dv, off + ${f.offset}, ${n}, ${es}, ${elem.signed})`, source: f };
    }
    case 'dyn-string':
      return { spec: { name, kind: 'string' }, expr: `h.dstr(dv, buf, off, off + ${f.offset})`, source: f };
    case 'rel-string':
      return { spec: { name, kind: 'string' }, expr: `h.rstr(dv, buf, off + ${f.offset})`, source: f };
    case 'dyn-array':
    case 'rel-array': {
      const es = [1, 2, 4, 8].includes(f.elemSize) ? f.elemSize : 1;
      const elem: IntSpec = { kind: 'int', size: (es * 8) as 8 | 16 | 32 | 64, signed: f.signed, base: 10 };
      return { spec: { name, kind: 'sequence', element: elem }, expr: `h.dints(dv, off, off + ${f.offset}, ${f.layout === 'rel-array'}, ${es}, ${elem.signed})`, source: f };
    }
  }
}

function plansFor(format: EventFormat, kind: EventKind): Plan[] {
  const { system, name } = format;
  const fields = format.fields;
  const byName = new Map(fields.map((f) => [f.name, f] as const));
  if (kind === 'syscall' || system === 'syscalls') {
    if (name.startsWith('sys_exit_')) {
      const ret = byName.get('ret');
      return ret ? [{ spec: { name: 'ret', ...{ kind: 'int', size: 64, signed: true, base: 10 } }, expr: readExpr(ret, 8, true), source: ret, ...(ret.size >= 8 ? { copy: ret.offset } : {}) }] : [];
    }
    return fields
      .filter((f) => f.name !== '__syscall_nr')
      .map((f) => {
        const t = syscallArgType(f);
        // tracefs stores every argument as 8 bytes: a narrower or signed LTTng type cannot be filtered in tracefs.
        return {
          spec: { name: f.name, ...t },
          expr: readExpr(f, t.size / 8, t.signed === true),
          source: f,
          transformed: t.size / 8 !== f.size || (t.signed === true) !== f.signed,
          ...(f.size >= t.size / 8 ? { copy: f.offset } : {}),
        };
      });
  }
  if (kind === 'uprobe' || kind === 'kprobe') {
    return fields.map((f) => (f.name === '__probe_ip' ? { ...defaultPlan(f, 'ip'), spec: { name: 'ip', ...{ kind: 'int', size: 64, signed: false, base: 16 } } } : defaultPlan(f)));
  }
  const list = FIELD_LISTS[`${system}/${name}`];
  if (list) {
    const plans: Plan[] = [];
    for (const n of list) {
      if (n === 'tid') {
        plans.push({ spec: { name: 'tid', kind: 'int', size: 32, signed: true, base: 10 }, expr: 'dv.getInt32(off + 4, true)', transformed: true, copy: 4 });
        continue;
      }
      const f = byName.get(n);
      if (!f) continue;
      if (n === 'rwbs' && f.layout === 'char-array') {
        plans.push({ spec: { name: 'rwbs', kind: 'int', size: 32, signed: false, base: 10 }, expr: `h.rwbs(buf, off + ${f.offset}, ${f.size})`, source: f, transformed: true });
      } else plans.push(defaultPlan(f));
    }
    return plans;
  }
  if (system === 'sched' && name === 'sched_process_fork') {
    const pc = byName.get('parent_comm'), pp = byName.get('parent_pid'), cc = byName.get('child_comm'), cp = byName.get('child_pid');
    if (pc && pp && cc && cp) {
      const i32: IntSpec = { kind: 'int', size: 32, signed: true, base: 10 };
      const u32: IntSpec = { kind: 'int', size: 32, signed: false, base: 10 };
      const ptid = readExpr(pp, 4, true), ctid = readExpr(cp, 4, true);
      return [
        { ...defaultPlan(pc) },
        { spec: { name: 'parent_tid', ...i32 }, expr: ptid, source: pp, copy: pp.offset },
        { spec: { name: 'parent_pid', ...i32 }, expr: `h.tgidOf(${ptid})`, transformed: true },
        { spec: { name: 'parent_ns_inum', ...u32 }, expr: `h.pidNsInum(${ptid})`, transformed: true },
        { ...defaultPlan(cc) },
        { spec: { name: 'child_tid', ...i32 }, expr: ctid, source: cp, copy: cp.offset },
        { spec: { name: 'vtids', kind: 'sequence', element: i32 }, expr: `[${ctid}]`, transformed: true },
        { spec: { name: 'child_pid', ...i32 }, expr: `h.freshTgid(${ctid})`, transformed: true },
        { spec: { name: 'child_ns_inum', ...u32 }, expr: `h.pidNsInum(${ctid})`, transformed: true },
      ];
    }
  }
  if (system === 'sched') {
    return fields.map((f) => {
      const renamed = SCHED_TID_RENAMES[f.name] ?? f.name;
      if (name === 'sched_switch' && f.name === 'prev_state') {
        return { spec: { name: 'prev_state', ...TASK_STATE_ENUM }, expr: readExpr(f, f.size, true), source: f, ...(f.size * 8 >= TASK_STATE_ENUM.container.size ? { copy: f.offset } : {}) };
      }
      if (SCHED_PRIO_FIELDS.has(f.name) && f.layout === 'int' && f.size === 4) {
        return { spec: { name: renamed, ...{ kind: 'int', size: 32, signed: true, base: 10 } }, expr: `(${readExpr(f, 4, true)} - ${MAX_RT_PRIO})`, source: f, transformed: true };
      }
      return defaultPlan(f, renamed);
    });
  }
  return fields.map((f) => defaultPlan(f));
}

/**
 * A plan's `copy` stands for its expression only when the bytes are the value: a little-endian integer at
 * least as wide as the field (common_pid for `tid` has no FormatField: 4 bytes), or a char array into text of
 * the same length.
 */
function copyable(spec: FieldSpec, source: FormatField | undefined): boolean {
  const int = spec.kind === 'int' ? spec : spec.kind === 'enum' ? spec.container : undefined;
  if (int !== undefined) return int.byteOrder !== 'be' && (source === undefined ? int.size <= 32 : source.size * 8 >= int.size);
  return spec.kind === 'text' && source !== undefined && source.layout === 'char-array' && source.size === spec.length;
}

/**
 * A reader of the LTTng field `field` of `format` as shapeEvent converts it (undefined when there is no such
 * field), for code that needs a few values of each record and none of the rest (the consumer's thread table).
 */
export function fieldReader(format: EventFormat, kind: EventKind, field: string): FieldReader | undefined {
  const plan = plansFor(format, kind).find((p) => p.spec.name === field);
  if (plan === undefined) return undefined;
  return (new Function('h', `return function read_${field}(dv, buf, off) { return ${plan.expr}; };`) as (h: typeof converterHelpers) => FieldReader)(converterHelpers);
}

/** Shape a tracefs event as LTTng records it, with its generated converter. */
export function shapeEvent(format: EventFormat, kind: EventKind = 'tracepoint', lttngName?: string, compile = true): ShapedEvent {
  const plans = plansFor(format, kind);
  const sourceOf = new Map<string, FormatField>();
  const transformed = new Set<string>();
  for (const p of plans) {
    if (p.source) sourceOf.set(p.spec.name, p.source);
    if (p.transformed) transformed.add(p.spec.name);
  }
  const name = lttngName ?? (kind === 'tracepoint' || kind === 'syscall' ? lttngNameOf(format.system, format.name) : format.name);
  const sources = plans.map((p): FieldSource => (p.copy !== undefined && copyable(p.spec, p.source) ? { copy: p.copy } : { expr: p.expr }));
  if (!compile) return { name, fields: plans.map((p) => p.spec), convert: () => undefined, sources, sourceOf, transformed };
  // Field names are identifiers in CTF metadata and generated code: keep [A-Za-z0-9_] only.
  const body = plans.map((p, i) => `out[${i}] = ${p.expr};`).join('\n');
  const factory = new Function('h', `return function convert_${format.name.replace(/\W/g, '_')}(dv, buf, off, len, out) {\n${body}\n};`) as (h: typeof converterHelpers) => Converter;
  return {
    name,
    fields: plans.map((p) => p.spec),
    convert: factory(converterHelpers),
    sources,
    sourceOf,
    transformed,
  };
}
