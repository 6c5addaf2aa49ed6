// The calling thread's kernel thread id, for the places that need one: LTTng's vtid context (ltt/ust), a
// setpriority(2) on one thread (the consumers), and a thread's liveness under /proc/self/task (the kernel
// consumer's page reader). /proc/thread-self is resolved by the calling thread and links to "PID/task/TID".

import { readlinkSync } from 'node:fs';

/** The calling thread's kernel thread id, or 0 where /proc does not say (not Linux procfs). */
export function ownThreadId(): number {
  try {
    const m = /task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}
