// The kernel domain of one recording session, on Linux tracefs: the interface the session daemon calls.
//
// Contract:
// * A channel is a tracefs instance `instances/ltt-SESSION-CHANNEL` (sanitized, suffixed when taken), created
//   with tracing off, trace_clock mono, buffer sizes from the channel attributes, options/overwrite. Instances
//   are private to the session, so sessions never see each other's records.
// * enableEvent() resolves LTTng names (globs) against the tracefs catalog, enables the matching tracefs events
//   in the channel's instance, installs the filter (in tracefs when the translation is exact, else in the
//   consumer) and returns the LTTng names enabled; it throws LttError with one line on bad input or a missing
//   kernel feature (kprobes/function probes here). uprobes are global in tracefs: they are created in the
//   group ltt_SESSION and removed on destroy().
// * The first start() starts the consumer worker (src/consumer/kernel-consumer-worker.ts: page decoding and
//   CTF writing run off this thread), which writes the statedump (channels that enabled lttng_statedump_*)
//   and opens the per-CPU pipes; then tracing is turned on. stop() turns tracing off, then the worker drains
//   every per-CPU pipe (nothing recorded is lost) and flushes the packets, so the trace in traceDir/kernel is
//   complete and readable; destroy() stops, closes the trace and the worker, removes the instances and
//   probes. Owners of instances are recorded (instance-owners.ts) so reclaimStale() can remove what a dead
//   daemon left.

import type { FileOwner } from '../ctf/writer/owned-output.js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LttError } from '../errors.js';
import { isStarGlob, starGlobRegExp } from '../star-glob.js';
import { isoBasicDateTime } from '../ctf/writer/lttng-time-names.js';
import * as tracefs from '../ftrace/tracefs.js';
import { type EventFormat, listEventNames, readEventFormat } from '../ftrace/event-format.js';
import { type FieldSpec, lttngNameOf, shapeEvent, type ShapedEvent, type EventKind } from '../ftrace/lttng-shaping.js';
import { parseFilter } from '../filter/parse-filter.js';
import { toTracefsFilter } from '../filter/compile-filter.js';
import { readElfFile, resolveElfSymbol } from './elf-symbols.js';
import { STATEDUMP_EVENTS, STATEDUMP_EVENT_NAMES } from '../consumer/statedump.js';
import { contextField } from '../consumer/contexts.js';
import { monotonicClockDef } from '../ftrace/trace-clock.js';
import { ownerRecordPath, reclaimStale as reclaimStaleOwners, removeOwnerRecord, writeOwnerRecord } from './instance-owners.js';
import type { RelayChunk, RelaySinkTarget } from '../relay/relay-sink.js';
import { KernelConsumerClient } from '../consumer/kernel-consumer-client.js';
import type { ChannelStats, ClassSpec, ClassUpdate, SnapshotResult } from '../consumer/kernel-consumer-protocol.js';

export type KernelEventType = 'tracepoint' | 'syscall' | 'kprobe' | 'function' | 'uprobe';

export interface KernelChannelAttrs {
  subbufSize: number;
  numSubbuf: number;
  overwrite: boolean;
  switchTimerUs: number;
  readTimerUs: number;
  tracefileSize: number;
  tracefileCount: number;
  /** Live sessions' channels (0 or absent: none). */
  liveTimerUs?: number;
}

/** LTTng's kernel channel defaults (lttng-enable-channel(1)). */
/** What the kernel applied to a channel's ring buffer (it may keep smaller sub-buffers than asked for). */
export interface KernelRingGeometry {
  /** Sub-buffer (ftrace page) size in bytes the kernel applied. */
  subbufSize: number;
  /** The sub-buffer size ltt asked for. */
  wantedSubbufSize: number;
  /** Per-CPU ring size in bytes (buffer_size_kb, read back). */
  bytesPerCpu: number;
}

export const KERNEL_CHANNEL_DEFAULTS: Readonly<KernelChannelAttrs> = {
  subbufSize: 1 << 20,
  numSubbuf: 4,
  overwrite: false,
  switchTimerUs: 0,
  readTimerUs: 200000,
  tracefileSize: 0,
  tracefileCount: 0,
};

export interface KernelEventRule {
  name: string;
  type: KernelEventType;
  location?: string;
  filter?: string;
}

export interface KernelChannelStats {
  channel: string;
  discarded: number;
  lost: number;
  events: number;
  bytes: number;
}

export interface TracepointInfo {
  name: string;
  system: string;
  fields: FieldSpec[];
}

interface RuleState extends KernelEventRule {
  enabled: boolean;
  /** Parsed filter (undefined: none). */
  ast?: ReturnType<typeof parseFilter>;
}

/** One LTTng event class of a channel, backed by one tracefs event (or a synthetic statedump event). */
interface ClassState {
  key: string; // "system/name" or "statedump/NAME"
  format?: EventFormat;
  shaped?: ShapedEvent;
  lttngName: string;
  fields: FieldSpec[];
  kind: EventKind | 'statedump';
  rules: Set<RuleState>;
  spec: ClassSpec;
  /** Declared to the consumer (its CTF event class exists). */
  registered: boolean;
  /** Consumer-side filters last computed (null: none). */
  consumerFilters?: string[] | null;
  /**
   * What the instance's filter and enable files of this class hold, as last written (undefined: not yet): the
   * first start applies every class again, and `--syscall -a` makes that 1400 writes, each a system call
   * the kernel handles under its event mutex, most of them rewriting what enable-event wrote.
   */
  kernelFilter?: string;
  kernelEnabled?: boolean;
}

