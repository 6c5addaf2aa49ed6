// Kernel-domain contexts (lttng add-context -k) available on the tracefs tracer: their CTF field types as
// lttng-modules declares them, and the filler that computes their values for one record.
//
// Contract: contextField(name) returns the FieldDef (name without the leading underscore) or throws LttError
// naming the unsupported context; makeContextFiller(names, ...) returns a function filling a reused array
// positionally. Values come from the record (tid = common_pid, cpu) and the consumer's thread table.

import * as os from 'node:os';
import { LttError } from '../errors.js';
import type { FieldDef } from '../ctf/writer/field-types.js';
import type { ThreadTable } from './thread-table.js';

const I32 = { kind: 'int', size: 32, signed: true } as const;
const U32 = { kind: 'int', size: 32 } as const;

const FIELDS: Record<string, FieldDef> = {
  pid: { name: 'pid', ...I32 },
  tid: { name: 'tid', ...I32 },
  ppid: { name: 'ppid', ...I32 },
  vpid: { name: 'vpid', ...I32 },
  vtid: { name: 'vtid', ...I32 },
  vppid: { name: 'vppid', ...I32 },
  prio: { name: 'prio', ...I32 },
  nice: { name: 'nice', ...I32 },
  procname: { name: 'procname', kind: 'text', length: 16 },
  hostname: { name: 'hostname', kind: 'text', length: 64 },
  cpu_id: { name: 'cpu_id', ...U32 },
  uid: { name: 'uid', ...U32 },
  gid: { name: 'gid', ...U32 },
  vuid: { name: 'vuid', ...U32 },
  vgid: { name: 'vgid', ...U32 },
};

/** Context names LTTng knows but tracefs cannot provide. */
const LTTNG_ONLY = /^(interruptible|preemptible|need_reschedule|migratable|callstack-kernel|callstack-user|euid|suid|egid|sgid|veuid|vsuid|vegid|vsgid|ip|pthread_id|(cgroup|ipc|mnt|net|pid|time|user|uts)_ns|perf:.*)$/;

export const SUPPORTED_CONTEXTS = Object.keys(FIELDS);

export function contextField(name: string): FieldDef {
  const f = FIELDS[name];
  if (f) return f;
  if (LTTNG_ONLY.test(name)) {
    throw new LttError('KERNEL_CONTEXT', `Context "${name}" is not available on the tracefs kernel tracer (supported: ${SUPPORTED_CONTEXTS.join(', ')})`);
  }
  throw new LttError('KERNEL_CONTEXT', `Unknown context type "${name}"`);
}

export function makeContextFiller(names: readonly string[], threads: ThreadTable): (tid: number, cpu: number, out: unknown[]) => void {
  const host = os.hostname();
  const getters = names.map((n): ((tid: number, cpu: number) => unknown) => {
    switch (n) {
      case 'tid':
      case 'vtid': return (tid) => tid;
      case 'pid':
      case 'vpid': return (tid) => threads.get(tid).pid;
      case 'ppid':
      case 'vppid': return (tid) => threads.get(tid).ppid;
      case 'prio': return (tid) => threads.get(tid).prio;
      case 'nice': return (tid) => threads.get(tid).nice;
      case 'procname': return (tid) => threads.get(tid).comm;
      case 'hostname': return () => host;
      case 'cpu_id': return (_tid, cpu) => cpu;
      case 'uid':
      case 'vuid': return (tid) => threads.ids(tid).uid >>> 0;
      case 'gid':
      case 'vgid': return (tid) => threads.ids(tid).gid >>> 0;
      default: throw new LttError('KERNEL_CONTEXT', `Unknown context type "${n}"`);
    }
  });
  const count = getters.length;
  return (tid, cpu, out) => {
    for (let i = 0; i < count; i++) out[i] = getters[i]!(tid, cpu);
  };
}
