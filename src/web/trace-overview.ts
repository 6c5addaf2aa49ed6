// The overview `ltt web` shows while a trace's tables are still being imported (trace-holder.ts): one pass of
// the CTF reader over every data stream, one stream after the other (no time merge: a CPU's switches are all in
// its own streams), that decodes the fields of sched_switch only (and of the events that name processes), and
// keeps who ran on each CPU. From that: the layout (Info: duration, CPUs, processes and threads that ran, named,
// lost spans) and the tracks of the CPUs and of the threads' running slices, cut as the engine's `sched` table
// cuts them (engine/sched-slices.ts: a CPU's first slice from the trace's first event, its last to the trace's
// last event) and merged per pixel as timeline-queries.ts merges its levels of detail (a slice at least a pixel
// long as is; shorter ones per track and pixel, labelled by the longest). Everything else (syscalls, IRQs,
// states other than running, ltt/ust events) waits for the tables.
//
// Contract: `readOverview(paths)` resolves an Overview or throws the reader's one-line LttError;
// `overviewTracks(ov, req)` answers /api/tracks from it (protocol.ts Tracks) for any range and resolution.

import type { EventClass } from '../ctf/ir/trace-class.js';
import type { SkippedEvents } from '../ctf/decode/codegen.js';
import { CtfEventMessage } from '../ctf/decode/event-message.js';
import { EVENT, NEED_DATA } from '../ctf/decode/msg-iter.js';
import { openCtfFs } from '../graph/source-ctf-fs.js';
import type { LostSpan, ProcessInfo, Slices, Tracks } from './protocol.js';

/** What the overview pass keeps: the sched slices as columns sorted by CPU then time, times relative to origin. */
export interface Overview {
  /** Absolute ns of the trace's first event (Info.origin). */
  readonly origin: string;
  readonly duration: number;
  readonly events: number;
  readonly cpus: number[];
  readonly processes: ProcessInfo[];
  readonly lost: LostSpan[];
  /** Slices: CPU, start, duration, thread (0: idle); sorted by CPU, then start. */
  readonly cpu: Int32Array;
  readonly ts: Float64Array;
  readonly dur: Float64Array;
  readonly tid: Int32Array;
  /** 0 .. slices - 1 (the slices are in CPU order already). */
  readonly byCpu: Int32Array;
  /** Indexes of the slices of threads other than 0, sorted by thread, then start. */
  readonly byTid: Int32Array;
  /** ms the pass took. */
  readonly ms: number;
}

export interface OverviewRequest {
  readonly b: number;
  readonly e: number;
  readonly px: number;
  readonly tids: readonly number[];
}

const TWO53 = 2 ** 53;
/** Events read at once by the reader's skip loop. */
const RUN = 4096;

/** Growable columns of one CPU's switches: time, prev_tid, next_tid. */
class Switches {
  n = 0;
  t = new Float64Array(1024);
  prev = new Int32Array(1024);
  next = new Int32Array(1024);
  sorted = true;
  push(t: number, prev: number, next: number): void {
    if (this.n === this.t.length) {
      const grow = <A extends Float64Array | Int32Array>(a: A): A => {
        const b = new (a.constructor as new (n: number) => A)(a.length * 2);
        b.set(a);
        return b;
      };
      this.t = grow(this.t);
      this.prev = grow(this.prev);
      this.next = grow(this.next);
    }
    if (this.n > 0 && t < this.t[this.n - 1]!) this.sorted = false;
    this.t[this.n] = t;
    this.prev[this.n] = prev;
    this.next[this.n] = next;
    this.n++;
  }
}

const int = (v: unknown): number | undefined => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined);