interface ChannelState {
  name: string;
  id: number;
  attrs: KernelChannelAttrs;
  instance: string;
  enabled: boolean;
  rules: RuleState[];
  contexts: string[];
  classes: Map<string, ClassState>;
  pageSize: number;
  bufferPages: number;
}

/** LTTng's six kernel inclusion sets. The v* ones are evaluated with the ids seen from the root namespaces
 * (what /proc shows this daemon), which equal the virtual ids outside containers. */
type TrackerKind = 'pid' | 'vpid' | 'uid' | 'vuid' | 'gid' | 'vgid';


function sanitize(s: string, re = /[^A-Za-z0-9_.-]/g): string {
  return s.replace(re, '_');
}

function readDirOptional(p: string): string[] {
  try {
    return fs.readdirSync(p);
  } catch {
    return []; // the process is gone: nothing of it to let through
  }
}

function readOptional(p: string): string | undefined {
  try {
    return fs.readFileSync(p, 'latin1').trim();
  } catch {
    return undefined;
  }
}

export class KernelSession {
  private readonly channels = new Map<string, ChannelState>();
  /** Absent kind = every value tracked (LTTng's initial state); a set = only those values. */
  private readonly trackers = new Map<TrackerKind, Set<number>>();
  private readonly uprobes: string[] = []; // "group/name" created in uprobe_events
  private readonly kprobes: string[] = []; // "group/name" created in kprobe_events
  private readonly uprobeGroup: string;
  /** The consumer worker, from the first start() to destroy(). */
  private consumer: KernelConsumerClient | undefined;
  /** The worker thread, started with the first channel so that its start-up (loading its modules, about a
   * tenth of a second of CPU) is not on `start`'s path; `start` opens the trace in it. */
  private spareConsumer: KernelConsumerClient | undefined;
  private active = false;
  private everStarted = false;
  private destroyed = false;
  /** set_event_pid of the instances holds a list (see applyKernelPidFilter). */
  private pidFilterWritten = false;
  /** options/record-tgid of the instances is on (see applyKernelPidFilter). */
  private tgidsRecorded = false;

  private constructor(
    readonly sessionName: string,
    readonly traceDir: string,
    readonly hostname: string,
    readonly creationTime: Date,
    readonly owner: FileOwner | undefined,
    /** Snapshot mode: the consumer keeps the newest packets in memory for recordSnapshot(), nothing is written. */
    readonly snapshot = false,
    /** Network sessions: the trace streams to this relay instead of traceDir. */
    readonly relay?: RelaySinkTarget,
  ) {
    // Dynamic events are global: another daemon's session of the same name may own ltt_NAME already.
    const group = `ltt_${sanitize(sessionName, /[^A-Za-z0-9_]/g)}`;
    this.uprobeGroup = tracefs.exists(`events/${group}`) ? `${group}_${process.pid}` : group;
  }

  static async create(opts: { sessionName: string; traceDir: string; hostname: string; creationTime: Date; owner?: FileOwner; snapshot?: boolean; relay?: RelaySinkTarget }): Promise<KernelSession> {
    if (process.getuid?.() !== 0) {
      throw new LttError('KERNEL_PERMISSION', 'Kernel tracing needs root: tracefs instances can only be created by root');
    }
    tracefs.root();
    return new KernelSession(opts.sessionName, opts.traceDir, opts.hostname, opts.creationTime, opts.owner, opts.snapshot === true, opts.relay);
  }

  get kernelTraceDir(): string {
    return path.join(this.traceDir, 'kernel');
  }

  // ---- channels -------------------------------------------------------------------------------------------

