// `ltt analyze requests` as text: a summary line, the slowest requests with their breakdown, per-route
// percentiles, and the timelines of the slowest.

import type { RequestBreakdown, RequestsResult, SyscallTime } from './requests.js';
import { rangeLine } from './text-report.js';

const ms = (ns: number): string => (ns / 1e6).toFixed(3);
const pct = (part: number, whole: number): string => (whole > 0 ? `${((part / whole) * 100).toFixed(1)}%` : '-');

/** System calls as `NAME xCOUNT MS`, comma-separated (also ltt web's request details). */
export function syscallText(list: readonly SyscallTime[]): string {
  return list.map((s) => `${s.name} x${Number.isInteger(s.count) ? s.count : s.count.toFixed(2)} ${ms(s.ns)}`).join(', ');
}

function requestLines(i: number, b: RequestBreakdown): string[] {
  const status = b.finished ? String(b.status ?? '?') : 'unfinished';
  const lines = [
    `${String(i + 1).padStart(3)}. ${b.method} ${b.path}${b.route !== b.path ? ` (${b.route})` : ''}  req ${b.req} pid ${b.pid}: ${ms(b.wallNs)} ms, ${status}`,
    `     its thread ${b.tid}: on CPU ${ms(b.userNs + b.sysNs)} (user ${ms(b.userNs)}, system ${ms(b.sysNs)}), runnable ${ms(b.runnableNs)}, ` +
      `blocked ${ms(b.blocked.reduce((s, x) => s + x.ns, 0))}, unknown ${ms(b.unknownNs)}; queued behind other work ${ms(b.queuedNs)}; idle ${ms(b.idleNs)}`,
  ];
  if (b.blocked.length > 0) lines.push(`     blocked: ${b.blocked.map((x) => `${x.reason} ${ms(x.ns)}`).join(', ')}`);
  if (b.syscalls.length > 0) lines.push(`     system calls: ${syscallText(b.syscalls)}`);
  const behalf: string[] = [];
  if (b.poolOps > 0) behalf.push(`thread pool ${b.poolOps} ops, CPU ${ms(b.poolCpuNs)}${b.poolSyscalls.length > 0 ? ` (${syscallText(b.poolSyscalls)})` : ''}`);
  if (b.workerCpuNs > 0) behalf.push(`worker threads CPU ${ms(b.workerCpuNs)}`);
  if (b.childCpuNs > 0) behalf.push(`child processes CPU ${ms(b.childCpuNs)}`);
  if (b.clients > 0) behalf.push(`${b.clients} outgoing HTTP ${ms(b.clientNs)}`);
  if (behalf.length > 0) lines.push(`     on its behalf: ${behalf.join('; ')}`);
  return lines;
}

export function requestsText(r: RequestsResult): string {
  const lines = [rangeLine(r.range)];
  lines.push(
    `Requests: ${r.count}${r.unfinished > 0 ? ` (${r.unfinished} unfinished)` : ''}; not attributed: ${ms(r.unattributedNs)} ms of the serving threads' ` +
      `${ms(r.jsCpuNs)} ms on CPU while requests were in flight (${pct(r.unattributedNs, r.jsCpuNs)}: the event loop, GC, callbacks of no request)`,
  );
  lines.push('', `Slowest requests (ms)`, '#'.repeat(80));
  r.slowest.forEach((b, i) => lines.push(...requestLines(i, b)));
  lines.push('', 'Per route (ms)', '#'.repeat(80));
  lines.push(`${'route'.padEnd(24)} ${'count'.padStart(7)} ${'p50'.padStart(10)} ${'p90'.padStart(10)} ${'p99'.padStart(10)} ${'max'.padStart(10)} ${'on CPU'.padStart(10)} ${'queued'.padStart(10)} ${'idle'.padStart(10)}`);
  for (const s of r.routes) {
    lines.push(
      `${s.route.padEnd(24)} ${String(s.count).padStart(7)} ${ms(s.p50Ns).padStart(10)} ${ms(s.p90Ns).padStart(10)} ${ms(s.p99Ns).padStart(10)} ` +
        `${ms(s.maxNs).padStart(10)} ${ms(s.avgOnCpuNs).padStart(10)} ${ms(s.avgQueuedNs).padStart(10)} ${ms(s.avgIdleNs).padStart(10)}` +
        (s.unfinished > 0 ? `  (${s.unfinished} unfinished)` : ''),
    );
  }
  lines.push(`${''.padEnd(24)} ${''.padStart(7)} ${''.padStart(43)} (on CPU, queued, idle: averages)`);
  for (const t of r.timelines) {
    lines.push('', `Timeline of request ${t.req} (pid ${t.pid}), ms from its start`, '#'.repeat(80));
    for (const e of t.entries) lines.push(`${ms(e.at).padStart(10)}  ${e.durNs !== null ? `${ms(e.durNs).padStart(9)} ms` : ''.padStart(12)}  ${e.what}`);
  }
  return lines.join('\n') + '\n';
}
