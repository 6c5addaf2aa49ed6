// source.ctf.fs: finds CTF traces on disk and turns each data stream into a MessageStream, as babeltrace2's
// src.ctf.fs (fs.c, data-stream-file.c, 2.0.4) does.
//
// Contract: `openCtfFs(inputs, opts)` walks every input recursively (a folder holding a regular `metadata`
// file is a trace and is not descended into), parses the metadata, groups traces that share a UUID into one
// source (the trace with the most stream+event classes decodes them all; identical index entries are kept
// once, first path in lexical order wins), groups stream files by (stream class, stream_instance_id) ordered
// by their first packet's beginning time, lists packets from valid LTTng index files or by scanning, applies
// the tracer quirks (packet times only) and the clock options. It returns the traces and one MessageStream
// per data stream, in babeltrace2's port order (sources in discovery order, streams by first file path).
// Nothing found → LttError('CTF_NO_TRACE'); metadata errors → LttError('CTF_METADATA') from the parser;
// packet-level errors while indexing → LttError('CTF_DECODE') naming the file.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { LttError } from '../errors.js';
import type { ClockClass, StreamClass, TraceClass } from '../ctf/ir/trace-class.js';
import { cyclesToNs, type StreamInfo, type TraceInfo } from '../ctf/ir/message.js';
import { DecodeError } from '../ctf/decode/bits.js';
import { FileMedium, type WindowPool } from '../ctf/decode/medium.js';
import {
  CtfStreamIterator,
  NEED_DATA,
  NO_QUIRKS,
  type MessageStream,
  type PacketLocation,
  type TracerQuirks,
} from '../ctf/decode/msg-iter.js';
import type { Num } from '../ctf/decode/state.js';
import { decodersFor, type PacketProps, type TraceDecoders } from '../ctf/decode/trace-decoders.js';
import { parseIndexFile } from '../ctf/index-file.js';

export type MetadataParser = (bytes: Uint8Array, opts: { path: string }) => { tc: TraceClass; text: string };

export interface CtfFsOptions {
  /** `--clock-offset` (seconds) added to every clock class. */
  readonly clockOffsetS?: number;
  /** `--clock-offset-ns` added to every clock class. */
  readonly clockOffsetNs?: number | bigint;
  /** `--clock-force-correlate`: treat every clock as having the Unix epoch as origin. */
  readonly forceClockOriginUnixEpoch?: boolean;
  /** Metadata parser (defaults to ctf/metadata.ts). */
  readonly parseMetadata?: MetadataParser;
  /** Non-fatal diagnostics (invalid index files and the like). */
  readonly warn?: (message: string) => void;
}

/** One packet as the index lists it (babeltrace2's ctf_fs_ds_index_entry). */
export interface PacketIndexEntry extends PacketLocation {
  readonly size: number;
  tsBegin: Num | undefined;
  tsEnd: Num | undefined;
  /** ns from origin of tsBegin/tsEnd (bigint, exact); undefined without times. */
  beginNs: bigint | undefined;
  endNs: bigint | undefined;
  /** Sequence number as babeltrace2's index has it (index 1.1 only; never set by scanning). */
  readonly seqNum: Num | undefined;
  /**
   * What the packet itself says (raw, before the quirk fixes), when known: lets a reader start at this
   * packet's successor with the snapshots it would have had (seek by index). undefined: unknown.
   */
  readonly snap: PacketSnapshots | undefined;
}

export interface PacketSnapshots {
  readonly discarded: Num | undefined;
  readonly seqNum: Num | undefined;
  readonly tsEnd: Num | undefined;
  /** ns from origin of the raw tsEnd. */
  readonly tsEndNs: bigint | undefined;
}

/** A data stream: files of one (stream class, stream instance) and their packets. */
export interface DataStreamGroup {
  readonly sc: StreamClass;
  /** stream_instance_id, or undefined (then a counter gives the stream ID). */
  readonly instanceId: Num | undefined;
  /** Files sorted by their first packet's beginning time. */
  readonly files: Array<{ path: string; beginNs: bigint | undefined }>;
  readonly index: PacketIndexEntry[];
}

