// Child process of consumer-boost.test.ts: started in a session of its own (a session leader, as the daemon is), it
// runs a real kernel channel consumer on the instance named in argv[2] while its own thread (the consumer's) is
// blocked during a burst, and prints, as one JSON line, the nice value that the consumer's priority is raised through
// (with autogroups its session's, else this thread's) before, right after the burst and once the consumer has
// caught up, with the kernel's counts.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as tracefs from '../../src/ftrace/tracefs.js';
import { setUpInstance } from '../../src/kernel/raw-capture.js';
import { autogroupNice, CALM_MS } from '../../src/consumer/consumer-priority.js';
import { kernelCounts, NULL_SINK, SYSCALLS, syscallConsumer } from './syscall-consumer.js';

const instance = process.argv[2]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const autogroups = (() => {
  try {
    return readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'latin1').trim() === '1';
  } catch {
    return false;
  }
})();
// This thread is the consumer's: without autogroups its own nice value is raised.
const nice = () => (autogroups ? autogroupNice() : os.getPriority(0));
const pageSize = setUpInstance({ instance, pageSize: 4096, bufferKb: 1024, events: SYSCALLS.map((e) => `syscalls/${e}`) });
try {
  const { consumer, writer, cpus } = await syscallConsumer(instance, NULL_SINK, { pageSize, bufferPages: 256, packetSize: 1 << 20, readTimerUs: 10_000 });
  await consumer.start();
  const before = nice();
  tracefs.writeText('tracing_on', '1', instance);
  // This thread decodes; blocked here, it falls behind while the reader stages (about 1,400 pages on dd's CPU,
  // of 2,048 slots).
  execFileSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=40000'], { stdio: 'ignore' });
  tracefs.writeText('tracing_on', '0', instance);
  const during = nice();
  // Caught up at once (nothing more is recorded), then CALM_MS of passes that find nothing behind.
  await sleep(CALM_MS + 1500);
  const after = nice();
  consumer.stop();
  await writer.close();
  const events = consumer.stats().reduce((a, x) => a + x.events, 0);
  consumer.close();
  process.stdout.write(`${JSON.stringify({ before, during, after, events, ...kernelCounts(instance, cpus) })}\n`);
} finally {
  tracefs.rmdirInstance(instance);
}
