// Access to the kernel domain (src/kernel/kernel-session.ts, written by the kernel component). The module is
// loaded on first use so a daemon without kernel access (non-root, --no-kernel) never touches tracefs, and a
// failure to load becomes the one-line "Kernel tracer not available" error rather than a crash.

import { ControlError } from '../../control/error-codes.js';
import type { TracepointInfo } from '../../control/messages.js';
import type { DomainTracer, TracerSessionOptions } from './domain-tracer.js';

/** The static side of KernelSession as the daemon uses it. */
interface KernelSessionClass {
  create(options: TracerSessionOptions): DomainTracer | Promise<DomainTracer>;
  reclaimStale(): unknown;
}

export class KernelDomain {
  private loaded: Promise<KernelSessionClass> | undefined;
  private supervised = false;

  /** `access`: 'not-root' for a per-user daemon, 'disabled' with --no-kernel. */
  constructor(
    private readonly access: 'ok' | 'not-root' | 'disabled',
    private readonly log: (line: string) => void,
  ) {}

  get available(): boolean {
    return this.access === 'ok';
  }

  /** Throws the error LTTng gives when kernel tracing is impossible for this daemon. */
  check(): void {
    if (this.access === 'not-root') throw new ControlError('NEED_ROOT_SESSIOND');
    if (this.access === 'disabled') throw new ControlError('KERN_NA');
  }

  async createSession(options: TracerSessionOptions): Promise<DomainTracer> {
    const cls = await this.load();
    if (!this.supervised) {
      // Started with the first kernel session: a daemon that never makes an instance needs no supervisor.
      this.supervised = true;
      await this.supervise();
    }
    return await cls.create(options);
  }

  async listTracepoints(): Promise<TracepointInfo[]> {
    await this.load();
    const { kernelTracepoints } = await import('../../kernel/kernel-catalog.js');
    return await kernelTracepoints();
  }

  async listSyscalls(): Promise<TracepointInfo[]> {
    await this.load();
    const { kernelSyscalls } = await import('../../kernel/kernel-catalog.js');
    return await kernelSyscalls();
  }

  /** Removes what a dead daemon left in tracefs. Failures are logged: a fresh daemon must still start. */
  async reclaimStale(): Promise<void> {
    if (!this.available) return;
    try {
      const cls = await this.load();
      await cls.reclaimStale();
    } catch (error) {
      this.log(`Cannot reclaim stale kernel state: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * Starts the process that stops and removes this daemon's tracefs instances if it dies without shutting down
   * (src/kernel/instance-supervisor.ts). Without it the next daemon's reclaim still does, later.
   */
  private async supervise(): Promise<void> {
    try {
      const module = await import('../../kernel/instance-supervisor.js');
      const pid = module.startInstanceSupervisor();
      this.log(pid === undefined ? 'Cannot start the instance supervisor' : `Instance supervisor ${pid} started`);
    } catch (error) {
      this.log(`Cannot start the instance supervisor: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private load(): Promise<KernelSessionClass> {
    this.check();
    this.loaded ??= import('../../kernel/kernel-session.js').then((module) => module.KernelSession);
    return this.loaded.catch((error: unknown) => {
      this.loaded = undefined;
      if (error instanceof ControlError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      this.log(`Kernel domain unavailable: ${reason}`);
      throw new ControlError('KERN_NA', `Kernel tracer not available: ${reason}`);
    });
  }
}
