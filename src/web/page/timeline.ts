// The timeline: one canvas, tracks drawn from the server's levels of detail (never a DOM node per event).
// Rows: a CPU track (the running thread, coloured by process; idle left blank) and its interrupts per CPU,
// then per process its threads: state (running, runnable, blocked), system calls, ltt/ust events, and when the
// trace has them ltt/auto's HTTP requests (labelled METHOD PATH STATUS; a thread serving several at once gets
// a lane per overlapping request, as Perfetto stacks slices by depth, up to the server's MAX_LANES). Lost events
// are red bands across every track, so a hole in the data never reads as idle time.
//
// Drawing uses whatever data is at hand (the last answer covers more than the view and stays correct in time,
// if coarser), and asks for the visible range again when the view left it, zoomed in past its resolution or
// shows threads it lacks: a zoom or pan redraws at once, the detail follows.

import type { FirstScreen, Info, Slices, Tracks } from '../protocol.js';
import { STATES } from '../protocol.js';
import { Latest } from './api.js';

export type RowKind = 'cpu' | 'irq' | 'proc' | 'thread';

export interface Row {
  readonly kind: RowKind;
  readonly key: number;
  readonly label: string;
  readonly y: number;
  readonly h: number;
}

/** What is at a point of the tracks (a thread row's bands, top to bottom: state, syscall, ust, request), as /api/event asks. */
export type Hit = { kind: 'cpu' | 'irq' | 'state' | 'syscall' | 'ust' | 'request'; key: number; t: number; lane?: number } | undefined;

export const LABEL_W = 190;
const AXIS_H = 30;
const LOST_H = 6;
const TOP = AXIS_H + LOST_H;
const STATE_COLORS = ['#2e9e44', '#f0b429', '#b8c2cc'];
const UST_COLOR = '#7b3fbf';
/** A thread row: its bands' tops (state, syscall, ust, request) and heights; the request band only when the trace has requests. */
const BAND = { state: [2, 10], syscall: [13, 10], ust: [24, 5], request: [31, 12] } as const;
const THREAD_H = 30;
/** From one request lane's top to the next's. */
const LANE_STEP = 14;
/** A request's colour by its status: answered, failed (4xx, 5xx), unfinished. */
const requestColor = (label: string): string => (/ [45]\d\d$/.test(label) ? '#d9534f' : / \d{3}$/.test(label) ? '#4a90d9' : '#9aa5b1');
/** Faint over the tracks (a loss may be one channel's), solid in the strip under the axis. */
const LOST_COLOR = 'rgba(220, 30, 30, 0.08)';

function hue(n: number): number {
  // Knuth's multiplicative hash spreads near pids over the colour wheel.
  return ((n * 2654435761) >>> 0) % 360;
}

const colors = new Map<number | string, string>();
export const processColor = (pid: number): string => {
  let c = colors.get(pid);
  if (c === undefined) colors.set(pid, (c = `hsl(${hue(pid)} 60% 52%)`));
  return c;
};
const nameColor = (s: string): string => {
  let c = colors.get(s);
  if (c === undefined) {
    let h = 0;
    for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
    colors.set(s, (c = `hsl(${hue(h)} 45% 62%)`));
  }
  return c;
};

/** Time text for an axis or a tooltip: the unit that fits `step`. */
export function timeText(ns: number, step = Math.abs(ns)): string {
  if (step >= 1e9 || ns === 0) return `${(ns / 1e9).toFixed(Math.max(0, Math.min(9, -Math.floor(Math.log10(step / 1e9 || 1)))))} s`;
  if (step >= 1e6) return `${(ns / 1e6).toFixed(Math.max(0, -Math.floor(Math.log10(step / 1e6))))} ms`;
  if (step >= 1e3) return `${(ns / 1e3).toFixed(Math.max(0, -Math.floor(Math.log10(step / 1e3))))} us`;
  return `${Math.round(ns)} ns`;
}

