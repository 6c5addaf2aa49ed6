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

const PERF_COUNTERS = [
  'cpu-cycles', 'cycles', 'stalled-cycles-frontend', 'idle-cycles-frontend', 'stalled-cycles-backend',
  'idle-cycles-backend', 'instructions', 'cache-references', 'cache-misses', 'branch-instructions', 'branches',
  'branch-misses', 'bus-cycles',
  ...['L1-dcache', 'L1-icache', 'LLC', 'dTLB'].flatMap((cache) =>
    ['loads', 'load-misses', 'stores', 'store-misses', 'prefetches', 'prefetch-misses'].map((op) => `${cache}-${op}`),
  ),
  'iTLB-loads', 'iTLB-load-misses', 'branch-loads', 'branch-load-misses', 'cpu-clock', 'task-clock', 'page-fault',
  'faults', 'major-faults', 'minor-faults', 'context-switches', 'cs', 'cpu-migrations', 'migrations',
  'alignment-faults', 'emulation-faults',
];

/** Every context name in `add-context --list` order. */
export function allContextNames(): string[] {
  return [
    ...GENERIC_CONTEXTS.map((c) => c.name),
    ...PERF_COUNTERS.map((n) => `perf:cpu:${n}`),
    ...PERF_COUNTERS.map((n) => `perf:thread:${n}`),
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