export interface CtfFsTrace {
  readonly info: TraceInfo;
  readonly groups: DataStreamGroup[];
  readonly streams: StreamInfo[];
  readonly quirks: TracerQuirks;
  /** Folders merged into this trace (same UUID), sorted. */
  readonly paths: string[];
}

export interface CtfFsSource {
  readonly traces: CtfFsTrace[];
  /**
   * One message stream per data stream, in port order. `eager`: decode field values while reading
   * (for consumers that read every event's fields, like the pretty printer).
   */
  createStreams(opts?: CreateStreamsOptions): CtfStreamIterator[];
}

export interface CreateStreamsOptions {
  /** Decode field values while reading (see StreamIteratorOptions.eager). */
  readonly eager?: boolean;
  /** The consumer never reads event fields (see StreamIteratorOptions.fieldsUnread). */
  readonly fieldsUnread?: boolean;
  /** nextRaw() leaves each event's fields to readBody() (see StreamIteratorOptions.callerReadsBodies). */
  readonly callerReadsBodies?: boolean;
  /** Read windows recycled through this pool (see WindowPool). */
  readonly windows?: WindowPool;
  /**
   * Start each stream at the first packet that can hold messages at or after this time (ns from origin),
   * using the packet index, with the snapshots the skipped packets leave (discarded events/packets stay
   * exact). The caller must still trim the streams with the same begin (trimStream): this only avoids
   * decoding packets the trimmer would drop entirely.
   */
  readonly seekNs?: bigint;
}

/** Index of the first packet to read for `seekNs`, and the snapshots of the packet before it. */
export function seekIndex(index: readonly PacketIndexEntry[], seekNs: bigint): { first: number; prev?: PacketSnapshots } {
  let first = 0;
  // Packet i may be skipped when it ends before seekNs and the next packet begins before seekNs (with the
  // quirk fixes, events of packet i are before the next packet's beginning); its raw snapshots are needed.
  while (first + 1 < index.length) {
    const cur = index[first]!;
    const next = index[first + 1]!;
    const snap = cur.snap;
    if (snap === undefined || cur.endNs === undefined || next.beginNs === undefined) break;
    // Both the fixed and the raw end (discarded-items ranges use the raw one) must be before seekNs.
    if (snap.tsEndNs !== undefined && snap.tsEndNs >= seekNs) break;
    if (!(cur.endNs < seekNs && next.beginNs < seekNs)) break;
    first++;
  }
  return first === 0 ? { first } : { first, prev: index[first - 1]!.snap };
}

interface FoundTrace {
  readonly input: string;
  readonly dir: string;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Folders under `input` that hold a `metadata` file (the input itself included), in name order. */
export function findTraceDirs(input: string): string[] {
  let st;
  try {
    st = statSync(input);
  } catch {
    throw new LttError('CTF_NO_TRACE', `${input}: no such file or directory`);
  }
  if (!st.isDirectory()) return [];
  const out: string[] = [];
  // Symbolic links are followed (as babeltrace2 does), each folder once: a link back up the tree (/proc/self/root,
  // a loop made by hand) would otherwise be walked forever.
  const seen = new Set<string>();
  const walk = (dir: string): void => {
    try {
      const d = statSync(dir, { bigint: true });
      const key = `${d.dev}:${d.ino}`;
      if (seen.has(key)) return;
      seen.add(key);
    } catch {
      return;
    }
    if (isFile(join(dir, 'metadata'))) {
      out.push(dir);
      return;
    }
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(dir, n);
      try {
        if (statSync(p).isDirectory()) walk(p);
      } catch {
        /* vanished or unreadable entries are skipped, as babeltrace2 does */
      }
    }
  };
  walk(input);
  return out;
}

let defaultParser: MetadataParser | undefined;
async function loadDefaultParser(): Promise<MetadataParser> {
  if (!defaultParser) {
    const mod = (await import('../ctf/metadata.js')) as { parseMetadata: MetadataParser };
    defaultParser = mod.parseMetadata;
  }
  return defaultParser;
}

