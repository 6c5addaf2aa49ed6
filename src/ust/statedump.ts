// lttng-ust's state dump for a Node process: lttng_ust_statedump:start, then per ELF object the process has
// mapped (node itself, libc, native addons, ...) bin_info with its build_id and debug_link when it has them, the
// procname, and end. Viewers resolve addresses with these (babeltrace2's debug-info filter, Trace Compass), and
// LTTng's tests enable start/end to see that a dump happened.
//
// Contract: runs in the main thread, when a session of the session daemon starts recording in it and on
// `regenerate statedump` (tracer.ts hands both over through onStatedump()), as lttng-ust dumps at each session's
// start and on request. Nothing is read or declared unless an active session's rules take one of the events,
// so a trace holds these classes only when asked for. The events go to every active session whose rules take
// them (lttng-ust dumps into the one session: a session that records the dump gets one more when another
// session that does starts or asks); objects are listed from /proc/self/maps (lttng-ust walks
// dl_iterate_phdr: the same objects, vdso aside), each file's headers read once per process.

import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { STATEDUMP_EVENTS } from './builtin-tracepoints.js';
import type { FieldSpec } from './fields.js';
import { declareEvent, onStatedump, rulesTake, type EventClass } from './tracer.js';

interface MappedObject {
  /** Lowest address the file is mapped at: its first loadable segment's (lttng-ust's baddr). */
  readonly baddr: bigint;
  readonly path: string;
}

interface ElfFacts {
  readonly isPic: boolean;
  /** The span of its loadable segments (what lttng-ust records: a mapping's extent in /proc can be larger). */
  readonly memsz: bigint;
  readonly buildId: Uint8Array | undefined;
  readonly debugLink: { readonly filename: string; readonly crc: number } | undefined;
}

const ET_DYN = 3;
const PT_LOAD = 1;
const PT_NOTE = 4;
const NT_GNU_BUILD_ID = 3;

/** The files this process has mapped, each at its lowest address (its first segment's, as loaded). */
function mappedObjects(): MappedObject[] {
  const spans = new Map<string, bigint>();
  for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
    // START-END PERMS OFFSET DEV INODE PATH
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ (\d+)\s+(\/.*)$/.exec(line);
    if (m === null || m[3] === '0' || m[4]!.endsWith(' (deleted)')) continue;
    const lo = BigInt(`0x${m[1]}`);
    const s = spans.get(m[4]!);
    if (s === undefined || lo < s) spans.set(m[4]!, lo);
  }
  return [...spans].map(([path, baddr]) => ({ baddr, path }));
}

/** Bytes [at, at + n) of an open file (fewer at its end). */
function readAt(fd: number, at: number, n: number): Buffer {
  const b = Buffer.alloc(n);
  const got = readSync(fd, b, 0, n, at);
  return b.subarray(0, got);
}