export class Timeline {
  /** Visible range, ns from the trace's start. */
  b = 0;
  e = 1;
  scrollY = 0;
  selection: { b: number; e: number } | undefined;
  rows: Row[] = [];
  data: Tracks | undefined;
  /** The threads `data` was asked for (a thread with nothing in the range has no rows there). */
  private fetchedTids = new Set<number>();
  /** ms of each draw, newest last (the test reads them). */
  readonly drawMs: number[] = [];
  /** ms from a view change to the drawing of its detailed data. */
  readonly refreshMs: number[] = [];
  onError: (message: string) => void = () => {};
  private info!: Info;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly rowOf = { cpu: new Map<number, Row>(), irq: new Map<number, Row>(), thread: new Map<number, Row>() };
  private readonly pidOf = new Map<number, number>();
  private readonly nameOf = new Map<number, string>();
  private contentH = 0;
  private readonly requests = new Latest();
  private fetching = false;
  private changedAt = 0;
  private drawQueued = false;
  private settleWaiters: (() => void)[] = [];

  constructor(readonly canvas: HTMLCanvasElement) {
    this.ctx = canvas.getContext('2d')!;
  }

  get plotW(): number {
    return Math.max(1, this.canvas.clientWidth - LABEL_W);
  }

  /** Lays the rows out for `info`; `first`: the whole trace's tracks for the first threads, drawn at once. */
  layout(info: Info, first?: FirstScreen): void {
    const opening = this.info === undefined;
    this.info = info;
    if (opening) [this.b, this.e] = [0, Math.max(1000, info.duration)];
    this.rows = [];
    let y = TOP;
    const add = (kind: RowKind, key: number, label: string, h: number): void => {
      const row = { kind, key, label, y, h };
      this.rows.push(row);
      if (kind !== 'proc') this.rowOf[kind].set(key, row);
      y += h;
    };
    for (const cpu of info.cpus) {
      add('cpu', cpu, `CPU ${cpu}`, 26);
      add('irq', cpu, `CPU ${cpu} IRQs`, 12);
    }
    this.pidOf.clear();
    this.nameOf.clear();
    this.nameOf.set(0, 'idle');
    for (const p of info.processes) {
      add('proc', p.pid, `${p.name} ${p.pid}`, 20);
      for (const t of p.threads) {
        this.pidOf.set(t.tid, p.pid);
        this.nameOf.set(t.tid, t.name);
        add('thread', t.tid, `${t.name} ${t.tid}`, info.hasRequests ? BAND.request[0] + LANE_STEP * (t.lanes ?? 1) + 2 : THREAD_H);
      }
    }
    this.contentH = y;
    this.data = first?.tracks;
    this.fetchedTids = new Set(first?.tids ?? []);
    this.changed();
  }

  xOf(t: number): number {
    return LABEL_W + ((t - this.b) / (this.e - this.b)) * this.plotW;
  }

  tOf(x: number): number {
    return this.b + ((x - LABEL_W) / this.plotW) * (this.e - this.b);
  }

  /** Where a row is on the canvas now (CSS pixels), or undefined when it is not visible. */
  rowY(kind: RowKind, key: number): number | undefined {
    const row = kind === 'proc' ? this.rows.find((r) => r.kind === 'proc' && r.key === key) : this.rowOf[kind].get(key);
    return row && row.y - this.scrollY;
  }

  /** Scrolls a row to the top of the tracks. */
  reveal(kind: RowKind, key: number): void {
    const y = this.rowY(kind, key);
    if (y !== undefined) this.scroll(y - TOP);
  }

  setView(b: number, e: number): void {
    const span = Math.min(Math.max(e - b, 1000), Math.max(this.info.duration, 1000) * 1.2);
    const mid = (b + e) / 2;
    this.b = mid - span / 2;
    this.e = mid + span / 2;
    this.changed();
  }

