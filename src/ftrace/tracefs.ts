// Thin one-call wrappers over Linux tracefs (no policy here: the kernel domain decides what to write where).
//
// Contract: every function does one file-system operation on tracefs (or one mount), synchronously, and
// turns failures into LttError with a one-line message naming the file. `root()` mounts tracefs at
// /sys/kernel/tracing if nothing is mounted there yet. Feature detection (kprobes, uprobes, function tracer)
// is answered from what tracefs exposes, cached per process.

import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { LttError } from '../errors.js';

const CANDIDATES = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];
let tracefsRoot: string | undefined;
/** The ring buffer's default sub-buffer: one page (x86-64, arm64 with 4 KiB pages). */
const PAGE_SIZE = 4096;

/** The tracefs mount point, mounting tracefs at /sys/kernel/tracing when it is absent. */
export function root(): string {
  if (tracefsRoot !== undefined) return tracefsRoot;
  for (const dir of CANDIDATES) {
    if (fs.existsSync(`${dir}/events/header_page`)) return (tracefsRoot = dir);
  }
  try {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', CANDIDATES[0]!], { stdio: 'pipe' });
  } catch (err) {
    throw new LttError('KERNEL_TRACEFS', `Cannot mount tracefs on ${CANDIDATES[0]}: ${String((err as Error).message).split('\n')[0]}`, { cause: err });
  }
  if (!fs.existsSync(`${CANDIDATES[0]}/events/header_page`)) {
    throw new LttError('KERNEL_TRACEFS', `tracefs is not available: ${CANDIDATES[0]} has no events/header_page after mounting`);
  }
  return (tracefsRoot = CANDIDATES[0]!);
}

function errText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? e.message ?? String(err);
}

/** Absolute path of a tracefs file; `instance` selects instances/NAME. */
export function pathOf(rel: string, instance?: string): string {
  return instance === undefined ? `${root()}/${rel}` : `${root()}/instances/${instance}/${rel}`;
}

export function exists(rel: string, instance?: string): boolean {
  return fs.existsSync(pathOf(rel, instance));
}

export function readText(rel: string, instance?: string): string {
  const p = pathOf(rel, instance);
  try {
    return fs.readFileSync(p, 'latin1');
  } catch (err) {
    throw new LttError('KERNEL_TRACEFS', `Cannot read ${p}: ${errText(err)}`, { cause: err });
  }
}

/** Write (truncating) `value` to a tracefs file. tracefs reports bad input as EINVAL on write. */
export function writeText(rel: string, value: string, instance?: string): void {
  const p = pathOf(rel, instance);
  try {
    fs.writeFileSync(p, value);
  } catch (err) {
    throw new LttError('KERNEL_TRACEFS', `Cannot write "${value.trim()}" to ${p}: ${errText(err)}`, { cause: err });
  }
}

/**
 * Asks the kernel for `bytes`-sized ring-buffer sub-buffers in `instance` and returns the size it applied (read
 * back): kernels before 6.8 have no buffer_subbuf_size_kb (one page), some refuse every write (EPERM) or round.
 */
export function applySubbufSize(instance: string, bytes: number): number {
  const rel = 'buffer_subbuf_size_kb';
  if (!exists(rel, instance)) return PAGE_SIZE;
  try {
    fs.writeFileSync(pathOf(rel, instance), String(bytes / 1024));
  } catch {
    // The size read back below says what the kernel kept.
  }
  const kb = Number(readText(rel, instance).trim());
  return Number.isInteger(kb) && kb > 0 ? kb * 1024 : PAGE_SIZE;
}

/** Append a line (O_APPEND), as dynamic-event files (uprobe_events, kprobe_events) require for additions. */
export function appendText(rel: string, value: string, instance?: string): void {
  const p = pathOf(rel, instance);
  try {
    fs.appendFileSync(p, value);
  } catch (err) {
    throw new LttError('KERNEL_TRACEFS', `Cannot append "${value.trim()}" to ${p}: ${errText(err)}`, { cause: err });
  }
}