/** Adds `--clock-offset`/`--clock-offset-ns` to a clock class (visitor-generate-ir.c). */
export function applyClockOffset(clock: ClockClass, offsetS: number, offsetNs: bigint): void {
  if (offsetS === 0 && offsetNs === 0n) return;
  let sToApply = BigInt(offsetS);
  let nsToApply: bigint;
  if (offsetNs < 0n) {
    const extraS = -(-offsetNs / 1_000_000_000n + 1n);
    nsToApply = offsetNs - extraS * 1_000_000_000n;
    sToApply += extraS;
  } else {
    const extraS = offsetNs / 1_000_000_000n;
    nsToApply = offsetNs - extraS * 1_000_000_000n;
    sToApply += extraS;
  }
  const freq = BigInt(clock.frequency);
  let cycles =
    clock.frequency === 1_000_000_000
      ? nsToApply
      : BigInt(Math.trunc((Number(nsToApply) * clock.frequency) / 1e9));
  let s = clock.offsetSeconds + sToApply;
  cycles += clock.offsetCycles;
  if (cycles >= freq) {
    const extra = cycles / freq;
    s += extra;
    cycles -= extra * freq;
  }
  clock.offsetSeconds = s;
  clock.offsetCycles = cycles;
}

/** ns from origin of a raw clock value (exact bigint). */
export function nsFromOrigin(clock: ClockClass, cycles: Num): bigint {
  return (
    clock.offsetSeconds * 1_000_000_000n + cyclesToNs(clock.frequency, clock.offsetCycles) + cyclesToNs(clock.frequency, BigInt(cycles))
  );
}

function countClasses(tc: TraceClass): number {
  let n = tc.streamClasses.size;
  for (const sc of tc.streamClasses.values()) n += sc.eventClasses.size;
  return n;
}

function envString(tc: TraceClass, key: string): string | undefined {
  const v = tc.env.get(key);
  return typeof v === 'string' ? v : undefined;
}
function envInt(tc: TraceClass, key: string): number | undefined {
  const v = tc.env.get(key);
  return typeof v === 'bigint' ? Number(v) : undefined;
}

/** Tracer quirks from the env (fs.c: is_tracer_affected_by_*). */
export function tracerQuirks(tc: TraceClass): TracerQuirks {
  const name = envString(tc, 'tracer_name');
  const major = envInt(tc, 'tracer_major');
  if (name === undefined || major === undefined) return NO_QUIRKS;
  const minor = envInt(tc, 'tracer_minor') ?? 0;
  const patchRaw = tc.env.has('tracer_patch') ? tc.env.get('tracer_patch') : tc.env.get('tracer_patchlevel');
  const patch = typeof patchRaw === 'bigint' ? Number(patchRaw) : 0;
  let eventAfterPacket = false;
  if (name === 'lttng-ust') eventAfterPacket = major < 2 || (major === 2 && minor < 11);
  else if (name === 'lttng-modules') {
    eventAfterPacket =
      major < 2 ||
      (major === 2 && ((minor === 10 && patch < 10) || (minor === 9 && patch < 13) || minor < 9));
  }
  const barectfEventBeforePacket =
    name === 'barectf' && (major < 2 || (major === 2 && (minor < 3 || (minor === 3 && patch < 1))));
  const lttngCrash = name === 'lttng-ust' || name === 'lttng-modules';
  return { eventAfterPacket, barectfEventBeforePacket, lttngCrash };
}

