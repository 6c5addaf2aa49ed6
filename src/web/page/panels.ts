// The panels under the timeline: an event's details (its fields and its `ltt view` lines), the analyses of a
// selected range (tables, and scheduling latency over time with uPlot), and search results.

import uPlot from 'uplot';
import type { EventDetail, RangeAnalyses, SearchResult } from '../protocol.js';
import { timeText } from './timeline.js';

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

function table(head: readonly string[], rows: readonly (readonly (string | number)[])[], cls = ''): HTMLTableElement {
  return el(
    'table',
    { class: cls },
    el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', {}, String(c)))))),
  );
}

export function showDetail(box: HTMLElement, d: EventDetail): void {
  box.replaceChildren(
    el('h3', {}, d.title),
    el('div', { class: 'when' }, `at ${timeText(d.ts, 1)}${d.dur !== undefined ? `, for ${timeText(d.dur)}` : ''}`),
    table(['field', 'value'], d.fields, 'fields'),
    ...(d.text.length > 0 ? [el('h4', {}, 'ltt view'), el('pre', { class: 'view-text' }, d.text.join('\n'))] : []),
  );
}

const us = (ns: number) => (ns / 1e3).toFixed(3);
const ms = (ns: number) => (ns / 1e6).toFixed(3);

/** ltt/auto's requests of the range: per route, and the slowest (as `ltt analyze requests`). */
function requestTables(q: NonNullable<RangeAnalyses['requests']>): HTMLElement[] {
  return [
    el('h4', { id: 'range-requests' }, `Requests: ${q.count}${q.unfinished > 0 ? ` (${q.unfinished} unfinished)` : ''} (ms; on CPU, queued, idle: averages)`),
    el(
      'div',
      { class: 'range-grid' },
      el('section', {}, table(['route', 'count', 'p50', 'p99', 'max', 'on CPU', 'queued', 'idle'], q.routes.map((s) => [s.route, s.count, ms(s.p50), ms(s.p99), ms(s.max), ms(s.onCpu), ms(s.queued), ms(s.idle)]), 'routes')),
      el('section', {}, table(['request', 'tid', 'wall', 'on CPU', 'queued', 'idle'], q.slowest.map((b) => [b.label, b.tid, ms(b.wall), ms(b.onCpu), ms(b.queued), ms(b.idle)]), 'requests')),
    ),
  ];
}

export function showRange(box: HTMLElement, r: RangeAnalyses): void {
  const plot = el('div', { class: 'plot' });
  box.replaceChildren(
    el('h3', {}, `Range ${timeText(r.b, r.e - r.b)} to ${timeText(r.e, r.e - r.b)} (${timeText(r.e - r.b)})`),
    ...r.notes.map((n) => el('div', { class: 'note' }, n)),
    el(
      'div',
      { class: 'range-grid' },
      el('section', {}, el('h4', {}, 'CPU per CPU'), table(['cpu', 'busy %'], r.cpus.map((c) => [c.cpu, (100 * c.ratio).toFixed(2)]), 'cpus')),
      el('section', {}, el('h4', {}, 'CPU per thread'), table(['tid', 'pid', 'name', 'ms', '%'], r.cpu.slice(0, 30).map((t) => [t.tid, t.pid ?? '', t.name, (t.ns / 1e6).toFixed(3), (100 * t.ratio).toFixed(2)]), 'cputop')),
      el('section', {}, el('h4', {}, 'System call latency (us)'), table(['call', 'count', 'min', 'avg', 'max', 'total'], r.syscalls.slice(0, 30).map((s) => [s.name, s.count, us(s.min), us(s.avg), us(s.max), us(s.total)]), 'syscalls')),
      el('section', {}, el('h4', {}, 'Scheduling latency (us)'), table(['tid', 'name', 'count', 'min', 'avg', 'max'], r.schedLatency.slice(0, 30).map((s) => [s.tid, s.name, s.count, us(s.min), us(s.avg), us(s.max)]), 'schedlat')),
    ),
    ...(r.requests ? requestTables(r.requests) : []),
    el('h4', {}, 'Scheduling latency over time (us)'),
    plot,
  );
  if (r.latencies.length === 0) {
    plot.append('No wakeups in this range');
    return;
  }
  const xs = r.latencies.map((p) => p[0] / 1e9);
  const ys = r.latencies.map((p) => p[1] / 1e3);
  new uPlot(
    {
      width: Math.max(300, box.clientWidth - 30),
      height: 180,
      scales: { x: { time: false } },
      axes: [{ label: 's' }, { label: 'us' }],
      series: [{}, { label: 'wakeup to run', stroke: '#2e6fd9', paths: () => null, points: { show: true, size: 4, fill: '#2e6fd9' } }],
      legend: { show: false },
    },
    [xs, ys],
    plot,
  );
}

export function showSearch(box: HTMLElement, r: SearchResult, pick: (hit: SearchResult['hits'][number]) => void): void {
  const list = el('ol', { class: 'hits' });
  for (const h of r.hits) {
    const item = el('li', {}, `${timeText(h.ts, 1)}  ${h.name}  ${h.cpu !== null ? `CPU ${h.cpu}` : ''} ${h.what}`);
    item.addEventListener('click', () => pick(h));
    list.append(item);
  }
  box.replaceChildren(
    el('h3', {}, `${r.hits.length}${r.truncated ? '+' : ''} events found`),
    list,
  );
}
