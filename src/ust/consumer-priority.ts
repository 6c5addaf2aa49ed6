// The thread that drains ltt/ust's rings (the local consumer, the app agent) runs ahead of the app's threads.
//
// Why: a thread tracing at full speed fills a 4 x 1 MiB ring in 4-20 ms; the consumer needs little CPU per MiB
// but must run within that time. On this shared 2-core VM at load 10-13 (bench/ust, LTT_UST_SUBBUF_LOG), a
// consumer at the app's priority took sub-buffers up to 100-280 ms after they were closed (p99) and 1-16% of the
// events were discarded; at nice -10 the p99 was 21-32 ms and 0-0.02% were.
// lttng-consumerd is a daemon of its own; here the consumer shares the app's process, so its thread asks the
// kernel for the head start (setpriority(2) on its thread id). Without the right (no CAP_SYS_NICE, RLIMIT_NICE
// too low) it keeps the app's priority.

import { access } from 'node:fs';
import { ownThreadId } from '../thread-id.js';
import { getPriority, setPriority } from 'node:os';

/** How much nicer than the process the consumer thread is (lower: more CPU share, earlier wake-ups). */
export const CONSUMER_NICE_BOOST = 10;

/** Gives the calling thread the consumer's priority when permitted; returns the nice value it runs at. */
export function raiseConsumerPriority(): number | undefined {
  // Linux's setpriority(PRIO_PROCESS, tid) acts on that one thread.
  const tid = ownThreadId();
  if (tid <= 0) return undefined;
  // A new thread inherits its creator's nice value: libuv's thread pool, which the whole app shares, is made
  // (synchronously, by its first request) before this thread changes, so it keeps the app's priority.
  access('/', () => undefined);
  try {
    setPriority(tid, Math.max(-20, getPriority(tid) - CONSUMER_NICE_BOOST));
  } catch {
    // Not permitted: the app's priority.
  }
  return getPriority(tid);
}