class FileReader {
  /** Sequential 1 MiB windows: cheap for small packets, many per window. */
  private medium: FileMedium;
  /**
   * 4 KiB reads at each packet start once packets turn out to be large: the headers and contexts are all an
   * index scan needs, and reading whole large packets here would read the stream twice.
   */
  private small: FileMedium | undefined;
  private lastPacketSize = 0;
  constructor(readonly path: string) {
    // Packet properties keep no bytes: one buffer each, overwritten by every read.
    this.medium = new FileMedium(path, 1024 * 1024, true);
  }
  get size(): number {
    return this.medium.size;
  }
  /** Packet properties of the packet at `offset` (header and context only). */
  props(dec: TraceDecoders, offset: number): PacketProps {
    const left = this.medium.size - offset;
    const large = this.lastPacketSize >= LARGE_PACKET;
    let want = Math.min(left, large ? 4096 : 64 * 1024);
    for (;;) {
      const bytes = large ? (this.small ??= new FileMedium(this.path, 4096, true)).request(offset, want) : this.medium.request(offset, want);
      try {
        const props = dec.readPacketProps(bytes);
        this.lastPacketSize = props.packetSize ?? 0;
        return props;
      } catch (err) {
        if (err instanceof DecodeError && /truncated/.test(err.message) && want < left) {
          want = Math.min(left, want * 16);
          continue;
        }
        if (err instanceof DecodeError) {
          throw new LttError('CTF_DECODE', `${this.path}: packet at offset ${offset}: ${err.message}`, { cause: err });
        }
        throw err;
      }
    }
  }
  close(): void {
    this.medium.close();
    this.small?.close();
  }
}

/** Packet size from which FileReader reads only the start of each packet. */
const LARGE_PACKET = 32 * 1024;

function indexFromIdx(
  path: string,
  size: number,
  clock: ClockClass,
  warn: (m: string) => void,
): PacketIndexEntry[] | undefined {
  const idxPath = join(dirname(path), 'index', basename(path) + '.idx');
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(idxPath);
  } catch {
    return undefined;
  }
  try {
    const idx = parseIndexFile(bytes, idxPath);
    let total = 0;
    const out: PacketIndexEntry[] = idx.entries.map((e) => {
      total += e.packetSize;
      return {
        path,
        offset: e.offset,
        size: e.packetSize,
        tsBegin: e.tsBegin,
        tsEnd: e.tsEnd,
        beginNs: nsFromOrigin(clock, e.tsBegin),
        endNs: nsFromOrigin(clock, e.tsEnd),
        seqNum: e.seqNum,
        // Index 1.0 has no sequence number: unknown, so no seeking past such packets.
        snap:
          idx.minor >= 1
            ? { discarded: e.eventsDiscarded, seqNum: e.seqNum, tsEnd: e.tsEnd, tsEndNs: nsFromOrigin(clock, e.tsEnd) }
            : undefined,
      };
    });
    if (total !== size) {
      warn(`${idxPath}: invalid LTTng index file: indexed size (${total} bytes) != stream file size (${size} bytes); scanning the stream instead`);
      return undefined;
    }
    return out;
  } catch (err) {
    if (err instanceof LttError) {
      warn(`${err.message}; scanning the stream instead`);
      return undefined;
    }
    throw err;
  }
}

function indexByScan(reader: FileReader, dec: TraceDecoders, first: PacketProps): PacketIndexEntry[] {
  const out: PacketIndexEntry[] = [];
  const size = reader.size;
  let offset = 0;
  let props = first;
  while (offset < size) {
    if (offset !== 0) props = reader.props(dec, offset);
    const psize = props.packetSize ?? size;
    if (offset + psize > size) {
      throw new LttError(
        'CTF_DECODE',
        `${reader.path}: packet at offset ${offset}: packet size (${psize} bytes) goes past the end of the file (${size} bytes)`,
      );
    }
    if (psize === 0) {
      throw new LttError('CTF_DECODE', `${reader.path}: packet at offset ${offset}: packet size is zero`);
    }
    const sc = dec.tc.streamClasses.get(props.streamClassId)!;
    const clock = sc.defaultClock;
    out.push({
      path: reader.path,
      offset,
      size: psize,
      tsBegin: props.tsBegin,
      tsEnd: props.tsEnd,
      beginNs: props.tsBegin !== undefined && clock ? nsFromOrigin(clock, props.tsBegin) : undefined,
      endNs: props.tsEnd !== undefined && clock ? nsFromOrigin(clock, props.tsEnd) : undefined,
      // babeltrace2 does not record sequence numbers when scanning.
      seqNum: undefined,
      snap: {
        discarded: props.discarded,
        seqNum: props.seqNum,
        tsEnd: props.tsEnd,
        tsEndNs: props.tsEnd !== undefined && clock ? nsFromOrigin(clock, props.tsEnd) : undefined,
      },
    });
    offset += psize;
  }
  return out;
}

