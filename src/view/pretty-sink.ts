// sink.text.pretty: turns graph messages into babeltrace2 2.0.4's text lines (events on the output, discarded
// items as WARNING lines on stderr), byte for byte.
//
// Contract: `consume(batch)` is synchronous and writes lines into the OutputWriter it was given (which flushes
// itself when full; the caller closes it at the end); stderr lines go through `warn` right away. Per (event class, trace) the header text after
// the timestamp and the scope printers are generated once and cached. Lazily decoded events (CtfEventMessage)
// go through the event class's fused printer (fused-printer-codegen.ts: fields read from the packet bytes,
// no value objects) when it has one; other events, and event classes it does not handle, through the values.

import type { ClockClass, EventClass, StructFieldClass } from '../ctf/ir/trace-class.js';
import type { Cycles, DiscardedItemsMessage, EventMessage, Message, StreamInfo, StructValue, TraceInfo } from '../ctf/ir/message.js';
import { bodyStateAt, CtfEventMessage, type PacketData } from '../ctf/decode/event-message.js';
import type { EventClassDecoders } from '../ctf/decode/trace-decoders.js';
import { compileFusedEvent, PC_TEXT_MAX, type FusedEventPrinter, type FusedScope } from './fused-printer-codegen.js';
import { compileStruct, PLAIN_STYLE, scopeVisible, type FieldStyle, type ScopePrinter } from './field-printer-codegen.js';
import { LINE_SLACK, OutputWriter, packBytes, type PackedBytes } from './output-writer.js';
import { colorCodes, type ColorCodes, type PrettyOptions } from './pretty-options.js';
import { scopeMemories, type TextMemory } from './text-memory.js';
import { TimestampFormatter, type Warn } from './timestamp-format.js';


const LOG_LEVEL_NAMES = [
  'TRACE_EMERG',
  'TRACE_ALERT',
  'TRACE_CRIT',
  'TRACE_ERR',
  'TRACE_WARNING',
  'TRACE_NOTICE',
  'TRACE_INFO',
  'TRACE_DEBUG_SYSTEM',
  'TRACE_DEBUG_PROGRAM',
  'TRACE_DEBUG_PROCESS',
  'TRACE_DEBUG_MODULE',
  'TRACE_DEBUG_UNIT',
  'TRACE_DEBUG_FUNCTION',
  'TRACE_DEBUG_LINE',
  'TRACE_DEBUG',
];

/** Packet context texts kept (streams whose events interleave). */
const PC_SLOTS = 8;
const EMPTY = packBytes(new Uint8Array(0));
/** Entries of writeRawEvent()'s printer cache (a power of two). */
const ECD_CACHE = 64;
/** Events between two detach() of all text memories: packet windows they keep alive stay few. */
const DETACH_EVERY = 1 << 16;

interface EventPrinter {
  readonly trace: TraceInfo;
  readonly clock: ClockClass | undefined;
  /** Text after the timestamp/delta part up to and including the event name's `: ` (or `, `), encoded. */
  readonly header: Uint8Array;
  /** `header` followed by the packet context's prefix (one literal when the packet context is shown). */
  readonly headerPc: Uint8Array;
  readonly packetContext: ScopePrinter | undefined;
  readonly commonContext: ScopePrinter | undefined;
  readonly specificContext: ScopePrinter | undefined;
  readonly payload: ScopePrinter | undefined;
  /** Separators before each printed scope (nothing for the first, `, ` after), encoded. */
  readonly scopePrefixes: readonly Uint8Array[];
  /**
   * Reads and prints the common context, specific context and payload straight from the packet bytes of a
   * lazily decoded event (null: a field kind the fused generator does not handle; the value path prints).
   */
  readonly fused: FusedEventPrinter | null;
  /** Event scope classes (common context, specific context, payload): their text memories' shapes. */
  readonly eventScopes: readonly (StructFieldClass | undefined)[];
  /** Per babeltrace2 event object (EventMessage.poolSlot): the text memories of its three event scopes. */
  readonly memories: (readonly TextMemory[] | undefined)[];
}

export class PrettySink {
  private readonly ts: TimestampFormatter;
  private readonly warn: Warn;
  /** Buffer position where the event line being written starts. */
  private lineStart = 0;
  /** The sink colours its text (use_colors, and the terminal supports colours: the codes are empty otherwise). */
  private readonly useColors: boolean;
  /** Colour codes; the discarded-items warnings use them whatever --color says (bt_common_color_*). */
  private readonly cc: ColorCodes;
  private readonly style: FieldStyle;
  private readonly printers = new Map<EventClass, EventPrinter[]>();
  /** Scope printers per field class (packet and common contexts are shared by all event classes of a stream). */
  private readonly scopeCache = [new Map<StructFieldClass, ScopePrinter>(), new Map<StructFieldClass, ScopePrinter>()];