  async createChannel(name: string, attrs: KernelChannelAttrs): Promise<KernelRingGeometry> {
    this.checkAlive();
    if (this.channels.has(name)) throw new LttError('KERNEL_CHANNEL_EXISTS', `Channel ${name} already exists in session ${this.sessionName}`);
    if (this.everStarted) throw new LttError('KERNEL_CHANNEL_AFTER_START', `Cannot create channel ${name}: session ${this.sessionName} was already started`);
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new LttError('KERNEL_CHANNEL_NAME', `Invalid channel name "${name}": letters, digits, _ . - only`);
    const subbuf = attrs.subbufSize;
    if (!Number.isInteger(subbuf) || subbuf < 4096 || (subbuf & (subbuf - 1)) !== 0) {
      throw new LttError('KERNEL_CHANNEL_ATTR', `Invalid sub-buffer size ${subbuf}: a power of two of at least 4096 bytes`);
    }
    if (!Number.isInteger(attrs.numSubbuf) || attrs.numSubbuf < 1) throw new LttError('KERNEL_CHANNEL_ATTR', `Invalid sub-buffer count ${attrs.numSubbuf}`);
    let instance = `ltt-${sanitize(this.sessionName)}-${sanitize(name)}`;
    for (let i = 2; tracefs.instanceExists(instance); i++) instance = `ltt-${sanitize(this.sessionName)}-${sanitize(name)}-${i}`;
    tracefs.mkdirInstance(instance);
    this.recordOwner(instance);
    try {
      tracefs.writeText('tracing_on', '0', instance);
      tracefs.writeText('trace_clock', 'mono', instance);
      // ftrace sub-buffers go up to 64 KiB (the kernel's limit); the CTF packets keep LTTng's size. The kernel may
      // keep a smaller size (or have no choice at all): what it applied is what the consumer reads.
      const wanted = Math.min(subbuf, 64 * 1024);
      const pageSize = tracefs.applySubbufSize(instance, wanted);
      const perCpuKb = Math.max((2 * pageSize) / 1024, Math.ceil((attrs.numSubbuf * subbuf) / 1024));
      tracefs.writeText('buffer_size_kb', String(perCpuKb), instance);
      // What the kernel reports (its pages' data bytes, rounded up to whole pages), for `list`.
      const perCpuBytes = Number.parseInt(tracefs.readText('buffer_size_kb', instance), 10) * 1024;
      tracefs.writeText('options/overwrite', attrs.overwrite ? '1' : '0', instance);
      const id = this.channels.size;
      this.channels.set(name, {
        name, id, attrs: { ...attrs }, instance, enabled: true, rules: [], contexts: [], classes: new Map(),
        pageSize, bufferPages: Math.ceil(perCpuKb * 1024 / pageSize),
      });
      if (!this.consumer) this.spareConsumer ??= new KernelConsumerClient();
      return { subbufSize: pageSize, wantedSubbufSize: wanted, bytesPerCpu: perCpuBytes };
    } catch (err) {
      tracefs.rmdirInstance(instance);
      this.forgetOwner(instance);
      throw err;
    }
  }

  private channel(name: string): ChannelState {
    const c = this.channels.get(name);
    if (!c) throw new LttError('KERNEL_NO_CHANNEL', `Channel ${name} not found in session ${this.sessionName}`);
    return c;
  }

  /** A disabled channel's instance stops recording; what it recorded before is still consumed. */
  async enableChannel(name: string): Promise<void> {
    const c = this.channel(name);
    c.enabled = true;
    if (this.active) tracefs.writeText('tracing_on', '1', c.instance);
  }

  async disableChannel(name: string): Promise<void> {
    const c = this.channel(name);
    c.enabled = false;
    if (this.active) tracefs.writeText('tracing_on', '0', c.instance);
  }

  // ---- events ---------------------------------------------------------------------------------------------

  async enableEvent(channel: string, rule: KernelEventRule): Promise<string[]> {
    this.checkAlive();
    const c = this.channel(channel);
    if (rule.filter !== undefined && rule.type !== 'tracepoint' && rule.type !== 'syscall') {
      throw new LttError('KERNEL_FILTER', 'Filters apply to tracepoints and syscalls only');
    }
    const ast = rule.filter !== undefined ? parseFilter(rule.filter) : undefined;
    const existing = c.rules.find((r) => r.name === rule.name && r.type === rule.type && r.filter === rule.filter && r.location === rule.location);
    const state: RuleState = existing ?? { ...rule, enabled: true, ast };
    let targets: Array<{ key: string; kind: EventKind | 'statedump'; system?: string; event?: string; lttngName?: string }>;
    switch (rule.type) {
      case 'kprobe':
        tracefs.requireKprobes();
        targets = [this.createKprobe(rule, 'p', rule.name)];
        break;
      case 'function':
        tracefs.requireFunctionTracer();
        // LTTng's --function is a kretprobe: records NAME_entry and NAME_exit.
        targets = [this.createKprobe(rule, 'p', `${rule.name}_entry`), this.createKprobe(rule, 'r', `${rule.name}_exit`)];
        break;
      case 'uprobe':
        targets = [await this.createUprobe(rule)];
        break;
      case 'syscall':
        targets = this.resolveSyscalls(rule.name);
        break;
      case 'tracepoint':
        targets = this.resolveTracepoints(rule.name);
        break;
      default:
        throw new LttError('KERNEL_EVENT_TYPE', `Unknown kernel event type "${String(rule.type)}"`);
    }
    if (targets.length === 0 && !isStarGlob(rule.name)) {
      throw new LttError('KERNEL_EVENT_NOT_FOUND', `Kernel ${rule.type === 'syscall' ? 'system call' : 'event'} "${rule.name}" not found`);
    }
    if (!existing) c.rules.push(state);
    state.enabled = true;
    const names: string[] = [];
    const touched: ClassState[] = [];
    for (const t of targets) {
      let cls = c.classes.get(t.key);
      if (!cls) {
        cls = this.makeClass(t);
        c.classes.set(t.key, cls);
      }
      cls.rules.add(state);
      touched.push(cls);
      if (!names.includes(cls.lttngName)) names.push(cls.lttngName);
    }
    await this.applyClasses(c, touched);
    return names;
  }

  async disableEvent(channel: string, name: string, type?: KernelEventType): Promise<void> {
    this.checkAlive();
    const c = this.channel(channel);
    // `disable-event -a` (name "*") disables every rule of the type (of any type when none is given).
    const all = name === '*';
    const matching = c.rules.filter((r) => r.enabled && (all || r.name === name) && (type === undefined || r.type === type));
    if (matching.length === 0) throw new LttError('KERNEL_EVENT_NOT_FOUND', `Kernel event rule "${name}" not found in channel ${channel}`);
    for (const r of matching) r.enabled = false;
    await this.applyClasses(c, [...c.classes.values()].filter((cls) => [...cls.rules].some((r) => matching.includes(r))));
  }

