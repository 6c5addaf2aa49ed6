// The kernel's event catalog as the control protocol lists it (`ltt list -k`, `ltt list -k --syscall`): what the
// daemon answers, and what `ltt list -k` reads in process when root has no daemon running (the catalog is
// read-only and needs no session).

import type { TracepointInfo } from '../control/messages.js';
import { KernelSession } from './kernel-session.js';

/** Kernel tracepoints, at the log level LTTng prints for them (TRACE_EMERG). */
export async function kernelTracepoints(): Promise<TracepointInfo[]> {
  return (await KernelSession.listTracepoints()).map((t) => ({ name: t.name, type: 'tracepoint', loglevel: 0 }));
}

export async function kernelSyscalls(): Promise<TracepointInfo[]> {
  return (await KernelSession.listSyscalls()).map((s) => ({ name: s.name, type: 'syscall', bitness: `${s.bitness}-bit` }));
}