  constructor(
    private readonly opts: PrettyOptions,
    private readonly out: OutputWriter,
    warn: Warn,
    outputIsStdout = opts.outputPath === undefined,
  ) {
    // Warnings go to stderr right away; the complete lines before them go out first so that a terminal shows
    // them in babeltrace2's order (its stdout is line-buffered there). The line being built stays buffered.
    const ordered: Warn = (line) => {
      this.out.flushPrefix(this.lineStart);
      this.lineStart = 0;
      warn(line);
    };
    this.warn = ordered;
    this.pcWriter = new OutputWriter(() => void (this.pcFlushed = true), opts.stringEncoding);
    this.ts = new TimestampFormatter(opts, ordered);
    const cc = (this.cc = colorCodes());
    this.useColors = cc.reset !== '' && (opts.color === 'always' || (opts.color === 'auto' && outputIsStdout));
    this.style = this.useColors
      ? {
          fieldName: cc.fgCyan,
          number: cc.bold,
          string: cc.bold,
          enumLabel: cc.bold,
          unknown: cc.bold + cc.fgBrightRed,
          reset: cc.reset,
          latin1: opts.stringEncoding === 'latin1',
        }
      : { ...PLAIN_STYLE, latin1: opts.stringEncoding === 'latin1' };
    this.defaultTimestamp = !this.useColors && !opts.nameHeader && !opts.clockCycles && !opts.noDelta;
  }

  consume(batch: readonly Message[]): void {
    const out = this.out;
    for (let i = 0; i < batch.length; i++) {
      const m = batch[i]!;
      if (m.type === 'event') {
        if (m.trimmed === true) this.noteTexts(m);
        else this.writeEvent(out, m);
      }
      else if (m.type === 'discarded-events' || m.type === 'discarded-packets') this.discarded(m);
    }
  }

  private lastPrinter: EventPrinter | undefined;
  private lastEc: EventClass | undefined;

  private printerFor(ec: EventClass, stream: StreamInfo): EventPrinter {
    // Runs of the same event class are common: skip the map lookup for them.
    const trace = stream.trace;
    if (ec === this.lastEc && this.lastPrinter!.trace === trace) return this.lastPrinter!;
    const found = this.lookupPrinter(ec, stream, trace);
    this.lastEc = ec;
    this.lastPrinter = found;
    return found;
  }

  private lookupPrinter(ec: EventClass, stream: StreamInfo, trace: TraceInfo): EventPrinter {
    const list = this.printers.get(ec);
    if (list) {
      for (let i = 0; i < list.length; i++) if (list[i]!.trace === trace) return list[i]!;
    }
    const p = this.buildPrinter(ec, stream);
    if (list) list.push(p);
    else this.printers.set(ec, [p]);
    return p;
  }

  private name(n: string): string {
    return (this.useColors ? this.cc.bold + n + this.cc.reset : n) + ' = ';
  }

  private scope(fc: StructFieldClass, names: boolean, remember: boolean): ScopePrinter {
    // A packet context class is never an event scope's: `remember` follows from fc.
    const cache = this.scopeCache[names ? 1 : 0]!;
    let p = cache.get(fc);
    if (!p) {
      p = compileStruct(fc, names, this.style, remember);
      cache.set(fc, p);
    }
    return p;
  }