  private resolveTracepoints(glob: string): Array<{ key: string; kind: EventKind | 'statedump'; system?: string; event?: string; lttngName: string }> {
    const re = starGlobRegExp(glob);
    const out: Array<{ key: string; kind: EventKind | 'statedump'; system?: string; event?: string; lttngName: string }> = [];
    for (const { system, name } of listEventNames()) {
      // Syscalls are enabled with --syscall; ftrace's own records and dynamic probes are not tracepoints.
      if (system === 'syscalls' || system === 'raw_syscalls' || system === 'ftrace' || system.startsWith('ltt_')) continue;
      if (system === 'uprobes' || system === 'kprobes') continue;
      const lttngName = lttngNameOf(system, name);
      if (re.test(lttngName) || (!isStarGlob(glob) && glob === `${system}:${name}`)) {
        out.push({ key: `${system}/${name}`, kind: 'tracepoint', system, event: name, lttngName });
      }
    }
    for (const name of STATEDUMP_EVENT_NAMES) {
      if (re.test(name)) out.push({ key: `statedump/${name}`, kind: 'statedump', lttngName: name });
    }
    return out;
  }

  private resolveSyscalls(glob: string): Array<{ key: string; kind: EventKind; system: string; event: string }> {
    if (!tracefs.exists('events/syscalls')) {
      throw new LttError('KERNEL_NO_SYSCALLS', 'System call tracing is not available: this kernel lacks CONFIG_FTRACE_SYSCALLS (no events/syscalls in tracefs)');
    }
    const re = starGlobRegExp(glob);
    const out: Array<{ key: string; kind: EventKind; system: string; event: string }> = [];
    for (const ev of tracefs.listDir('events/syscalls').sort()) {
      if (!ev.startsWith('sys_enter_')) continue;
      const sc = ev.slice(10);
      if (!re.test(sc)) continue;
      out.push({ key: `syscalls/${ev}`, kind: 'syscall', system: 'syscalls', event: ev });
      if (tracefs.exists(`events/syscalls/sys_exit_${sc}`)) out.push({ key: `syscalls/sys_exit_${sc}`, kind: 'syscall', system: 'syscalls', event: `sys_exit_${sc}` });
    }
    return out;
  }