function entriesEqual(a: PacketIndexEntry, b: PacketIndexEntry): boolean {
  return a.size === b.size && a.tsBegin == b.tsBegin && a.tsEnd == b.tsEnd && a.seqNum == b.seqNum;
}

/** Inserts without duplicates, sorted by beginning time (ds_index_insert_ds_index_entry_sorted). */
function insertEntry(index: PacketIndexEntry[], e: PacketIndexEntry): void {
  const key = e.beginNs ?? -1n;
  let i = 0;
  while (i < index.length && !(key <= (index[i]!.beginNs ?? -1n))) i++;
  if (i === index.length || !entriesEqual(e, index[i]!)) index.splice(i, 0, e);
}

function insertFile(files: DataStreamGroup['files'], f: { path: string; beginNs: bigint | undefined }): void {
  const key = f.beginNs ?? -1n;
  let i = 0;
  while (i < files.length && !(key < (files[i]!.beginNs ?? -1n))) i++;
  files.splice(i, 0, f);
}

/** Builds the data stream groups of one trace folder. */
function groupStreamFiles(dir: string, dec: TraceDecoders, warn: (m: string) => void): DataStreamGroup[] {
  const groups: DataStreamGroup[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (err) {
    throw new LttError('CTF_IO', `cannot read trace folder ${dir}: ${(err as Error).message}`);
  }
  for (const name of names) {
    if (name === 'metadata' || name.startsWith('.')) continue;
    const path = join(dir, name);
    let st;
    try {
      st = statSync(path);
    } catch {
      continue;
    }
    if (!st.isFile() || st.size === 0) continue;
    const reader = new FileReader(path);
    try {
      const first = reader.props(dec, 0);
      const sc = dec.tc.streamClasses.get(first.streamClassId)!;
      const clock = sc.defaultClock;
      const beginNs = first.tsBegin !== undefined && clock ? nsFromOrigin(clock, first.tsBegin) : undefined;
      let index = clock ? indexFromIdx(path, reader.size, clock, warn) : undefined;
      index ??= indexByScan(reader, dec, first);
      let instanceId = first.streamInstanceId;
      if (beginNs === undefined) instanceId = undefined;
      const file = { path, beginNs };
      if (instanceId === undefined) {
        groups.push({ sc, instanceId: undefined, files: [file], index });
        continue;
      }
      const g = groups.find((x) => x.sc === sc && x.instanceId !== undefined && x.instanceId == instanceId);
      if (!g) {
        groups.push({ sc, instanceId, files: [file], index });
      } else {
        for (const e of index) insertEntry(g.index, e);
        insertFile(g.files, file);
      }
    } finally {
      reader.close();
    }
  }
  return groups;
}

/** Merges the groups of `src` into `dest` (merge_matching_ctf_fs_ds_file_groups). */
function mergeGroups(dest: DataStreamGroup[], src: DataStreamGroup[], destTc: TraceClass): void {
  const destLen = dest.length;
  for (const sg of src) {
    let dg: DataStreamGroup | undefined;
    if (sg.instanceId !== undefined) {
      for (let i = 0; i < destLen; i++) {
        const c = dest[i]!;
        if (c.instanceId === undefined) continue;
        if (c.instanceId == sg.instanceId && c.sc.id === sg.sc.id) {
          dg = c;
          break;
        }
      }
    }
    if (!dg) {
      const sc = destTc.streamClasses.get(sg.sc.id);
      if (!sc) throw new LttError('CTF_METADATA', `stream class ${sg.sc.id} missing from the merged trace's metadata`);
      dg = { sc, instanceId: sg.instanceId, files: [], index: [] };
      dest.push(dg);
    }
    for (const f of sg.files) insertFile(dg.files, f);
    for (const e of sg.index) insertEntry(dg.index, e);
  }
}

/** First/last event clock value of one packet (for the index quirk fixes). */
function packetEventTimes(dec: TraceDecoders, info: StreamInfo, e: PacketIndexEntry): { first?: Num; last?: Num } {
  const it = new CtfStreamIterator(info, dec, [e]);
  let first: Num | undefined;
  let last: Num | undefined;
  try {
    for (;;) {
      const m = it.next();
      if (m === undefined || m === NEED_DATA) break;
      if (m.type === 'event' && m.cycles !== undefined) {
        first ??= m.cycles;
        last = m.cycles;
      }
    }
  } finally {
    it.close();
  }
  return { first, last };
}

/** Index fixes for tracer quirks (fs.c fix_index_*); they only move packet times in the index. */
function fixIndexQuirks(dec: TraceDecoders, quirks: TracerQuirks, groups: DataStreamGroup[], streams: StreamInfo[]): void {
  groups.forEach((g, gi) => {
    const clock = g.sc.defaultClock;
    const idx = g.index;
    if (!clock || idx.length === 0) return;
    const setEnd = (e: PacketIndexEntry, v: Num | undefined): void => {
      e.tsEnd = v;
      e.endNs = v === undefined ? undefined : nsFromOrigin(clock, v);
    };
    if (quirks.eventAfterPacket) {
      for (let i = 0; i < idx.length - 1; i++) {
        idx[i]!.tsEnd = idx[i + 1]!.tsBegin;
        idx[i]!.endNs = idx[i + 1]!.beginNs;
      }
      const last = idx[idx.length - 1]!;
      const t = packetEventTimes(dec, streams[gi]!, last).last;
      if (t !== undefined) setEnd(last, t);
    }
    if (quirks.barectfEventBeforePacket) {
      for (let i = 1; i < idx.length; i++) {
        const cur = idx[i]!;
        const t = packetEventTimes(dec, streams[gi]!, cur).first;
        if (t !== undefined) {
          cur.tsBegin = t;
          cur.beginNs = nsFromOrigin(clock, t);
        }
        idx[i - 1]!.tsEnd = cur.tsBegin;
        idx[i - 1]!.endNs = cur.beginNs;
      }
    }
    if (quirks.lttngCrash) {
      const last = idx[idx.length - 1]!;
      if (last.tsEnd == 0 && last.tsBegin != 0) {
        const t = packetEventTimes(dec, streams[gi]!, last).last;
        setEnd(last, t ?? last.tsBegin);
      }
      for (let i = 0; i < idx.length - 1; i++) {
        const cur = idx[i]!;
        if (cur.tsEnd == 0 && cur.tsBegin != 0) {
          cur.tsEnd = idx[i + 1]!.tsBegin;
          cur.endNs = idx[i + 1]!.beginNs;
        }
      }
    }
  });
}

/** Discovers and opens the traces of `inputs` (babeltrace2 CLI auto-discovery + src.ctf.fs). */
export async function openCtfFs(inputs: readonly string[], opts: CtfFsOptions = {}): Promise<CtfFsSource> {
  const parse = opts.parseMetadata ?? (await loadDefaultParser());
  return openCtfFsSync(inputs, { ...opts, parseMetadata: parse });
}

export function openCtfFsSync(inputs: readonly string[], opts: CtfFsOptions & { parseMetadata: MetadataParser }): CtfFsSource {
  const warn = opts.warn ?? (() => {});
  const offS = opts.clockOffsetS ?? 0;
  const offNs = BigInt(opts.clockOffsetNs ?? 0);

  // Auto-discovery: one result per UUID (or per trace without UUID), in discovery order.
  interface Loaded {
    found: FoundTrace;
    tc: TraceClass;
  }
  const results: Loaded[][] = [];
  const byUuid = new Map<string, Loaded[]>();
  for (const input of inputs) {
    const dirs = findTraceDirs(input);
    if (dirs.length === 0) warn(`${input}: no CTF trace found (no folder with a metadata file)`);
    for (const dir of dirs) {
      const mpath = join(dir, 'metadata');
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(mpath);
      } catch (err) {
        throw new LttError('CTF_IO', `cannot read ${mpath}: ${(err as Error).message}`);
      }
      const { tc } = opts.parseMetadata(bytes, { path: mpath });
      for (const clock of tc.clocks.values()) {
        applyClockOffset(clock, offS, offNs);
        if (opts.forceClockOriginUnixEpoch) clock.originIsUnixEpoch = true;
      }
      const loaded: Loaded = { found: { input, dir }, tc };
      if (tc.uuid !== undefined) {
        const g = byUuid.get(tc.uuid);
        if (g) {
          g.push(loaded);
          continue;
        }
        const ng = [loaded];
        byUuid.set(tc.uuid, ng);
        results.push(ng);
      } else {
        results.push([loaded]);
      }
    }
  }
  if (results.length === 0) {
    throw new LttError('CTF_NO_TRACE', `no CTF trace found in ${inputs.join(', ')}`);
  }

  const traces: CtfFsTrace[] = [];
  for (const group of results) {
    const members = [...group].sort((a, b) => cmpStr(resolve(a.found.dir), resolve(b.found.dir)));
    let winner = members[0]!;
    for (const m of members) if (countClasses(m.tc) > countClasses(winner.tc)) winner = m;
    const dec = decodersFor(winner.tc);
    const memberGroups = members.map((m) =>
      groupStreamFiles(resolve(m.found.dir), m === winner ? dec : decodersFor(m.tc), warn),
    );
    let groups = memberGroups[members.indexOf(winner)]!;
    members.forEach((m, i) => {
      if (m !== winner) mergeGroups(groups, memberGroups[i]!, winner.tc);
    });
    // Re-point groups built with another member's classes at the winner's classes.
    groups = groups.map((g) => (winner.tc.streamClasses.get(g.sc.id) === g.sc ? g : { ...g, sc: winner.tc.streamClasses.get(g.sc.id)! }));
    groups = groups.filter((g) => g.files.length > 0 && g.index.length > 0);
    groups.sort((a, b) => cmpStr(a.files[0]!.path, b.files[0]!.path));

    let name = '';
    const host = envString(winner.tc, 'hostname');
    let suffix: string | undefined;
    if (members.length === 1) {
      // The found folder relative to the command-line path (babeltrace2 CLI's `trace-name` parameter).
      const rel = relative(resolve(winner.found.input), resolve(winner.found.dir));
      if (rel.length > 0) suffix = rel;
    }
    if (host !== undefined) name = host + (suffix !== undefined ? '/' : '');
    if (suffix !== undefined) name += suffix;

    const info: TraceInfo = { tc: winner.tc, name, path: resolve(winner.found.dir) };
    let counter = 0;
    const streams: StreamInfo[] = groups.map((g) => ({
      trace: info,
      sc: g.sc,
      id: g.instanceId !== undefined ? Number(g.instanceId) : counter++,
      name: g.files[0]!.path,
    }));
    const quirks = tracerQuirks(winner.tc);
    fixIndexQuirks(dec, quirks, groups, streams);
    traces.push({ info, groups, streams, quirks, paths: members.map((m) => resolve(m.found.dir)) });
  }

  return {
    traces,
    createStreams(opts: CreateStreamsOptions = {}): CtfStreamIterator[] {
      const out: CtfStreamIterator[] = [];
      for (const t of traces) {
        const dec = decodersFor(t.info.tc);
        t.groups.forEach((g, i) => {
          let packets: readonly PacketLocation[] = g.index;
          let prev: PacketSnapshots | undefined;
          if (opts.seekNs !== undefined) {
            const s = seekIndex(g.index, opts.seekNs);
            if (s.first > 0) {
              packets = g.index.slice(s.first);
              prev = s.prev;
            }
          }
          out.push(new CtfStreamIterator(t.streams[i]!, dec, packets, { quirks: t.quirks, eager: opts.eager, fieldsUnread: opts.fieldsUnread, callerReadsBodies: opts.callerReadsBodies, windows: opts.windows, prev }));
        });
      }
      return out;
    },
  };
}

function cmpStr(a: string, b: string): number {
  // strcmp order on the UTF-8 bytes.
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