  private buildPrinter(ec: EventClass, stream: StreamInfo): EventPrinter {
    const o = this.opts;
    const sc = stream.sc;
    const trace = stream.trace;
    const env = trace.tc.env;
    const names = o.nameHeader;
    const clock = sc.defaultClock;
    // print_event_header() after print_event_timestamp(): start_line is false only after a named timestamp.
    let startLine = clock ? !names : true;
    let h = '';
    let domPrint = false;
    const sep = (): void => {
      if (!startLine) h += ', ';
    };
    if (o.fieldTrace && trace.unnamed !== true) {
      sep();
      if (names) h += this.name('trace');
      h += trace.name;
      if (names) h += ', ';
    }
    const hostname = env.get('hostname');
    if (o.fieldHostname && hostname !== undefined) {
      sep();
      if (names) h += this.name('trace:hostname');
      h += String(hostname);
      domPrint = true;
    }
    const envField = (on: boolean, key: string, label: string, fmt: (v: string | bigint) => string): void => {
      const v = env.get(key);
      if (!on || v === undefined) return;
      sep();
      if (names) h += this.name(label);
      else if (domPrint) h += ':';
      h += fmt(v);
      domPrint = true;
    };
    envField(o.fieldDomain, 'domain', 'trace:domain', String);
    envField(o.fieldProcname, 'procname', 'trace:procname', String);
    envField(o.fieldVpid, 'vpid', 'trace:vpid', (v) => '(' + String(v) + ')');
    if (o.fieldLoglevel && ec.logLevel !== undefined && ec.logLevel >= 0 && ec.logLevel < LOG_LEVEL_NAMES.length) {
      sep();
      if (names) h += this.name('loglevel');
      else if (domPrint) h += ':';
      h += LOG_LEVEL_NAMES[ec.logLevel] + ' (' + ec.logLevel + ')';
      domPrint = true;
    }
    if (o.fieldEmf && ec.emfUri !== undefined) {
      sep();
      if (names) h += this.name('model.emf.uri');
      else if (domPrint) h += ':';
      h += ec.emfUri;
      domPrint = true;
    }
    if (domPrint && !names) h += ' ';
    sep();
    startLine = true;
    if (names) h += this.name('name');
    const evName = ec.name;
    if (this.useColors) h += this.cc.bold + this.cc.fgBrightMagenta + evName + this.cc.reset;
    else h += evName;
    h += names ? ', ' : ': ';

    const scopePrefixes: Uint8Array[] = [];
    const enc = (t: string): Uint8Array => Buffer.from(t, this.opts.stringEncoding);
    const scopeNames = ['stream.packet.context', 'stream.event.context', 'event.context', 'event.fields'];
    const fcs = [sc.packetContext, sc.eventCommonContext, ec.specificContext, ec.payload];
    const printers: (ScopePrinter | undefined)[] = [];
    const fusedScopes: FusedScope[] = [];
    fcs.forEach((fc, i) => {
      if (!scopeVisible(fc)) {
        printers.push(undefined);
        scopePrefixes.push(enc(''));
        if (i > 0) fusedScopes.push({ fc, visible: false, prefix: '', names: false });
        return;
      }
      let prefix = startLine ? '' : ', ';
      startLine = false;
      if (o.nameScope) prefix += this.name(scopeNames[i]!);
      scopePrefixes.push(enc(prefix));
      const names = i === 3 ? o.namePayload : o.nameContext;
      printers.push(this.scope(fc, names, i > 0));
      if (i > 0) fusedScopes.push({ fc, visible: true, prefix, names });
    });
    // The packet context is decoded once per packet (a value); its text is handed to the fused printer.
    const head = printers[0] ? Buffer.concat([enc(h), scopePrefixes[0]!]) : enc(h);
    const fused = compileFusedEvent(head, printers[0] !== undefined, fusedScopes, this.style);
    return {
      trace,
      clock,
      header: enc(h),
      headerPc: head,
      packetContext: printers[0],
      commonContext: printers[1],
      specificContext: printers[2],
      payload: printers[3],
      scopePrefixes,
      fused,
      eventScopes: fcs.slice(1),
      memories: [],
    };
  }

  private timestampNames: Uint8Array | undefined;

  /** Timestamps in the default form (TimestampFormatter.writeDefault() applies). */
  private readonly defaultTimestamp: boolean;
  /**
   * Text of the last packet context values printed (the same for all events of a packet): a few slots
   * compared by identity, one per interleaved stream, replaced round robin (cheaper than a map per event).
   */
  private readonly pcValues: (object | undefined)[] = new Array(PC_SLOTS).fill(undefined);
  private readonly pcTexts: PackedBytes[] = new Array(PC_SLOTS).fill(EMPTY);
  private pcNext = 0;
  /** Scratch writer the packet context texts are formatted in (a flush means a text too long to keep). */
  private readonly pcWriter: OutputWriter;
  private pcFlushed = false;

