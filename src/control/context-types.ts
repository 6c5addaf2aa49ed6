// Context types `add-context -t` accepts, per domain (LTTng 2.13's list, reference §1.6), in the order
// `add-context --list` prints them. Shared by the CLI (--list, early "Unknown context type" error) and the
// daemon (which refuses a context the target domain does not have).

import type { Domain } from './messages.js';

const GENERIC_CONTEXTS: ReadonlyArray<{ name: string; kernel: boolean; ust: boolean }> = [
  { name: 'pid', kernel: true, ust: false },
  { name: 'procname', kernel: true, ust: true },
  { name: 'prio', kernel: true, ust: false },
  { name: 'nice', kernel: true, ust: false },
  { name: 'vpid', kernel: true, ust: true },
  { name: 'tid', kernel: true, ust: false },
  { name: 'pthread_id', kernel: false, ust: true },
  { name: 'vtid', kernel: true, ust: true },
  { name: 'ppid', kernel: true, ust: false },
  { name: 'vppid', kernel: true, ust: false },
  { name: 'hostname', kernel: true, ust: false },
  { name: 'ip', kernel: false, ust: true },
  { name: 'interruptible', kernel: true, ust: false },
  { name: 'preemptible', kernel: true, ust: false },
  { name: 'need_reschedule', kernel: true, ust: false },
  { name: 'migratable', kernel: true, ust: false },
  { name: 'callstack-kernel', kernel: true, ust: false },
  { name: 'callstack-user', kernel: true, ust: false },
  ...['cgroup_ns', 'ipc_ns', 'mnt_ns', 'net_ns', 'pid_ns', 'time_ns', 'user_ns', 'uts_ns'].map((name) => ({
    name,
    kernel: true,
    ust: true,
  })),
  ...['uid', 'euid', 'suid', 'gid', 'egid', 'sgid'].map((name) => ({ name, kernel: true, ust: false })),
  ...['vuid', 'veuid', 'vsuid', 'vgid', 'vegid', 'vsgid'].map((name) => ({ name, kernel: true, ust: true })),
];

// perf counters with their perf_event_attr type and config (HARDWARE 0, SOFTWARE 1, HW_CACHE 3; a cache
// counter's config is CACHE | OP << 8 | RESULT << 16), as LTTng's MI shows them.
const CACHE_COUNTERS = (['L1-dcache', 'L1-icache', 'LLC', 'dTLB'] as const).flatMap((cache, id) =>
  (['load', 'store', 'prefetch'] as const).flatMap((op, opIndex) => [
    [`${cache}-${op}${op === 'prefetch' ? 'es' : 's'}`, 3, id | (opIndex << 8)] as const,
    [`${cache}-${op}-misses`, 3, id | (opIndex << 8) | (1 << 16)] as const,
  ]),
);
const PERF_COUNTERS: ReadonlyArray<readonly [name: string, type: number, config: number]> = [
  ['cpu-cycles', 0, 0], ['cycles', 0, 0], ['stalled-cycles-frontend', 0, 7], ['idle-cycles-frontend', 0, 7],
  ['stalled-cycles-backend', 0, 8], ['idle-cycles-backend', 0, 8], ['instructions', 0, 1], ['cache-references', 0, 2],
  ['cache-misses', 0, 3], ['branch-instructions', 0, 4], ['branches', 0, 4], ['branch-misses', 0, 5], ['bus-cycles', 0, 6],
  ...CACHE_COUNTERS,
  ['iTLB-loads', 3, 4], ['iTLB-load-misses', 3, 4 | (1 << 16)], ['branch-loads', 3, 5], ['branch-load-misses', 3, 5 | (1 << 16)],
  ['cpu-clock', 1, 0], ['task-clock', 1, 1], ['page-fault', 1, 2], ['faults', 1, 2], ['major-faults', 1, 6],
  ['minor-faults', 1, 5], ['context-switches', 1, 3], ['cs', 1, 3], ['cpu-migrations', 1, 4], ['migrations', 1, 4],
  ['alignment-faults', 1, 7], ['emulation-faults', 1, 8],
];

/** perf:cpu:NAME / perf:thread:NAME: the counter's perf type and config; undefined for other contexts. */
export function perfCounterCode(context: string): { type: number; config: number } | undefined {
  const match = /^perf:(?:cpu|thread):(.+)$/.exec(context);
  const counter = match ? PERF_COUNTERS.find(([name]) => name === match[1]) : undefined;
  return counter ? { type: counter[1], config: counter[2] } : undefined;
}

/** Every context name in `add-context --list` order. */
export function allContextNames(): string[] {
  return [
    ...GENERIC_CONTEXTS.map((c) => c.name),
    ...PERF_COUNTERS.map(([n]) => `perf:cpu:${n}`),
    ...PERF_COUNTERS.map(([n]) => `perf:thread:${n}`),
  ];
}

const RAW_PERF = /^perf:(cpu|thread):raw:r[0-9a-fA-F]+:[A-Za-z0-9_.-]+$/;

/** Whether `name` is a context type at all (any domain). */
export function isKnownContext(name: string): boolean {
  return RAW_PERF.test(name) || allContextNames().includes(name) || /^\$app\.[^:]+:.+$/.test(name);
}

/** Whether `domain` has context `name`. */
export function domainHasContext(domain: Domain, name: string): boolean {
  const generic = GENERIC_CONTEXTS.find((c) => c.name === name);
  if (generic) return domain === 'kernel' ? generic.kernel : generic.ust;
  if (name.startsWith('perf:cpu:')) return domain === 'kernel';
  if (name.startsWith('perf:thread:')) return domain === 'ust';
  // Application contexts (LTTng's $app.PROVIDER:TYPE) exist in user space only (ltt/ust: $app.node:async_id).
  if (name.startsWith('$app.')) return domain === 'ust';
  return false;
}