export function listDir(rel: string, instance?: string): string[] {
  try {
    return fs.readdirSync(pathOf(rel, instance));
  } catch {
    return [];
  }
}

export function instanceExists(name: string): boolean {
  return fs.existsSync(`${root()}/instances/${name}`);
}

export function mkdirInstance(name: string): void {
  const p = `${root()}/instances/${name}`;
  try {
    fs.mkdirSync(p);
  } catch (err) {
    throw new LttError('KERNEL_TRACEFS', `Cannot create tracefs instance ${p}: ${errText(err)}`, { cause: err });
  }
}

/** Remove an instance; tracefs refuses (EBUSY) while a reader holds one of its files open. */
export function rmdirInstance(name: string): void {
  const p = `${root()}/instances/${name}`;
  try {
    fs.rmdirSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new LttError('KERNEL_TRACEFS', `Cannot remove tracefs instance ${p}: ${errText(err)}`, { cause: err });
  }
}

export function listInstances(): string[] {
  return listDir('instances');
}

/** Number of CPU buffers tracefs exposes (per_cpu/cpuN). */
export function cpuCount(): number {
  return listDir('per_cpu').filter((d) => /^cpu\d+$/.test(d)).length;
}

export function cpuIds(): number[] {
  return listDir('per_cpu')
    .filter((d) => /^cpu\d+$/.test(d))
    .map((d) => Number(d.slice(3)))
    .sort((a, b) => a - b);
}

/** Open per_cpu/cpuN/trace_pipe_raw of an instance, non-blocking, for the consumer. */
export function openPipeRaw(instance: string, cpu: number): number {
  const p = pathOf(`per_cpu/cpu${cpu}/trace_pipe_raw`, instance);
  try {
    return fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    throw new LttError('KERNEL_TRACEFS', `Cannot open ${p}: ${errText(err)}`, { cause: err });
  }
}

// ---- run-time feature detection -------------------------------------------------------------------------

export interface KernelFeatures {
  kprobes: boolean;
  uprobes: boolean;
  dynamicEvents: boolean;
  functionTracer: boolean;
  syscalls: boolean;
}

let features: KernelFeatures | undefined;

export function detectFeatures(): KernelFeatures {
  if (features) return features;
  const tracers = exists('available_tracers') ? readText('available_tracers').split(/\s+/) : [];
  features = {
    kprobes: exists('kprobe_events'),
    uprobes: exists('uprobe_events'),
    dynamicEvents: exists('dynamic_events'),
    functionTracer: tracers.includes('function') && functionTracerUsable(),
    syscalls: exists('events/syscalls') || exists('events/raw_syscalls'),
  };
  return features;
}

/** The function tracer may be listed yet refuse to work (EPERM on available_filter_functions, lockdown). */
function functionTracerUsable(): boolean {
  try {
    const fd = fs.openSync(pathOf('available_filter_functions'), 'r');
    try {
      const buf = Buffer.alloc(1);
      fs.readSync(fd, buf, 0, 1, null);
    } finally {
      fs.closeSync(fd);
    }
    return true;
  } catch {
    return false;
  }
}

/** Throws the one-line error naming the missing kernel feature. */
export function requireKprobes(): void {
  if (!detectFeatures().kprobes) {
    throw new LttError('KERNEL_NO_KPROBES', 'kprobes are not available: this kernel lacks CONFIG_KPROBES (no kprobe_events in tracefs)');
  }
}

export function requireFunctionTracer(): void {
  const f = detectFeatures();
  if (!f.kprobes) {
    // LTTng's --function is a kretprobe pair: it needs kprobes whatever the function tracer can do.
    throw new LttError('KERNEL_NO_KPROBES', 'function probes are not available: this kernel lacks CONFIG_KPROBES/CONFIG_KRETPROBES (no kprobe_events in tracefs)');
  }
}

export function requireUprobes(): void {
  if (!detectFeatures().uprobes) {
    throw new LttError('KERNEL_NO_UPROBES', 'userspace probes are not available: this kernel lacks CONFIG_UPROBE_EVENTS (no uprobe_events in tracefs)');
  }
}