export async function readOverview(paths: readonly string[]): Promise<Overview> {
  const started = performance.now();
  const source = await openCtfFs(paths, {});
  const streams = source.createStreams({ fieldsUnread: true });
  // Times are ns from the clock's origin less `base` (the earliest packet's beginning): numbers, exact below 2^53.
  let base: bigint | undefined;
  for (const t of source.traces) for (const g of t.groups) for (const p of g.index) if (p.beginNs !== undefined && (base === undefined || p.beginNs < base)) base = p.beginNs;
  base ??= 0n;

  const switchClasses = new Set<EventClass>();
  const forkClasses = new Set<EventClass>();
  const dumpClasses = new Set<EventClass>();
  for (const t of source.traces) {
    for (const sc of t.info.tc.streamClasses.values()) {
      for (const ec of sc.eventClasses.values()) {
        if (ec.name === 'sched_switch') switchClasses.add(ec);
        else if (ec.name === 'sched_process_fork') forkClasses.add(ec);
        else if (ec.name === 'lttng_statedump_process_state') dumpClasses.add(ec);
      }
    }
  }
  
  const traceIndex = new Map(source.traces.map((t, i) => [t.info, i] as const));
  const traceFirst = source.traces.map(() => Infinity);
  const traceLast = source.traces.map(() => -Infinity);
  /** Per trace and CPU (trace * 4096 + cpu): its switches. */
  const perCpu = new Map<number, Switches>();
  const names = new Map<number, { name: string; at: number }>();
  const pidOf = new Map<number, number>();
  const name = (tid: number, comm: unknown, at: number): void => {
    if (typeof comm !== 'string') return;
    const n = names.get(tid);
    if (n === undefined) names.set(tid, { name: comm, at });
    else if (at >= n.at) (n.name = comm), (n.at = at);
  };
  const lost: LostSpan[] = [];
  const run: SkippedEvents = { pos: new Int32Array(RUN), body: new Int32Array(RUN), ids: new Int32Array(RUN), cycles: new Float64Array(RUN) };
  let events = 0;

  for (const stream of streams) {
    const trace = traceIndex.get(stream.info.trace)!;
    const clock = stream.info.sc.defaultClock;
    const f = clock ? clock.frequency : NaN;
    const offsetNs = clock ? clock.offsetSeconds * 1_000_000_000n + BigInt(Math.trunc((1e9 * Number(clock.offsetCycles)) / clock.frequency)) : 0n;
    const keyOff = Number(offsetNs - base);
    const keyOf = (cycles: number | bigint | undefined): number => {
      if (cycles === undefined || Number.isNaN(f)) return NaN;
      if (typeof cycles === 'number') {
        const k = keyOff + (f === 1e9 ? cycles : Math.trunc((1e9 * cycles) / f));
        if (k < TWO53 && k > -TWO53) return k;
      }
      return Number(offsetNs + BigInt(f === 1e9 ? cycles : Math.trunc((1e9 * Number(cycles)) / f)) - base);
    };
    let cpu = -1;
    let sw: Switches | undefined;
    let firstCycles: number | bigint | undefined;
    let lastCycles: number | bigint | undefined;
    // Per event class ID of this stream: 0 skipped, 1 sched_switch, 2 fork, 3 state dump (a decoder lookup once each).
    const kinds: number[] = [];
    const kindOf = (id: number): number => {
      let k = kinds[id];
      if (k === undefined) {
        const ec = stream.info.sc.eventClasses.get(id);
        kinds[id] = k = ec === undefined ? 0 : switchClasses.has(ec) ? 1 : forkClasses.has(ec) ? 2 : dumpClasses.has(ec) ? 3 : 0;
      }
      return k;
    };
    const fields = (kind: number, ev: CtfEventMessage): void => {
      const p = ev.payload;
      if (!p) return;
      const k = keyOf(ev.cycles);
      if (kind === 1) {
        const prev = int(p['prev_tid']);
        const next = int(p['next_tid']);
        if (prev === undefined || next === undefined || cpu < 0) return;
        if (!sw) {
          const key = trace * 4096 + cpu;
          sw = perCpu.get(key);
          if (!sw) perCpu.set(key, (sw = new Switches()));
        }
        sw.push(k, prev, next);
        name(prev, p['prev_comm'], k);
        name(next, p['next_comm'], k);
      } else {
        const [t, pp, nm] = kind === 2 ? ['child_tid', 'child_pid', 'child_comm'] : ['tid', 'pid', 'name'];
        const tid = int(p[t]);
        const pid = int(p[pp]);
        if (tid !== undefined && pid !== undefined) pidOf.set(tid, pid);
        if (tid !== undefined) name(tid, p[nm], k);
      }
    };
    // Whole runs of a packet's events at once (the reader's generated skip loop, when the stream class has few
    // enough event classes for one), no message made for them: only the events the overview reads get one.
    let runs = true;
    let began = false;
    for (;;) {
      const got = runs ? stream.readRawEvents(RUN, run) : 0;
      if (got === 0 && began) runs = false;
      began = false;
      if (got > 0) {
        events += got;
        if (firstCycles === undefined) firstCycles = run.cycles[0]!;
        lastCycles = run.cycles[got - 1]!;
        for (let j = 0; j < got; j++) {
          const id = run.ids[j]!;
          const kind = kinds[id] ?? kindOf(id);
          if (kind === 0) continue;
          const ecd = stream.ecdOf(id);
          fields(kind, new CtfEventMessage(stream.info, ecd.ec, run.cycles[j]!, stream.evPacketContext, stream.evPacket, ecd.needsHeader ? run.pos[j]! : run.body[j]!, ecd));
        }
        continue;
      }
      const m = stream.nextRaw();
      if (m === NEED_DATA) {
        await stream.fill();
        continue;
      }
      if (m === undefined) break;
      if (m === EVENT) {
        events++;
        const ecd = stream.evEcd!;
        const c = stream.evCycles;
        lastCycles = c;
        if (firstCycles === undefined) firstCycles = c;
        const id = ecd.ec.id;
        const kind = kinds[id] ?? kindOf(id);
        if (kind !== 0) fields(kind, new CtfEventMessage(stream.info, ecd.ec, c, stream.evPacketContext, stream.evPacket, stream.evPos, ecd));
      } else if (m.type === 'event') {
        events++;
        const ev = m as CtfEventMessage;
        lastCycles = ev.cycles;
        if (firstCycles === undefined) firstCycles = ev.cycles;
        const kind = kinds[ev.ec.id] ?? kindOf(ev.ec.id);
        if (kind !== 0) fields(kind, ev);
      } else if (m.type === 'packet-beginning') {
        const c = m.context?.['cpu_id'];
        const now = typeof c === 'number' ? c : -1;
        if (now !== cpu) (cpu = now), (sw = undefined);
        began = runs;
      } else if (m.type === 'discarded-events' || m.type === 'discarded-packets') {
        const b = keyOf(m.beginCycles);
        const e = keyOf(m.endCycles);
        lost.push({ begin: b, end: e, kind: m.type === 'discarded-events' ? 'events' : 'packets', count: m.count ?? null, stream: stream.info.name });
      }
    }
    const first = keyOf(firstCycles);
    const last = keyOf(lastCycles);
    if (first === first) {
      traceFirst[trace] = Math.min(traceFirst[trace]!, first);
      traceLast[trace] = Math.max(traceLast[trace]!, last);
    }
  }

  // The slices, as sched-slices.ts cuts them, per CPU in time order.
  const origin = Math.min(...traceFirst);
  const end = Math.max(...traceLast);
  const cpuSet = new Set<number>();
  let total = 0;
  for (const s of perCpu.values()) total += s.n + 1;
  const cpu = new Int32Array(total);
  const ts = new Float64Array(total);
  const dur = new Float64Array(total);
  const tid = new Int32Array(total);
  const busy = new Map<number, number>();
  let n = 0;
  const keys = [...perCpu.keys()].sort((a, b) => (a % 4096) - (b % 4096) || a - b);
  for (const key of keys) {
    const s = perCpu.get(key)!;
    const c = key % 4096;
    const trace = Math.floor(key / 4096);
    cpuSet.add(c);
    let order: number[] | undefined;
    if (!s.sorted) order = Array.from({ length: s.n }, (_, i) => i).sort((x, y) => s.t[x]! - s.t[y]!);
    const at = (i: number) => (order ? order[i]! : i);
    const slice = (from: number, to: number, thread: number) => {
      cpu[n] = c;
      ts[n] = from - origin;
      dur[n] = to - from;
      tid[n] = thread;
      if (thread !== 0) busy.set(thread, (busy.get(thread) ?? 0) + (to - from));
      n++;
    };
    slice(traceFirst[trace]!, s.t[at(0)]!, s.prev[at(0)]!);
    for (let i = 1; i < s.n; i++) slice(s.t[at(i - 1)]!, s.t[at(i)]!, s.next[at(i - 1)]!);
    slice(s.t[at(s.n - 1)]!, traceLast[trace]!, s.next[at(s.n - 1)]!);
  }
  // Several traces: their CPUs' slices interleave in time; sorted by CPU then time as the tracks want them.
  let order = Array.from({ length: n }, (_, i) => i);
  if (source.traces.length > 1) order.sort((x, y) => cpu[x]! - cpu[y]! || ts[x]! - ts[y]!);
  const pick = <A extends Float64Array | Int32Array>(a: A): A => {
    const b = new (a.constructor as new (n: number) => A)(n);
    order.forEach((j, i) => (b[i] = a[j]!));
    return b;
  };
  const out = { cpu: pick(cpu), ts: pick(ts), dur: pick(dur), tid: pick(tid) };
  order = [];
  const byTid = Int32Array.from(
    Array.from({ length: n }, (_, i) => i)
      .filter((i) => out.tid[i] !== 0)
      .sort((x, y) => out.tid[x]! - out.tid[y]! || out.ts[x]! - out.ts[y]!),
  );

  // Processes and threads that ran, busiest first (as traceShape orders them).
  const byPid = new Map<number, { pid: number; name: string; ns: number; threads: { tid: number; name: string; ns: number }[] }>();
  for (const [t, ns] of busy) {
    const pid = pidOf.get(t) ?? t;
    const nm = names.get(t)?.name ?? '?';
    let proc = byPid.get(pid);
    if (!proc) byPid.set(pid, (proc = { pid, name: nm, ns: 0, threads: [] }));
    if (t === pid) proc.name = nm;
    proc.ns += ns;
    proc.threads.push({ tid: t, name: nm, ns });
  }
  const processes = [...byPid.values()]
    .sort((x, y) => y.ns - x.ns || x.pid - y.pid)
    .map((p) => ({ pid: p.pid, name: p.name, threads: p.threads.sort((x, y) => y.ns - x.ns || x.tid - y.tid).map(({ tid: t, name: nm }) => ({ tid: t, name: nm })) }));
  const rel = (v: number) => (v === v ? v - origin : 0);
  return {
    origin: String(base + BigInt(origin === Infinity ? 0 : origin)),
    duration: end > origin ? end - origin : 0,
    events,
    cpus: [...cpuSet].sort((a, b) => a - b),
    processes,
    lost: lost
      .map(({ begin, end: e, kind, count, stream }) => ({ begin: rel(begin), end: e === e ? rel(e) : rel(begin), kind, count, stream }))
      .sort((a, b) => a.begin - b.begin),
    ...out,
    byCpu: Int32Array.from({ length: n }, (_, i) => i),
    byTid,
    ms: performance.now() - started,
  };
}

