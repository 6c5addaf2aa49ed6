// Main-thread side of the kernel consumer: starts the worker (kernel-consumer-worker.ts) and turns requests
// into promises.
//
// Contract: `call()` resolves with the worker's result or rejects with an LttError carrying the worker's
// code and message; if the worker dies, every pending and later call rejects with KERNEL_CONSUMER. The worker
// keeps the process alive only while a request is pending (it is unref'd when idle), so a daemon or a test
// that forgets to close it can still exit. `stats` is the latest statistics the worker posted.

import { Worker } from 'node:worker_threads';
import { LttError } from '../errors.js';
import type { ChannelStats, ConsumerCall, WorkerMessage } from './kernel-consumer-protocol.js';

/**
 * A thread of the kernel consumer (`name`: kernel-consumer-worker, kernel-page-reader): compiled, the .js file
 * next to this one. Under tsx (development and `tsx --test`), this module is a .ts file and worker threads do not
 * inherit tsx's loader, so the thread first registers it, then imports the .ts entry.
 */
export function startConsumerThread(name: string, workerData?: unknown): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, import.meta.url), { workerData });
  const entry = new URL(`./${name}.ts`, import.meta.url).href;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true, workerData });
}

export class KernelConsumerClient {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private seq = 0;
  private failure: LttError | undefined;
  private terminated = false;
  stats: ChannelStats[] = [];

  constructor() {
    this.worker = startConsumerThread('kernel-consumer-worker');
    this.worker.unref();
    this.worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'stats') {
        this.stats = m.stats;
        return;
      }
      const p = this.pending.get(m.seq);
      if (!p) return;
      this.pending.delete(m.seq);
      if (this.pending.size === 0) this.worker.unref();
      if (m.error) p.reject(new LttError(m.error.code, m.error.message));
      else p.resolve(m.result);
    });
    const fail = (why: string): void => {
      this.failure ??= new LttError('KERNEL_CONSUMER', `The kernel consumer stopped: ${why}`);
      for (const p of this.pending.values()) p.reject(this.failure);
      this.pending.clear();
    };
    this.worker.on('error', (err) => fail(err.message.split('\n')[0] ?? String(err)));
    this.worker.on('exit', (code) => {
      if (!this.terminated) fail(`worker exited with code ${code}`);
    });
  }

  call<T = unknown>(req: ConsumerCall): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.terminated) return Promise.reject(new LttError('KERNEL_CONSUMER', 'The kernel consumer is closed'));
    const seq = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(seq, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...req, seq });
    });
  }

  /** Closes the trace (last packets, metadata) and ends the worker. */
  async close(): Promise<void> {
    if (this.terminated) return;
    try {
      if (!this.failure) this.stats = await this.call<ChannelStats[]>({ op: 'close' });
    } finally {
      this.terminated = true;
      await this.worker.terminate();
    }
  }
}