  private writeTimestamp(o: OutputWriter, p: EventPrinter, cycles: Cycles): void {
    if (this.defaultTimestamp && this.ts.writeDefault(o, p.clock!, cycles)) return;
    const opts = this.opts;
    const names = opts.nameHeader;
    if (names) {
      this.timestampNames ??= Buffer.from(this.name('timestamp'));
      o.lit(this.timestampNames);
    } else o.byte(91);
    if (this.useColors) o.ascii(this.cc.bold + this.cc.fgBrightYellow);
    if (opts.clockCycles) o.ascii(this.ts.eventCycles(cycles));
    else this.ts.writeEventWall(o, p.clock!, cycles);
    if (this.useColors) o.ascii(this.cc.reset);
    if (!names) {
      o.byte(93);
      o.byte(32);
    }
    if (!opts.noDelta) {
      if (names) o.ascii(', ' + this.name('delta'));
      else o.byte(40);
      this.ts.writeDelta(o);
      if (!names) {
        o.byte(41);
        o.byte(32);
      }
    }
  }

  private writeEvent(o: OutputWriter, m: EventMessage): void {
    const p = this.printerFor(m.ec, m.stream);
    o.ensure(LINE_SLACK + p.header.length);
    this.lineStart = o.pos;
    if (p.clock) this.writeTimestamp(o, p, m.cycles);
    this.writeFields(o, p, m);
  }

  /**
   * Prints an event that has no message (the fused reading loop, fused-view.ts): event class `ecd.ec` of
   * `stream` at times[k] cycles (NaN: at `otherCycles`; a double read here is not boxed as an argument would be), babeltrace2 event object `slot`, read from bit `pos` of packet `pk` (as
   * CtfEventMessage keeps it). Valid for any event class: one the fused printers do not handle gets its message.
   */
  writeRawEvent(
    stream: StreamInfo,
    ecd: EventClassDecoders,
    times: Float64Array,
    k: number,
    otherCycles: Cycles,
    slot: number,
    pk: PacketData,
    pc: StructValue | undefined,
    pos: number,
  ): void {
    const o = this.out;
    // Event classes alternate: a direct-mapped cache on the class decoders (one per class and trace).
    const h = ecd.ec.id & (ECD_CACHE - 1);
    let p = this.ecdPrinters[h]!;
    if (this.ecdKeys[h] !== ecd) {
      p = this.ecdPrinters[h] = this.printerFor(ecd.ec, stream);
      this.ecdKeys[h] = ecd;
    }
    o.ensure(LINE_SLACK + p.header.length);
    this.lineStart = o.pos;
    if (p.clock && !(this.defaultTimestamp && this.ts.writeDefaultAt(o, p.clock, times, k))) {
      const c = times[k]!;
      this.writeTimestamp(o, p, c === c ? c : otherCycles);
    }
    if (p.fused !== null) {
      const pcText = p.packetContext ? this.packetContextText(p.packetContext, pc) : EMPTY;
      if (pcText !== null) {
        const mem = p.memories[slot] ?? this.newMemories(p, slot);
        if (++this.sinceDetach === DETACH_EVERY) this.detachTexts();
        p.fused(o, bodyStateAt(pk, pos, ecd), pcText, mem);
        return;
      }
    }
    const c = times[k]!;
    const m = new CtfEventMessage(stream, ecd.ec, c === c ? c : otherCycles, pc, pk, pos, ecd);
    m.poolSlot = slot;
    this.writeFields(o, p, m);
  }

  private readonly ecdKeys: (EventClassDecoders | undefined)[] = new Array(ECD_CACHE).fill(undefined);
  private readonly ecdPrinters: (EventPrinter | undefined)[] = new Array(ECD_CACHE).fill(undefined);

  /** Prints a message of the fused reading loop that is not an event made there (see consume()). */
  writeMessage(m: Message): void {
    if (m.type === 'event') this.writeEvent(this.out, m);
    else if (m.type === 'discarded-events' || m.type === 'discarded-packets') this.discarded(m);
  }

  /**
   * An event the trimmer dropped (EventMessage.trimmed) still wrote its texts into its event object: its
   * fields are printed where nobody sees them, for the text memories only.
   */
  private noteTexts(m: EventMessage): void {
    const p = this.printerFor(m.ec, m.stream);
    const mem = p.memories[m.poolSlot ?? 0] ?? this.newMemories(p, m.poolSlot ?? 0);
    if (!mem.some((t) => t.follows)) return;
    const o = (this.scratch ??= new OutputWriter(() => {}, this.opts.stringEncoding, undefined, true));
    o.pos = 0;
    this.writeFields(o, p, m);
    o.pos = 0;
  }

  private scratch: OutputWriter | undefined;