const empty = (): Slices => ({ key: [], ts: [], dur: [], val: [], n: [] });

/**
 * Appends slices idx (of one track, in time order) over [b, e] at q ns per pixel to `out`: those at least q
 * long as they are, shorter ones merged per pixel (first start, last end, the longest one's value, how many).
 */
function merge(ov: Overview, key: number, idx: ArrayLike<number>, from: number, to: number, b: number, e: number, q: number, val: (i: number) => number, out: Slices): void {
  let gPix = NaN;
  let gTs = 0;
  let gEnd = 0;
  let gVal = 0;
  let gMax = -1;
  let gN = 0;
  const flush = () => {
    if (gN === 0) return;
    out.key.push(key), out.ts.push(gTs), out.dur.push(gEnd - gTs), out.val.push(gVal), out.n.push(gN);
    gN = 0;
  };
  for (let j = from; j < to; j++) {
    const i = idx[j]!;
    const t = ov.ts[i]!;
    const d = ov.dur[i]!;
    if (t > e) break;
    if (t + d < b) continue;
    if (d >= q) {
      flush();
      out.key.push(key), out.ts.push(t), out.dur.push(d), out.val.push(val(i)), out.n.push(1);
      continue;
    }
    const pix = Math.floor((t - b) / q);
    if (pix !== gPix || gN === 0) {
      flush();
      gPix = pix;
      gTs = t;
      gEnd = t + d;
      gVal = val(i);
      gMax = d;
      gN = 1;
    } else {
      gEnd = Math.max(gEnd, t + d);
      if (d > gMax) (gMax = d), (gVal = val(i));
      gN++;
    }
  }
  flush();
}

