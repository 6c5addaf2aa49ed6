// ltt web's page: lays out the timeline from /api/info, wires keyboard and mouse as Perfetto's UI does (W/S
// zoom, A/D pan, wheel scrolls, Ctrl+wheel zooms, drag selects a range, click shows an event), and follows a
// live trace by polling /api/info for a new version. `window.lttWeb` lets tests drive and read the page.

import 'uplot/dist/uPlot.min.css';
import './style.css';
import type { EventDetail, Info, RangeAnalyses, SearchResult } from '../protocol.js';
import { getJson, Latest, readJson } from './api.js';
import { el, showDetail, showRange, showSearch } from './panels.js';
import { LABEL_W, Timeline, timeText, type Hit, type RowKind } from './timeline.js';

const POLL_MS = 2000;
/** While the page shows the overview and the tables are being imported. */
const LOADING_POLL_MS = 500;
/** Pixels a press must move to be a drag (a range selection) rather than a click. */
const DRAG_PX = 4;

const app = document.getElementById('app')!;

function fatal(message: string): void {
  app.replaceChildren(el('div', { class: 'fatal', id: 'error' }, message));
  lttWeb.error = message;
  lttWeb.ready = true;
}

const lttWeb = {
  ready: false,
  error: undefined as string | undefined,
  info: undefined as Info | undefined,
  timeline: undefined as Timeline | undefined,
  /** The thread the page shows on `cpu` at time t (ns from the trace's start), from the data drawn. */
  threadOnCpu(cpu: number, t: number): { tid: number; merged: boolean } | undefined {
    const tl = lttWeb.timeline!;
    const d = tl.data;
    const i = d && tl.sliceAt(d.cpus, cpu, t);
    return i === undefined ? undefined : { tid: d!.cpus.val[i]!, merged: d!.cpus.n[i]! > 1 };
  },
  /** ltt/ust events the page holds for a thread (merged ones counted), by name. */
  ustEvents(tid: number): Record<string, number> {
    const d = lttWeb.timeline!.data;
    const out: Record<string, number> = {};
    if (d) for (let i = 0; i < d.ust.key.length; i++) if (d.ust.key[i] === tid) out[d.names[d.ust.val[i]!]!] = (out[d.names[d.ust.val[i]!]!] ?? 0) + d.ust.n[i]!;
    return out;
  },
  /** ltt/auto requests the page holds for a thread: [start, end, label, merged count, lane] (ns from the trace's start). */
  requests(tid: number): [number, number, string, number, number][] {
    const r = lttWeb.timeline!.data?.requests;
    const names = lttWeb.timeline!.data?.names ?? [];
    const out: [number, number, string, number, number][] = [];
    if (r) for (let i = 0; i < r.key.length; i++) if (r.key[i] === tid) out.push([r.ts[i]!, r.ts[i]! + r.dur[i]!, names[r.val[i]!]!, r.n[i]!, r.lane?.[i] ?? 0]);
    return out;
  },
  async view(b: number, e: number, tid?: number): Promise<void> {
    if (tid !== undefined) lttWeb.timeline!.reveal('thread', tid);
    lttWeb.timeline!.setView(b, e);
    await new Promise((r) => requestAnimationFrame(r));
    await lttWeb.timeline!.settled();
  },
  /** Canvas coordinates (CSS pixels) of time t on a row. */
  where(kind: RowKind, key: number, t: number): { x: number; y: number } | undefined {
    const tl = lttWeb.timeline!;
    const y = tl.rowY(kind, key);
    return y === undefined ? undefined : { x: tl.xOf(t), y };
  },
};
(window as unknown as { lttWeb: typeof lttWeb }).lttWeb = lttWeb;