  private async createUprobe(rule: KernelEventRule): Promise<{ key: string; kind: EventKind; system: string; event: string; lttngName: string }> {
    tracefs.requireUprobes();
    const loc = rule.location ?? '';
    if (loc.startsWith('sdt:')) throw new LttError('KERNEL_UPROBE_LOCATION', 'SDT userspace probes are not supported on the tracefs kernel tracer');
    const m = /^(?:elf:)?(.+):([^:]+)$/.exec(loc);
    if (!m) throw new LttError('KERNEL_UPROBE_LOCATION', `Invalid userspace probe location "${loc}": expected elf:PATH:SYMBOL`);
    const file = path.resolve(m[1]!);
    const sym = resolveElfSymbol(file, m[2]!, await readElfFile(file, this.owner));
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(rule.name)) {
      throw new LttError('KERNEL_UPROBE_NAME', `Invalid probe record name "${rule.name}": letters, digits and _ only`);
    }
    const event = rule.name;
    const full = `${this.uprobeGroup}/${event}`;
    if (!this.uprobes.includes(full)) {
      if (/[\s]/.test(file)) throw new LttError('KERNEL_UPROBE_LOCATION', `Cannot probe ${file}: tracefs uprobe paths cannot contain spaces`);
      tracefs.appendText('uprobe_events', `p:${full} ${file}:0x${sym.fileOffset.toString(16)}\n`);
      this.uprobes.push(full);
      this.recordOwner(undefined);
    }
    return { key: `${this.uprobeGroup}/${event}`, kind: 'uprobe', system: this.uprobeGroup, event, lttngName: rule.name };
  }

  /** kprobe_events line `p|r:GROUP/NAME LOCATION` (LOCATION: SYMBOL[+OFFSET] or 0xADDR), global like uprobes. */
  private createKprobe(rule: KernelEventRule, kind: 'p' | 'r', event: string): { key: string; kind: EventKind; system: string; event: string; lttngName: string } {
    const loc = rule.location ?? '';
    if (!/^(0x[0-9a-fA-F]+|[A-Za-z_.][A-Za-z0-9_.]*(\+(0x[0-9a-fA-F]+|\d+))?)$/.test(loc)) {
      throw new LttError('KERNEL_KPROBE_LOCATION', `Invalid probe location "${loc}": expected SYMBOL, SYMBOL+OFFSET or 0xADDRESS`);
    }
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(event)) throw new LttError('KERNEL_KPROBE_NAME', `Invalid probe record name "${event}"`);
    const full = `${this.uprobeGroup}/${event}`;
    if (!this.kprobes.includes(full)) {
      tracefs.appendText('kprobe_events', `${kind}:${full} ${loc}\n`);
      this.kprobes.push(full);
      this.recordOwner(undefined);
    }
    return { key: full, kind: 'kprobe', system: this.uprobeGroup, event, lttngName: event };
  }

  private makeClass(t: { key: string; kind: EventKind | 'statedump'; system?: string; event?: string; lttngName?: string }): ClassState {
    if (t.kind === 'statedump') {
      const def = STATEDUMP_EVENTS.find((e) => e.name === t.lttngName)!;
      return { key: t.key, lttngName: def.name, fields: def.fields, kind: 'statedump', rules: new Set(), registered: false, spec: { key: t.key, kind: 'statedump', lttngName: def.name } };
    }
    const format = readEventFormat(t.system!, t.event!);
    // The main thread only needs names, fields and filter sources; the worker generates the converter.
    const shaped = shapeEvent(format, t.kind, t.kind === 'uprobe' || t.kind === 'kprobe' ? t.lttngName : undefined, false);
    return {
      key: t.key, format, shaped, lttngName: shaped.name, fields: shaped.fields, kind: t.kind, rules: new Set(), registered: false,
      spec: { key: t.key, kind: t.kind, system: t.system, event: t.event, lttngName: shaped.name },
    };
  }

  /**
   * Push classes' states to tracefs (enable + filter) and, in one request, to the consumer (event class,
   * predicate): `--syscall -a` touches ~700 classes, one round trip each would slow `start` down.
   */
  private async applyClasses(c: ChannelState, classes: ClassState[]): Promise<void> {
    const updates: ClassUpdate[] = [];
    const enableFile = (cls: ClassState): string | undefined => (cls.format && cls.shaped ? `events/${cls.format.system}/${cls.format.name}/enable` : undefined);
    for (const cls of classes) {
      const { enabled, filters } = this.applyFilter(c, cls);
      cls.consumerFilters = filters;
      updates.push({ spec: cls.spec, ...(!cls.registered && cls.format ? { format: cls.format } : {}), enabled, filters });
      // Disabled in the kernel first: the consumer then drains what was recorded under the old rules.
      const file = enableFile(cls);
      if (!enabled && file && cls.kernelEnabled !== false) {
        tracefs.writeText(file, '0', c.instance);
        cls.kernelEnabled = false;
      }
    }
    if (this.consumer && updates.length > 0) {
      await this.consumer.call({ op: 'classes', channel: c.id, updates });
      for (const cls of classes) cls.registered = true;
    }
    // Enabled in the kernel last: while tracing, the consumer must know a class before its first record.
    for (let i = 0; i < classes.length; i++) {
      const cls = classes[i]!;
      const file = enableFile(cls);
      if (updates[i]!.enabled && file && cls.kernelEnabled !== true) {
        tracefs.writeText(file, '1', c.instance);
        cls.kernelEnabled = true;
      }
    }
  }

  /** A class's tracefs filter; returns whether its rules enable it and the filters the consumer must evaluate. */
  private applyFilter(c: ChannelState, cls: ClassState): { enabled: boolean; filters: string[] | null } {
    const rules = [...cls.rules].filter((r) => r.enabled);
    const enabled = rules.length > 0;
    // Filters the consumer evaluates (null: none): rules tracefs cannot express exactly.
    let consumerFilters: string[] | null = null;
    if (cls.format && cls.shaped) {
      const dir = `events/${cls.format.system}/${cls.format.name}`;
      let tracefsFilter: string | undefined;
      if (enabled && rules.every((r) => r.ast !== undefined)) {
        const translated = rules.map((r) => toTracefsFilter(r.ast!, cls.shaped!.sourceOf, cls.shaped!.transformed));
        if (translated.every((t) => t !== undefined)) {
          tracefsFilter = translated.length === 1 ? translated[0] : translated.map((t) => `(${t})`).join(' || ');
        } else consumerFilters = rules.map((r) => r.filter!);
      }
      // The filter must be in place before the event is enabled, or unfiltered records slip in.
      const filter = tracefsFilter ?? '0';
      if (cls.kernelFilter !== filter) {
        try {
          tracefs.writeText(`${dir}/filter`, filter, c.instance);
          cls.kernelFilter = filter;
        } catch (err) {
          if (tracefsFilter === undefined) throw err;
          // This kernel's filter parser refused the translation: evaluate the rules in the consumer instead.
          if (cls.kernelFilter !== '0') tracefs.writeText(`${dir}/filter`, '0', c.instance);
          cls.kernelFilter = '0';
          consumerFilters = rules.map((r) => r.filter!);
        }
      }
    }
    return { enabled, filters: consumerFilters };
  }

  // ---- contexts and trackers ------------------------------------------------------------------------------

  async addContext(channel: string | undefined, ctx: string): Promise<void> {
    this.checkAlive();
    if (this.everStarted) throw new LttError('KERNEL_CONTEXT_AFTER_START', 'Cannot add a context after the session was started');
    contextField(ctx); // validates
    const targets = channel === undefined ? [...this.channels.values()] : [this.channel(channel)];
    for (const c of targets) {
      if (c.contexts.includes(ctx)) throw new LttError('KERNEL_CONTEXT_EXISTS', `Context ${ctx} is already in channel ${c.name}`);
    }
    for (const c of targets) c.contexts.push(ctx);
  }

  async track(kind: TrackerKind, values: number[] | 'all'): Promise<void> {
    this.checkTrackerKind(kind);
    if (values === 'all') {
      this.trackers.delete(kind);
      return this.pushTrackers();
    }
    let set = this.trackers.get(kind);
    if (!set) {
      set = new Set();
      this.trackers.set(kind, set);
    }
    for (const v of values) set.add(v);
    await this.pushTrackers();
  }

  async untrack(kind: TrackerKind, values: number[] | 'all'): Promise<void> {
    this.checkTrackerKind(kind);
    if (values === 'all') {
      this.trackers.set(kind, new Set());
      return this.pushTrackers();
    }
    const set = this.trackers.get(kind);
    if (!set) throw new LttError('KERNEL_TRACKER', `Cannot untrack ${kind} ${values.join(',')}: every ${kind} is tracked (use --all first)`);
    for (const v of values) {
      if (!set.delete(v)) throw new LttError('KERNEL_TRACKER', `${kind} ${v} is not tracked`);
    }
    await this.pushTrackers();
  }

  private async pushTrackers(): Promise<void> {
    this.applyKernelPidFilter();
    if (this.consumer) await this.consumer.call({ op: 'trackers', entries: [...this.trackers].map(([k, v]) => [k, [...v]]) });
  }

  /**
   * pid/vpid trackers also go to each instance's set_event_pid, so untracked processes do not fill the
   * buffers (the consumer alone would read and drop their records). ftrace matches the thread id, so the list
   * holds every thread of the tracked processes, and options/event-fork makes the kernel add the threads and
   * children they create later: a superset of what is tracked. The consumer keeps the exact check (children
   * are other processes), and the only check for uid/gid trackers. Like the consumer, vpid is matched as the
   * pid seen by the daemon. Called at every tracker change and at start (threads born in between).
   */
  private applyKernelPidFilter(): void {
    let pids: Set<number> | undefined;
    for (const kind of ['pid', 'vpid'] as const) {
      const set = this.trackers.get(kind);
      if (!set) continue;
      pids = pids === undefined ? new Set(set) : new Set([...pids].filter((p) => set.has(p)));
    }
    const tids = new Set<number>();
    for (const pid of pids ?? []) {
      tids.add(pid);
      for (const t of readDirOptional(`/proc/${pid}/task`)) tids.add(Number(t));
    }
    // With any tracker the kernel keeps each traced thread's thread group (tracefs saved_tgids), which the consumer
    // asks for a thread gone from /proc before its records were decoded (ThreadTable): a tracked process's
    // short-lived threads were dropped as other processes (pid trackers) or as unknown users (uid/gid trackers).
    // One write, on one instance, at each change: the kernel's switch turns tgid recording on (or off) for every
    // enabled event of every instance (trace_event_enable_tgid_record), so a second instance's write would count
    // each event again and never give it back. The tgids it saves are the machine's, whichever event saved them.
    const tgids = this.trackers.size > 0;
    const first = this.channels.values().next().value;
    if (tgids !== this.tgidsRecorded && first !== undefined) {
      if (tracefs.exists('options/record-tgid', first.instance)) tracefs.writeText('options/record-tgid', tgids ? '1' : '0', first.instance);
      this.tgidsRecorded = tgids;
    }
    // Every track change and start comes here, usually with no pid tracker at all: then set_event_pid is left
    // alone. Any write to it, even of an empty list, makes the kernel check the pid of every event of the
    // instance (measured: dd under bench/kernel.mjs 13% slower), and only truncating a non-empty list undoes it.
    if (pids === undefined && !this.pidFilterWritten) return;
    // Nothing tracked: pid 0 (the idle tasks) lets next to nothing through; an empty list would mean "all".
    const list = pids === undefined ? '' : tids.size === 0 ? '0' : [...tids].join(' ');
    for (const c of this.channels.values()) {
      if (!tracefs.exists('set_event_pid', c.instance)) continue;
      tracefs.writeText('options/event-fork', pids === undefined ? '0' : '1', c.instance);
      // writeText truncates first: '' clears the list (and the per-event check), else the list replaces it.
      tracefs.writeText('set_event_pid', pids === undefined ? '' : `${list}\n`, c.instance);
    }
    this.pidFilterWritten = pids !== undefined;
  }

  private checkTrackerKind(kind: string): void {
    if (!['pid', 'vpid', 'uid', 'vuid', 'gid', 'vgid'].includes(kind)) throw new LttError('KERNEL_TRACKER', `Unknown tracker kind "${kind}"`);
  }

  // ---- start / stop / destroy -----------------------------------------------------------------------------

  async start(): Promise<void> {
    this.checkAlive();
    if (this.active) throw new LttError('KERNEL_ALREADY_STARTED', `Session ${this.sessionName} is already started`);
    if (!this.consumer) await this.openTrace();
    try {
      await this.pushTrackers();
      // The worker writes the statedump and opens the pipes before tracing starts.
      await this.consumer!.call({ op: 'start', statedumpChannels: this.statedumpChannels() });
      for (const c of this.channels.values()) {
        if (c.enabled) tracefs.writeText('tracing_on', '1', c.instance);
      }
    } catch (err) {
      for (const c of this.channels.values()) {
        try {
          tracefs.writeText('tracing_on', '0', c.instance);
        } catch {
          // The instance is unusable anyway; destroy() removes it.
        }
      }
      await this.consumer!.call({ op: 'stop' }).catch(() => undefined);
      throw err;
    }
    this.active = true;
    this.everStarted = true;
  }

  private statedumpChannels(): number[] {
    return [...this.channels.values()]
      .filter((c) => c.enabled && [...c.classes.values()].some((k) => k.kind === 'statedump' && [...k.rules].some((r) => r.enabled)))
      .map((c) => c.id);
  }

  /** `regenerate statedump`: a new dump into the channels that enabled it, after draining what is pending. */
  async regenerateStatedump(): Promise<void> {
    this.checkAlive();
    if (!this.active) throw new LttError('KERNEL_NOT_STARTED', `Session ${this.sessionName} is not started`);
    await this.consumer!.call({ op: 'statedump', statedumpChannels: this.statedumpChannels() });
  }

  private async openTrace(): Promise<void> {
    const env: Record<string, string | number> = {
      hostname: this.hostname,
      domain: 'kernel',
      sysname: os.type(),
      kernel_release: os.release(),
      kernel_version: os.version(),
      tracer_name: 'lttng-modules',
      tracer_major: 2,
      tracer_minor: 13,
      tracer_patchlevel: 0,
      trace_buffering_scheme: 'global',
      trace_name: this.sessionName,
      trace_creation_datetime: isoBasicDateTime(this.creationTime),
    };
    const product = readOptional('/sys/class/dmi/id/product_uuid');
    if (product) env.product_uuid = product;
    const cpus = tracefs.cpuIds();
    const channels = [...this.channels.values()];
    for (const c of channels) c.contexts.forEach(contextField); // validated again before anything is created
    const client = this.spareConsumer ?? new KernelConsumerClient();
    this.spareConsumer = undefined;
    try {
      await client.call({
        op: 'open',
        traceDir: this.kernelTraceDir,
        ...(this.snapshot ? { snapshot: true } : {}),
        ...(this.relay ? { relay: this.relay } : {}),
        ...(this.owner ? { owner: this.owner } : {}),
        env,
        clock: monotonicClockDef(),
        channels: channels.map((c) => ({
          id: c.id,
          name: c.name,
          instance: c.instance,
          cpus,
          pageSize: c.pageSize,
          bufferPages: c.bufferPages,
          overwrite: c.attrs.overwrite,
          readTimerUs: c.attrs.readTimerUs,
          switchTimerUs: c.attrs.switchTimerUs,
          liveTimerUs: c.attrs.liveTimerUs ?? 0,
          subbufSize: c.attrs.subbufSize,
          tracefileSize: c.attrs.tracefileSize,
          tracefileCount: c.attrs.tracefileCount,
          contexts: c.contexts,
          // lttng-modules: compact headers when the channel has fewer than 31 event classes at start.
          largeHeader: c.classes.size >= 31,
        })),
      });
      this.consumer = client;
      for (const c of channels) {
        await this.applyClasses(c, [...c.classes.values()]);
      }
    } catch (err) {
      this.consumer = undefined;
      await client.close().catch(() => undefined);
      throw err;
    }
  }

  /**
   * `snapshot record`: what the channels hold (the newest sub-buffers of each CPU, those the kernel still holds
   * included) as a kernel trace in `dir`/kernel, at most `maxBytes` (0: no limit). Tracing goes on.
   */
  async recordSnapshot(to: string | RelaySinkTarget, maxBytes: number): Promise<SnapshotResult> {
    this.checkAlive();
    if (!this.snapshot) throw new LttError('KERNEL_NOT_SNAPSHOT', `Session ${this.sessionName} is not in snapshot mode`);
    if (!this.consumer) throw new LttError('KERNEL_NOT_STARTED', `Session ${this.sessionName} was never started`);
    return await this.consumer.call<SnapshotResult>({
      op: 'snapshot',
      ...(typeof to === 'string' ? { dir: path.join(to, 'kernel') } : { dir: '', relay: to }),
      ...(this.owner ? { owner: this.owner } : {}),
      maxBytes,
    });
  }

  /**
   * Session rotation: what was recorded so far (the kernel's buffers included) is written and its files closed;
   * recording goes on in `next`/kernel (none: nowhere until the next rotate(dir), for an inactive session), or,
   * streaming to a relay, in its next trace chunk.
   */
  async rotate(next: string | RelayChunk | undefined): Promise<void> {
    this.checkAlive();
    if (!this.consumer) return; // never started: nothing written yet
    const to = typeof next === 'string' ? { dir: path.join(next, 'kernel') } : next !== undefined ? { relayChunk: next } : {};
    this.consumer.stats = await this.consumer.call<ChannelStats[]>({ op: 'rotate', ...to });
  }

  /** `clear`: what was recorded goes; the files in `dir`/kernel start again empty (snapshot: the memory). */
  async clear(dir: string | undefined): Promise<void> {
    this.checkAlive();
    if (!this.consumer) return; // never started: nothing recorded
    this.consumer.stats = await this.consumer.call<ChannelStats[]>({ op: 'clear', ...(dir !== undefined ? { dir: path.join(dir, 'kernel') } : {}) });
  }

  async stop(): Promise<void> {
    this.checkAlive();
    if (!this.active) throw new LttError('KERNEL_NOT_STARTED', `Session ${this.sessionName} is not started`);
    // Tracing off everywhere first, then drain: the pipes then hold everything that was recorded.
    for (const c of this.channels.values()) tracefs.writeText('tracing_on', '0', c.instance);
    this.active = false;
    this.consumer!.stats = await this.consumer!.call<ChannelStats[]>({ op: 'stop' });
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    let firstError: unknown;
    const attempt = async (fn: () => unknown): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        firstError ??= err;
      }
    };
    if (this.active) await attempt(() => this.stop());
    // Closing the worker closes its pipes (an open pipe makes rmdir fail with EBUSY) and the trace.
    await attempt(() => this.consumer?.close());
    await attempt(() => this.spareConsumer?.close());
    for (const c of this.channels.values()) {
      await attempt(() => {
        tracefs.writeText('tracing_on', '0', c.instance);
        tracefs.writeText('events/enable', '0', c.instance);
      });
      await attempt(() => tracefs.rmdirInstance(c.instance));
      this.forgetOwner(c.instance);
    }
    for (const u of this.uprobes) await attempt(() => tracefs.appendText('uprobe_events', `-:${u}\n`));
    for (const k of this.kprobes) await attempt(() => tracefs.appendText('kprobe_events', `-:${k}\n`));
    this.uprobes.length = 0;
    this.kprobes.length = 0;
    this.forgetOwner(undefined);
    this.destroyed = true;
    if (firstError) throw firstError;
  }

  /** Latest statistics (refreshed by the consumer after each read-timer drain and at stop). */
  stats(): KernelChannelStats[] {
    const known = new Map((this.consumer?.stats ?? []).map((x) => [x.channel, x]));
    return [...this.channels.values()].map((c) => {
      const s = known.get(c.name);
      return { channel: c.name, discarded: s?.discarded ?? 0, lost: s?.lost ?? 0, events: s?.events ?? 0, bytes: s?.bytes ?? 0 };
    });
  }

  private writeErrorReported = false;

  /** The trace's first write failure, once (the daemon prints it at `ltt stop` / `ltt destroy`). */
  writeErrors(): string[] {
    const error = this.consumer?.stats.find((s) => s.writeError !== undefined)?.writeError;
    if (error === undefined || this.writeErrorReported) return [];
    this.writeErrorReported = true;
    return [error];
  }

  /** tracefs instance names of the channels (for diagnostics and tests). */
  instanceNames(): Record<string, string> {
    return Object.fromEntries([...this.channels.values()].map((c) => [c.name, c.instance]));
  }

  private checkAlive(): void {
    if (this.destroyed) throw new LttError('KERNEL_DESTROYED', `Session ${this.sessionName} was destroyed`);
  }

  // ---- ownership records (for reclaimStale) --------------------------------------------------------------

  private recordOwner(instance: string | undefined): void {
    const instances = [...this.channels.values()].map((c) => c.instance);
    if (instance && !instances.includes(instance)) instances.push(instance);
    writeOwnerRecord(ownerRecordPath(this.sessionName), { pid: process.pid, instances, uprobes: this.uprobes, kprobes: this.kprobes });
  }

  /** After removing `instance` (or everything, when undefined). */
  private forgetOwner(instance: string | undefined): void {
    const file = ownerRecordPath(this.sessionName);
    if (instance !== undefined) {
      const rest = [...this.channels.values()].map((c) => c.instance).filter((i) => i !== instance && tracefs.instanceExists(i));
      if (rest.length > 0 || this.uprobes.length > 0 || this.kprobes.length > 0) {
        writeOwnerRecord(file, { pid: process.pid, instances: rest, uprobes: this.uprobes, kprobes: this.kprobes });
        return;
      }
    }
    removeOwnerRecord(file);
  }

  // ---- catalog ----------------------------------------------------------------------------------------------

  static async listTracepoints(): Promise<TracepointInfo[]> {
    tracefs.root();
    const out: TracepointInfo[] = [];
    for (const { system, name } of listEventNames()) {
      if (system === 'syscalls' || system === 'raw_syscalls' || system === 'ftrace' || system.startsWith('ltt_') || system === 'uprobes' || system === 'kprobes') continue;
      let fields: FieldSpec[] = [];
      try {
        fields = shapeEvent(readEventFormat(system, name), 'tracepoint', undefined, false).fields;
      } catch {
        // An unreadable format (permissions, odd declarations) still lists the event, without fields.
      }
      out.push({ name: lttngNameOf(system, name), system, fields });
    }
    for (const e of STATEDUMP_EVENTS) out.push({ name: e.name, system: 'lttng_statedump', fields: e.fields });
    return out;
  }

  static async listSyscalls(): Promise<Array<{ name: string; bitness: 32 | 64 }>> {
    tracefs.root();
    return tracefs
      .listDir('events/syscalls')
      .filter((e) => e.startsWith('sys_enter_'))
      .map((e) => ({ name: e.slice(10), bitness: 64 as const }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Remove tracefs instances and probes recorded by session daemons that are gone. `livePids`: daemons known
   * alive (default: any running process counts as alive). Instances without an owner record are left alone.
   */
  static async reclaimStale(livePids?: Iterable<number>): Promise<string[]> {
    tracefs.root();
    return reclaimStaleOwners(livePids);
  }
}