/** First index in [lo, hi) of sorted-by-start slices idx whose start is >= t (a bisection). */
function lowerBound(ov: Overview, idx: ArrayLike<number>, lo: number, hi: number, t: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ov.ts[idx[mid]!]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The range of idx (sorted by `keyOf`, then start) whose key is k. */
function keyRange(idx: ArrayLike<number>, keyOf: (i: number) => number, k: number): [number, number] {
  let lo = 0;
  let hi = idx.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keyOf(idx[mid]!) < k) lo = mid + 1;
    else hi = mid;
  }
  let end = lo;
  let hi2 = idx.length;
  while (end < hi2) {
    const mid = (end + hi2) >>> 1;
    if (keyOf(idx[mid]!) <= k) end = mid + 1;
    else hi2 = mid;
  }
  return [lo, end];
}

/** Per key: slices from the one before b (a slice starting earlier may reach in) to those past e. */
function track(ov: Overview, idx: ArrayLike<number>, keyOf: (i: number) => number, key: number, b: number, e: number, q: number, val: (i: number) => number, out: Slices): void {
  const [lo, hi] = keyRange(idx, keyOf, key);
  if (lo === hi) return;
  // Slices of one track do not overlap: only the one before b can reach into the view.
  const from = Math.max(lo, lowerBound(ov, idx, lo, hi, b) - 1);
  merge(ov, key, idx, from, hi, b, e, q, val, out);
}

/** /api/tracks from the overview: the CPUs' slices and the threads' running ones; nothing else yet. */
export function overviewTracks(ov: Overview, req: OverviewRequest): Tracks {
  const started = performance.now();
  const q = Math.max(1, Math.floor((req.e - req.b) / Math.max(1, req.px)));
  const cpus = empty();
  for (const c of ov.cpus) track(ov, ov.byCpu, (i) => ov.cpu[i]!, c, req.b, req.e, q, (i) => ov.tid[i]!, cpus);
  const states = empty();
  for (const t of [...new Set(req.tids)].sort((x, y) => x - y)) track(ov, ov.byTid, (i) => ov.tid[i]!, t, req.b, req.e, q, () => 0, states);
  return { b: req.b, e: req.e, q, cpus, states, syscalls: empty(), irqs: empty(), ust: empty(), requests: empty(), names: [], queryMs: performance.now() - started };
}