/** 64-bit little-endian ELF only (this machine's objects); undefined for anything else. */
function elfFacts(path: string): ElfFacts | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const h = readAt(fd, 0, 64);
    if (h.length < 64 || h.readUInt32BE(0) !== 0x7f454c46 || h[4] !== 2 || h[5] !== 1) return undefined;
    const phoff = Number(h.readBigUInt64LE(32));
    const shoff = Number(h.readBigUInt64LE(40));
    const phentsize = h.readUInt16LE(54);
    const phnum = h.readUInt16LE(56);
    const shentsize = h.readUInt16LE(58);
    const shnum = h.readUInt16LE(60);
    const shstrndx = h.readUInt16LE(62);
    let buildId: Uint8Array | undefined;
    let lo: bigint | undefined;
    let hi = 0n;
    const ph = readAt(fd, phoff, phentsize * phnum);
    for (let i = 0; i + phentsize <= ph.length; i += phentsize) {
      const type = ph.readUInt32LE(i);
      if (type === PT_LOAD) {
        const vaddr = ph.readBigUInt64LE(i + 16);
        const end = vaddr + ph.readBigUInt64LE(i + 40);
        if (lo === undefined || vaddr < lo) lo = vaddr;
        if (end > hi) hi = end;
      }
      if (type !== PT_NOTE || buildId !== undefined) continue;
      const notes = readAt(fd, Number(ph.readBigUInt64LE(i + 8)), Math.min(Number(ph.readBigUInt64LE(i + 32)), 1 << 16));
      // Notes: namesz, descsz, type, then name and desc each padded to 4 bytes.
      for (let at = 0; at + 12 <= notes.length; ) {
        const namesz = notes.readUInt32LE(at);
        const descsz = notes.readUInt32LE(at + 4);
        const type = notes.readUInt32LE(at + 8);
        const desc = at + 12 + ((namesz + 3) & ~3);
        if (desc + descsz > notes.length) break;
        if (type === NT_GNU_BUILD_ID && notes.toString('latin1', at + 12, at + 12 + namesz) === 'GNU\0') {
          buildId = Uint8Array.from(notes.subarray(desc, desc + descsz));
          break;
        }
        at = desc + ((descsz + 3) & ~3);
      }
    }
    let debugLink: ElfFacts['debugLink'];
    if (shoff > 0 && shentsize >= 64 && shstrndx < shnum) {
      const sh = readAt(fd, shoff, shentsize * shnum);
      const section = (i: number) => ({ name: sh.readUInt32LE(i * shentsize), offset: Number(sh.readBigUInt64LE(i * shentsize + 24)), size: Number(sh.readBigUInt64LE(i * shentsize + 32)) });
      const strtab = section(shstrndx);
      const names = readAt(fd, strtab.offset, Math.min(strtab.size, 1 << 20));
      for (let i = 0; i < shnum && (i + 1) * shentsize <= sh.length; i++) {
        const s = section(i);
        const end = names.indexOf(0, s.name);
        if (names.toString('latin1', s.name, end < 0 ? names.length : end) !== '.gnu_debuglink') continue;
        // The file name, NUL-terminated and padded to 4 bytes, then its CRC-32.
        const link = readAt(fd, s.offset, Math.min(s.size, 4096));
        const nul = link.indexOf(0);
        const crcAt = (nul + 4) & ~3;
        if (nul > 0 && crcAt + 4 <= link.length) debugLink = { filename: link.toString('utf8', 0, nul), crc: link.readUInt32LE(crcAt) };
        break;
      }
    }
    return { isPic: h.readUInt16LE(16) === ET_DYN, memsz: lo === undefined ? 0n : hi - lo, buildId, debugLink };
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

const factsOf = new Map<string, ElfFacts | undefined>();
const classes = new Map<string, EventClass>();

function eventClass(spec: { readonly name: string; readonly logLevel: number; readonly fields: readonly FieldSpec[] }): EventClass {
  let ev = classes.get(spec.name);
  if (ev === undefined) {
    ev = declareEvent(spec.name, spec.fields, spec.logLevel);
    classes.set(spec.name, ev);
  }
  return ev;
}

/** Sessions that asked for a dump since the last one (each channel of a session asks: one dump for all). */
const asked = new Set<string>();

/** A state dump for session `sessionId` when its rules take one of the events (see the contract: and others'). */
export function runStatedump(sessionId: string): void {
  if (asked.size === 0) setImmediate(dumpAsked);
  asked.add(sessionId);
}

function dumpAsked(): void {
  const ids = [...asked];
  asked.clear();
  const specs = Object.values(STATEDUMP_EVENTS);
  if (!ids.some((id) => specs.some((s) => rulesTake(id, s.name, s.logLevel)))) return;
  const ev = {
    start: eventClass(STATEDUMP_EVENTS.start),
    binInfo: eventClass(STATEDUMP_EVENTS.binInfo),
    buildId: eventClass(STATEDUMP_EVENTS.buildId),
    debugLink: eventClass(STATEDUMP_EVENTS.debugLink),
    procname: eventClass(STATEDUMP_EVENTS.procname),
    end: eventClass(STATEDUMP_EVENTS.end),
  };
  if (ev.start.enabled) ev.start.emit();
  for (const o of mappedObjects()) {
    if (!factsOf.has(o.path)) factsOf.set(o.path, elfFacts(o.path));
    const f = factsOf.get(o.path);
    if (f === undefined) continue;
    if (ev.binInfo.enabled) ev.binInfo.emit(o.baddr, f.memsz, o.path, f.isPic ? 1 : 0, f.buildId ? 1 : 0, f.debugLink ? 1 : 0);
    if (f.buildId && ev.buildId.enabled) ev.buildId.emit(o.baddr, f.buildId);
    if (f.debugLink && ev.debugLink.enabled) ev.debugLink.emit(o.baddr, f.debugLink.crc, f.debugLink.filename);
  }
  if (ev.procname.enabled) {
    const name = new Int8Array(16);
    const bytes = Buffer.from(readFileSync('/proc/self/comm', 'utf8').replace(/\n$/, ''), 'utf8').subarray(0, 15);
    name.set(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length));
    ev.procname.emit(name);
  }
  if (ev.end.enabled) ev.end.emit();
}

onStatedump(runStatedump);