  private writeFields(o: OutputWriter, p: EventPrinter, m: EventMessage): void {
    const slot = m.poolSlot ?? 0;
    const mem = p.memories[slot] ?? this.newMemories(p, slot);
    if (++this.sinceDetach === DETACH_EVERY) this.detachTexts();
    if (p.fused !== null && m instanceof CtfEventMessage) {
      const pc = p.packetContext ? this.packetContextText(p.packetContext, m.packetContext) : EMPTY;
      const st = pc !== null ? m.bodyState() : null;
      if (st !== null) {
        p.fused(o, st, pc!, mem);
        return;
      }
    }
    o.lit(p.headerPc);
    const pre = p.scopePrefixes;
    if (p.packetContext) p.packetContext(o, m.packetContext ?? {});
    if (p.commonContext) {
      o.lit(pre[1]!);
      p.commonContext(o, m.commonContext ?? {}, mem[0]);
    }
    if (p.specificContext) {
      o.ensure(LINE_SLACK);
      o.lit(pre[2]!);
      p.specificContext(o, m.specificContext ?? {}, mem[1]);
    }
    if (p.payload) {
      o.ensure(LINE_SLACK);
      o.lit(pre[3]!);
      p.payload(o, m.payload ?? {}, mem[2]);
    }
    o.byte(10);
  }

  /** Copies what the text memories keep of packet bytes: the sink then holds none. */
  detachTexts(): void {
    this.sinceDetach = 0;
    for (const t of this.allMemories) t.detach();
  }

  /** Every text memory (text-memory.ts), and events printed since they were last detached. */
  private readonly allMemories: TextMemory[] = [];
  private sinceDetach = 0;

  private newMemories(p: EventPrinter, slot: number): readonly TextMemory[] {
    const mem = scopeMemories(p.eventScopes);
    p.memories[slot] = mem;
    this.allMemories.push(...mem);
    return mem;
  }

  /**
   * Text of a packet context value, formatted once per packet: a few slots compared by identity (one per
   * interleaved stream), replaced round robin. Null when it cannot be kept (absent, or too long).
   */
  private packetContextText(printer: ScopePrinter, pc: StructValue | undefined): PackedBytes | null {
    if (pc === undefined) return null;
    const values = this.pcValues;
    for (let i = 0; i < PC_SLOTS; i++) if (values[i] === pc) return this.pcTexts[i]!;
    const w = this.pcWriter;
    w.pos = 0;
    this.pcFlushed = false;
    printer(w, pc);
    // A longer text is printed per event instead: a fused printer without room checks counts on at most
    // PC_TEXT_MAX bytes of packet context in its line (its bound, fused-printer-codegen.ts).
    if (this.pcFlushed || w.pos > PC_TEXT_MAX) return null;
    const text = packBytes(w.buf.subarray(0, w.pos));
    const k = this.pcNext;
    this.pcNext = (k + 1) % PC_SLOTS;
    values[k] = pc;
    this.pcTexts[k] = text;
    return text;
  }

  private discarded(m: DiscardedItemsMessage): void {
    this.lineStart = this.out.pos;
    const stream = m.stream;
    const trace = stream.trace;
    const elem = m.type === 'discarded-events' ? 'event' : 'packet';
    const yellow = this.cc.fgYellow;
    const bold = this.cc.bold;
    const reset = this.cc.reset;
    let s = yellow + bold + 'WARNING' + reset + yellow + ': ';
    if (m.count === undefined) s += 'Tracer may have discarded ' + elem + 's';
    else s += 'Tracer discarded ' + m.count + ' ' + elem + (m.count === 1 ? '' : 's');
    s += ' ';
    const clock = stream.sc.defaultClock;
    if (clock && m.beginCycles !== undefined && m.endCycles !== undefined) {
      s += 'between [' + this.ts.rangeWall(clock, m.beginCycles) + '] and [';
      s += this.ts.rangeWall(clock, m.endCycles) + ']';
    } else {
      s += '(unknown time range)';
    }
    s += ' in trace "' + (trace.unnamed === true ? '(unknown)' : trace.name) + '" ';
    s += trace.tc.uuid ? '(UUID: ' + trace.tc.uuid + ') ' : '(no UUID) ';
    s += 'within stream "' + (stream.name ?? '(unknown)') + '" (stream class ID: ' + stream.sc.id + ', ';
    s += stream.id >= 0 ? 'stream ID: ' + stream.id : 'no stream ID';
    s += ').' + reset + '\n';
    this.warn(s);
  }
}