async function boot(): Promise<void> {
  let info: Info;
  try {
    // The server holds the answer until the trace is read (a while at most); the first screen comes with it.
    // The page's HTML asked already (window.lttInfo), while this script loaded.
    const ask = () => getJson<Info>('/api/info', { first: 1, wait: 1 });
    const early = (window as { lttInfo?: Promise<Response> }).lttInfo;
    info = early ? await readJson<Info>(await early) : await ask();
    while (info.error === 'The trace is being read') {
      await new Promise((r) => setTimeout(r, 50));
      info = await ask();
    }
  } catch (err) {
    return fatal(`Cannot reach the ltt web server: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (info.error !== undefined && info.events === 0) return fatal(`Cannot show the trace: ${info.error}`);
  const { first, ...layout } = info;
  info = layout;
  lttWeb.info = info;

  const search = el('input', { type: 'search', id: 'search-input', placeholder: 'Search: NAME, FIELD=VALUE, FIELD~TEXT (Enter)' });
  const status = el('span', { class: 'status', id: 'status' });
  const canvas = el('canvas', { id: 'timeline', tabindex: '0' });
  const tooltip = el('div', { class: 'tooltip', id: 'tooltip' });
  const detail = el('section', { id: 'detail' }, el('div', { class: 'help' }, 'Click an event for its fields. W/S zoom, A/D pan, wheel scrolls, drag selects a range.'));
  const range = el('section', { id: 'range' }, el('div', { class: 'help' }, 'Drag across the timeline to see the analyses of a range.'));
  const results = el('section', { id: 'search' }, el('div', { class: 'help' }, 'Search results show here.'));
  app.replaceChildren(
    el('header', {}, el('span', { class: 'title' }, `ltt web: ${info.title}`), search, status),
    ...(info.exposedAt ? [el('div', { class: 'banner', id: 'exposed' }, `This page is reachable by others on the network at ${info.exposedAt}`)] : []),
    el('div', { class: 'main' }, canvas, tooltip),
    el('div', { class: 'panels' }, detail, range, results),
  );
  const tl = new Timeline(canvas);
  lttWeb.timeline = tl;
  tl.onError = (m) => (status.textContent = `Error: ${m}`);
  const showStatus = (i: Info) => {
    const lost = i.lost.reduce((a, l) => a + (l.count ?? 0), 0);
    const loading = i.loading === undefined ? '' : `, loading the full trace (${Math.floor(i.loading * 100)}%): CPUs and running threads only until then`;
    status.textContent = `${i.events.toLocaleString()} events, ${timeText(i.duration)}${i.lost.length ? `, ${lost} lost in ${i.lost.length} places` : ''}${i.live ? ', live' : ''}${loading}${i.error ? ` (last update failed: ${i.error})` : ''}`;
  };
  showStatus(info);
  tl.layout(info, first);
  // Redrawn when the canvas' size changed since its last draw (not for the observer's first call).
  new ResizeObserver(() => tl.resized()).observe(canvas);

  const details = new Latest();
  const ranges = new Latest();
  /** A place on the tracks, or an event by id (a search hit). */
  const showAt = async (h: Hit | { kind: 'id'; key: number; t: number }) => {
    if (!h) return;
    const tol = (4 * (tl.e - tl.b)) / tl.plotW;
    if (lttWeb.info?.loading !== undefined) detail.replaceChildren(el('div', { class: 'help' }, 'Waiting for the full trace to show the event...'));
    try {
      const params: Record<string, string | number> = { kind: h.kind, key: h.key, t: Math.round(h.t), tol: Math.ceil(tol) };
      if ('lane' in h && h.lane !== undefined) params['lane'] = h.lane;
      const d = await details.get<EventDetail>('/api/event', params);
      if (d) showDetail(detail, d);
    } catch (err) {
      detail.replaceChildren(el('div', { class: 'note' }, err instanceof Error ? err.message : String(err)));
    }
  };

  // Keyboard: as Perfetto (W/S zoom, A/D pan), around the pointer when it is over the timeline.
  let pointerX: number | undefined;
  window.addEventListener('keydown', (ev) => {
    if (ev.target === search || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const k = ev.key.toLowerCase();
    if (k === 'w') tl.zoom(0.8, pointerX);
    else if (k === 's') tl.zoom(1.25, pointerX);
    else if (k === 'a') tl.pan(-0.1);
    else if (k === 'd') tl.pan(0.1);
    else if (k === 'escape') {
      tl.selection = undefined;
      tl.changed();
    } else return;
    ev.preventDefault();
  });
  canvas.addEventListener('wheel', (ev) => {
    ev.preventDefault();
    if (ev.ctrlKey || ev.metaKey) tl.zoom(Math.exp(ev.deltaY / 300), ev.offsetX);
    else if (ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) tl.pan((ev.deltaX || ev.deltaY) / tl.plotW);
    else tl.scroll(ev.deltaY);
  }, { passive: false });

  let press: { x: number; y: number; t: number } | undefined;
  canvas.addEventListener('mousedown', (ev) => {
    if (ev.offsetX < LABEL_W) return;
    press = { x: ev.offsetX, y: ev.offsetY, t: tl.tOf(ev.offsetX) };
    canvas.focus();
  });
  canvas.addEventListener('mousemove', (ev) => {
    pointerX = ev.offsetX;
    if (press && Math.abs(ev.offsetX - press.x) >= DRAG_PX) {
      const t = tl.tOf(ev.offsetX);
      tl.selection = { b: Math.min(t, press.t), e: Math.max(t, press.t) };
      tl.changed();
    }
    const text = tl.describe(tl.hit(ev.offsetX, ev.offsetY));
    tooltip.textContent = text;
    tooltip.style.display = text ? 'block' : 'none';
    tooltip.style.left = `${Math.min(ev.offsetX + 14, canvas.clientWidth - tooltip.offsetWidth - 4)}px`;
    tooltip.style.top = `${ev.offsetY + 16}px`;
  });
  canvas.addEventListener('mouseleave', () => {
    pointerX = undefined;
    tooltip.style.display = 'none';
  });
  window.addEventListener('mouseup', async (ev) => {
    const p = press;
    press = undefined;
    if (!p) return;
    if (Math.abs(ev.clientX - canvas.getBoundingClientRect().left - p.x) < DRAG_PX) return void showAt(tl.hit(p.x, p.y));
    const sel = tl.selection;
    if (!sel) return;
    range.replaceChildren(el('div', { class: 'help' }, 'Computing the analyses of the range...'));
    try {
      const r = await ranges.get<RangeAnalyses>('/api/range', { b: Math.floor(sel.b), e: Math.ceil(sel.e) });
      if (r) showRange(range, r);
    } catch (err) {
      range.replaceChildren(el('div', { class: 'note' }, err instanceof Error ? err.message : String(err)));
    }
  });

  search.addEventListener('keydown', async (ev) => {
    if (ev.key !== 'Enter') return;
    try {
      const r = await getJson<SearchResult>('/api/search', { q: search.value });
      showSearch(results, r, (hit) => {
        const span = Math.min(tl.e - tl.b, 2e6);
        tl.setView(hit.ts - span / 2, hit.ts + span / 2);
        void showAt({ kind: 'id', key: hit.id, t: hit.ts });
      });
    } catch (err) {
      results.replaceChildren(el('div', { class: 'note', id: 'search-error' }, err instanceof Error ? err.message : String(err)));
    }
  });

  // A live trace: lay out again when the server imported new data; a trace shown from its overview: again when
  // its tables are in (faster polls meanwhile, for the progress).
  let version = info.version;
  let loading = info.loading !== undefined;
  const poll = async () => {
    try {
      const next = await getJson<Info>('/api/info');
      if (next.version === version) {
        if (next.loading !== undefined) showStatus(next);
        return;
      }
      version = next.version;
      showStatus(next);
      if (next.events > 0) {
        lttWeb.info = next;
        tl.layout(next);
      }
      loading = next.loading !== undefined;
    } catch {
      status.textContent = 'The ltt web server is gone';
    }
  };
  const tick = () => void poll().finally(() => setTimeout(tick, loading ? LOADING_POLL_MS : POLL_MS));
  setTimeout(tick, loading ? LOADING_POLL_MS : POLL_MS);

  await new Promise((r) => requestAnimationFrame(r));
  await tl.settled();
  lttWeb.ready = true;
}

void boot();
