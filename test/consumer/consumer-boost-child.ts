// Child process of consumer-boost.test.ts: started in a session of its own (a session leader, as the daemon is), it
// runs a real kernel channel consumer on the instance named in argv[2] while its own thread (the consumer's) is
// blocked during a burst, and prints, as one JSON line, the nice value that the consumer's priority is raised through
// (with autogroups its session's, else this thread's) before start, right after the burst, once the consumer has
// caught up and after stop, with the kernel's counts.

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
  // Before start(): the reader raises nothing while the channel is not recording.
  const before = nice();
  await consumer.start();
  tracefs.writeText('tracing_on', '1', instance);
  // This thread decodes; blocked here, it falls behind while the reader stages (about 1,400 pages on dd's CPU,
  // of 2,048 slots).
  execFileSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=40000'], { stdio: 'ignore' });
  tracefs.writeText('tracing_on', '0', instance);
  const during = nice();
  // Caught up at once (nothing more is recorded), then CALM_MS of passes that find nothing behind: given back
  // then unless the machine is loaded (CPU pressure keeps it raised; a diagnostic only), and at stop in any case.
  for (let waited = 0; waited < CALM_MS + 3000 && nice() !== before; waited += 100) await sleep(100);
  const afterCalm = nice();
  consumer.stop();
  for (let waited = 0; waited < 2000 && nice() !== before; waited += 20) await sleep(20);
  const after = nice();
  await writer.close();
  const events = consumer.stats().reduce((a, x) => a + x.events, 0);
  consumer.close();
  process.stdout.write(`${JSON.stringify({ before, during, afterCalm, after, events, ...kernelCounts(instance, cpus) })}\n`);
} finally {
  tracefs.rmdirInstance(instance);
}