  /** Zooms by `factor` (< 1: in) keeping the time under x where it is. */
  zoom(factor: number, x = LABEL_W + this.plotW / 2): void {
    const t = this.tOf(x);
    const span = (this.e - this.b) * factor;
    const f = (x - LABEL_W) / this.plotW;
    this.setView(t - f * span, t - f * span + span);
  }

  pan(fraction: number): void {
    const d = (this.e - this.b) * fraction;
    this.setView(this.b + d, this.e + d);
  }

  scroll(dy: number): void {
    this.scrollY = Math.max(0, Math.min(this.scrollY + dy, Math.max(0, this.contentH - this.canvas.clientHeight + 20)));
    this.changed();
  }

  /** Resolves once the data for the current view is in and drawn. */
  settled(): Promise<void> {
    if (!this.fetching && !this.needsData()) return Promise.resolve();
    return new Promise((resolve) => this.settleWaiters.push(resolve));
  }

  /** Redraws when the canvas' size is no longer the one drawn. */
  resized(): void {
    const dpr = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(this.canvas.clientWidth * dpr) || this.canvas.height !== Math.round(this.canvas.clientHeight * dpr)) this.changed();
  }

  changed(): void {
    this.changedAt = performance.now();
    if (!this.drawQueued) {
      this.drawQueued = true;
      requestAnimationFrame(() => {
        this.drawQueued = false;
        this.draw();
        void this.fetchIfNeeded();
      });
    }
  }

  private visibleTids(margin: number): number[] {
    const top = this.scrollY + TOP - margin;
    const bottom = this.scrollY + this.canvas.clientHeight + margin;
    return this.rows.filter((r) => r.kind === 'thread' && r.y + r.h >= top && r.y <= bottom).map((r) => r.key);
  }

  private needsData(): boolean {
    const d = this.data;
    if (!d) return true;
    const q = (this.e - this.b) / this.plotW;
    return (
      this.b < d.b - 1 && d.b > 0 ||
      this.e > d.e + 1 && d.e < this.info.duration ||
      (q < d.q / 1.5 && d.q > 1) ||
      q > d.q * 4 ||
      this.visibleTids(0).some((t) => !this.fetchedTids.has(t))
    );
  }

  private async fetchIfNeeded(): Promise<void> {
    if (!this.needsData()) return this.settle();
    const span = this.e - this.b;
    const b = Math.max(0, this.b - span / 2);
    const e = Math.min(this.info.duration, this.e + span / 2);
    const px = Math.ceil(((e - b) / span) * this.plotW);
    const tids = this.visibleTids(this.canvas.clientHeight);
    const started = this.changedAt;
    this.fetching = true;
    try {
      const tracks = await this.requests.get<Tracks>('/api/tracks', { b: Math.floor(b), e: Math.ceil(e), px, tids: tids.join(',') });
      if (!tracks) return;
      this.data = tracks;
      this.fetchedTids = new Set(tids);
      this.fetching = false;
      this.draw();
      this.refreshMs.push(performance.now() - started);
      if (this.needsData()) void this.fetchIfNeeded();
      else this.settle();
    } catch (err) {
      this.fetching = false;
      this.onError(err instanceof Error ? err.message : String(err));
      this.settle();
    }
  }

  private settle(): void {
    const waiters = this.settleWaiters;
    this.settleWaiters = [];
    for (const w of waiters) w();
  }

  /** The slice of `s` on `key` (and `lane`, for a source with lanes) covering t (the nearest within `tol` ns), as an index. */
  sliceAt(s: Slices, key: number, t: number, tol = 0, lane = 0): number | undefined {
    let best: number | undefined;
    let bestD = Infinity;
    for (let i = 0; i < s.key.length; i++) {
      if (s.key[i] !== key || (s.lane && s.lane[i] !== lane)) continue;
      const d = t < s.ts[i]! ? s.ts[i]! - t : t > s.ts[i]! + s.dur[i]! ? t - s.ts[i]! - s.dur[i]! : 0;
      if (d < bestD || (d === 0 && s.n[i] === 1)) [best, bestD] = [i, d];
    }
    return bestD <= tol ? best : undefined;
  }

  threadName(tid: number): string {
    return this.nameOf.get(tid) ?? '?';
  }

  pidOfTid(tid: number): number | undefined {
    return this.pidOf.get(tid);
  }

  hit(x: number, y: number): Hit {
    if (x < LABEL_W) return undefined;
    const cy = y + this.scrollY;
    const row = this.rows.find((r) => cy >= r.y && cy < r.y + r.h && r.y >= TOP + this.scrollY - r.h);
    if (!row || row.kind === 'proc' || y < TOP) return undefined;
    const t = this.tOf(x);
    if (row.kind !== 'thread') return { kind: row.kind, key: row.key, t };
    const band = cy - row.y;
    if (this.info.hasRequests && band >= BAND.request[0] - 1) return { kind: 'request', key: row.key, t, lane: Math.max(0, Math.floor((band - BAND.request[0] + 1) / LANE_STEP)) };
    return { kind: band < BAND.syscall[0] ? 'state' : band < BAND.ust[0] ? 'syscall' : 'ust', key: row.key, t };
  }

  /** One line on what is under the pointer, from the data drawn. */
  describe(h: Hit): string {
    const d = this.data;
    if (!h || !d) return '';
    const tol = 3 * (this.e - this.b) / this.plotW;
    const merged = (i: number, s: Slices) => (s.n[i]! > 1 ? ` (+${s.n[i]! - 1} more)` : '');
    const at = ` at ${timeText(h.t, (this.e - this.b) / this.plotW)}`;
    switch (h.kind) {
      case 'cpu': {
        const i = this.sliceAt(d.cpus, h.key, h.t);
        if (i === undefined) return `CPU ${h.key}: no data${at}`;
        const tid = d.cpus.val[i]!;
        return `CPU ${h.key}: ${tid === 0 ? 'idle' : `${this.threadName(tid)} tid ${tid} pid ${this.pidOf.get(tid) ?? '?'}`}${merged(i, d.cpus)}${at}`;
      }
      case 'irq': {
        const i = this.sliceAt(d.irqs, h.key, h.t, tol);
        if (i === undefined) return '';
        const v = d.irqs.val[i]!;
        return `CPU ${h.key}: ${v < 0 ? `soft IRQ ${-1 - v}` : `IRQ ${v}`}, ${timeText(d.irqs.dur[i]!)}${merged(i, d.irqs)}`;
      }
      case 'state': {
        const i = this.sliceAt(d.states, h.key, h.t);
        return i === undefined ? '' : `${this.threadName(h.key)} tid ${h.key}: ${STATES[d.states.val[i]!]} for ${timeText(d.states.dur[i]!)}${merged(i, d.states)}`;
      }
      case 'syscall': {
        const i = this.sliceAt(d.syscalls, h.key, h.t, tol);
        return i === undefined ? '' : `${this.threadName(h.key)} tid ${h.key}: ${d.names[d.syscalls.val[i]!]} ${timeText(d.syscalls.dur[i]!)}${merged(i, d.syscalls)}`;
      }
      case 'ust': {
        const i = this.sliceAt(d.ust, h.key, h.t, tol);
        return i === undefined ? '' : `${this.threadName(h.key)} tid ${h.key}: ${d.names[d.ust.val[i]!]}${merged(i, d.ust)}`;
      }
      case 'request': {
        const i = this.sliceAt(d.requests, h.key, h.t, tol, h.lane);
        return i === undefined ? '' : `${this.threadName(h.key)} tid ${h.key}: ${d.names[d.requests.val[i]!]} ${timeText(d.requests.dur[i]!)}${merged(i, d.requests)}`;
      }
    }
  }

  draw(): void {
    const started = performance.now();
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth;
    const h = c.clientHeight;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
    }
    const g = this.ctx;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    g.font = '11px system-ui, sans-serif';
    g.textBaseline = 'middle';
    const x0 = LABEL_W;
    const x1 = w;
    const visible = (r: Row) => r.y + r.h - this.scrollY >= TOP && r.y - this.scrollY <= h;
    // Row backgrounds.
    for (const r of this.rows) {
      if (!visible(r)) continue;
      const y = r.y - this.scrollY;
      g.fillStyle = r.kind === 'proc' ? '#e8edf3' : r.kind === 'cpu' ? '#f7f9fb' : '#ffffff';
      g.fillRect(x0, y, x1 - x0, r.h);
      g.fillStyle = '#e3e7ec';
      g.fillRect(x0, y + r.h - 1, x1 - x0, 1);
    }
    g.save();
    g.beginPath();
    g.rect(x0, TOP, x1 - x0, h - TOP);
    g.clip();
    const d = this.data;
    if (d) {
      this.drawSlices(d.cpus, 'cpu', 2, 22, (v) => (v === 0 ? undefined : processColor(this.pidOf.get(v) ?? v)), (v) => (v === 0 ? '' : `${this.threadName(v)} ${v}`));
      this.drawSlices(d.irqs, 'irq', 2, 8, (v) => (v < 0 ? '#c0a0e0' : '#e07b39'), () => '');
      this.drawSlices(d.states, 'thread', ...BAND.state, (v) => STATE_COLORS[v], () => '');
      this.drawSlices(d.syscalls, 'thread', ...BAND.syscall, (v) => nameColor(d.names[v]!), (v) => d.names[v]!);
      this.drawSlices(d.ust, 'thread', ...BAND.ust, () => UST_COLOR, () => '', 2);
      this.drawSlices(d.requests, 'thread', ...BAND.request, (v) => requestColor(d.names[v]!), (v) => d.names[v]!, 2);
    }
    // Lost events over every track: where the data is missing, nothing drawn there means nothing known.
    for (const l of this.info?.lost ?? []) {
      const a = Math.max(x0, this.xOf(l.begin));
      const z = Math.min(x1, Math.max(this.xOf(l.end), a + 2));
      if (z < x0 || a > x1) continue;
      g.fillStyle = LOST_COLOR;
      g.fillRect(a, TOP, z - a, h - TOP);
    }
    if (this.selection) {
      const a = this.xOf(this.selection.b);
      const z = this.xOf(this.selection.e);
      g.fillStyle = 'rgba(40, 110, 220, 0.15)';
      g.fillRect(a, TOP, z - a, h - TOP);
      g.fillStyle = 'rgba(40, 110, 220, 0.8)';
      g.fillRect(a, TOP, 1, h - TOP);
      g.fillRect(z, TOP, 1, h - TOP);
    }
    g.restore();
    this.drawLabels(h);
    this.drawAxis(w);
    this.drawMs.push(performance.now() - started);
  }

  private drawSlices(s: Slices, kind: 'cpu' | 'irq' | 'thread', dy: number, sh: number, color: (v: number) => string | undefined, label: (v: number) => string, minW = 1): void {
    const g = this.ctx;
    const rows = this.rowOf[kind];
    const h = this.canvas.clientHeight;
    const k = this.plotW / (this.e - this.b);
    let lastRow: Row | undefined;
    let lastKey = NaN;
    for (let i = 0; i < s.key.length; i++) {
      if (s.key[i] !== lastKey) {
        lastKey = s.key[i]!;
        lastRow = rows.get(lastKey);
      }
      if (!lastRow) continue;
      const y = lastRow.y - this.scrollY + dy + (s.lane ? s.lane[i]! * LANE_STEP : 0);
      if (y + sh < TOP || y > h) continue;
      const a = LABEL_W + (s.ts[i]! - this.b) * k;
      const z = a + s.dur[i]! * k;
      if (z < LABEL_W || a > this.canvas.clientWidth) continue;
      const fill = color(s.val[i]!);
      if (fill === undefined) continue;
      g.fillStyle = fill;
      const width = Math.max(minW, z - a);
      // A merged run of short slices is drawn lighter: it is busy, not one long slice.
      g.globalAlpha = s.n[i]! > 1 ? 0.6 : 1;
      g.fillRect(a, y, width, sh);
      if (width > 40 && sh >= 10) {
        const text = label(s.val[i]!);
        if (text) {
          g.globalAlpha = 1;
          g.fillStyle = '#111';
          const left = Math.max(a, LABEL_W) + 3;
          const room = Math.min(z, this.canvas.clientWidth) - left - 3;
          if (room > 20) g.fillText(fit(g, text, room), left, y + sh / 2);
        }
      }
    }
    g.globalAlpha = 1;
  }

  private drawLabels(h: number): void {
    const g = this.ctx;
    g.fillStyle = '#fff';
    g.fillRect(0, TOP, LABEL_W, h - TOP);
    for (const r of this.rows) {
      const y = r.y - this.scrollY;
      if (y + r.h < TOP || y > h) continue;
      g.fillStyle = r.kind === 'proc' ? '#e8edf3' : '#fff';
      g.fillRect(0, y, LABEL_W, r.h);
      g.fillStyle = r.kind === 'proc' ? processColor(r.key) : '#e3e7ec';
      g.fillRect(0, y, r.kind === 'proc' ? 4 : LABEL_W, r.kind === 'proc' ? r.h : 1);
      g.fillStyle = r.kind === 'irq' ? '#777' : '#222';
      g.font = r.kind === 'proc' ? 'bold 11px system-ui, sans-serif' : r.kind === 'irq' ? '9px system-ui, sans-serif' : '11px system-ui, sans-serif';
      g.fillText(fit(g, r.label, LABEL_W - (r.kind === 'thread' ? 22 : 10)), r.kind === 'thread' ? 16 : 8, y + Math.min(r.h, 14) / 2 + 1);
    }
    g.font = '11px system-ui, sans-serif';
    g.fillStyle = '#c9d1da';
    g.fillRect(LABEL_W - 1, TOP, 1, h - TOP);
  }

  private drawAxis(w: number): void {
    const g = this.ctx;
    g.fillStyle = '#fff';
    g.fillRect(0, 0, w, TOP);
    g.fillStyle = '#444';
    g.fillText(`${timeText(this.e - this.b)} shown`, 8, AXIS_H / 2);
    const span = this.e - this.b;
    const raw = (span / this.plotW) * 110;
    const p = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)!;
    for (let t = Math.ceil(this.b / step) * step; t <= this.e; t += step) {
      const x = this.xOf(t);
      g.fillStyle = '#c9d1da';
      g.fillRect(x, AXIS_H - 8, 1, 8);
      g.fillStyle = '#444';
      g.fillText(timeText(t, step), x + 3, AXIS_H / 2 - 2);
    }
    g.fillStyle = '#c9d1da';
    g.fillRect(0, AXIS_H - 1, w, 1);
    // The lost-events strip under the axis.
    for (const l of this.info?.lost ?? []) {
      const a = Math.max(LABEL_W, this.xOf(l.begin));
      const z = Math.min(w, Math.max(this.xOf(l.end), a + 2));
      if (z < LABEL_W || a > w) continue;
      g.fillStyle = '#d92020';
      g.fillRect(a, AXIS_H, z - a, LOST_H);
    }
  }
}

/** `text` cut to `room` pixels. */
function fit(g: CanvasRenderingContext2D, text: string, room: number): string {
  if (g.measureText(text).width <= room) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (g.measureText(text.slice(0, mid) + '…').width <= room) lo = mid;
    else hi = mid - 1;
  }
  return lo === 0 ? '' : text.slice(0, lo) + '…';
}
