// Standalone tracing without a session daemon: the process records its own events into
// DIR/ust/pid/PROCNAME-PID-YYYYmmdd-HHMMSS/ (LTTng's per-PID layout: metadata, CHANNEL_N stream files, index/).
//
// Contract: main thread only. startLocalSession() creates the trace directory, starts the consumer worker (which
// makes the trace's output: its files, the metadata preamble) and waits (bounded, like lttng-ust's registration
// timeout) until it listens, then activates the main thread and publishes the session to workers (environment data for workers created later,
// a BroadcastChannel message for running ones). At exit (normal end, process.exit(), uncaught exception) and on
// SIGINT/SIGTERM the main thread closes its packet and blocks until the consumer has written every ring out,
// including the open packets of workers that cannot flush themselves. With LTT_UST_OUTPUT=DIR set, index.ts
// starts a session at load time. Errors are LttErrors with one-line messages.
//
// With a session daemon instead: app-agent.ts registers the process and drives the same tracer hooks
// (activate/setRules/deactivate) with the SessionConfig and EventRule data the daemon sends; its agent thread
// hosts the same trace writer (trace-writer.ts) and the same flush-at-exit protocol.

import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MessageChannel, type Worker, getEnvironmentData, isMainThread, receiveMessageOnPort, setEnvironmentData } from 'node:worker_threads';
import { startSiblingWorker } from '../start-worker.js';
import { LttError } from '../errors.js';
import { clockUuid, measureRealtimeOffset } from './clock.js';
import { CONTEXT_NAMES, type ContextName } from './event-codegen.js';
import { checkRules, LOG_LEVELS, type EventRule, type LogLevelName } from './enablement.js';
import { traceTsdl } from './metadata.js';
import type { LossMode } from './ring-layout.js';
import { activate, activeSessionId, deactivate, ENV_DATA_KEY, flushThread, getChannel, setRules, type SessionConfig } from './tracer.js';
import { CTRL_DONE, CTRL_FINAL, CTRL_READY, CTRL_WORDS, READY_FAILED, type ConsumerInit } from './consumer-protocol.js';
import { makeTraceDirectories } from '../ctf/writer/trace-modes.js';
import { folderDateTime, isoBasicDateTime } from '../ctf/writer/lttng-time-names.js';
import { internalWorkerData } from './internal-thread.js';

export interface LocalSessionOptions {
  /** Output directory; the trace goes to DIR/ust/pid/PROCNAME-PID-DATETIME/. */
  readonly dir: string;
  /** Channel name (stream files CHANNEL_THREADID). Default "channel0". */
  readonly channel?: string;
  /** Sub-buffer size in bytes, power of two >= 4096. Default 1 MiB. */
  readonly subbufSize?: number;
  /** Sub-buffers per thread, power of two >= 2. Default 4. */
  readonly numSubbuf?: number;
  /** Default "discard". */
  readonly mode?: LossMode;
  /**
   * Discard mode: how long (ms) an event waits for the consumer when no sub-buffer is free, instead of being
   * discarded at once (LTTng's --blocking-timeout with LTTNG_UST_ALLOW_BLOCKING). Default 0; Infinity = lossless.
   */
  readonly blockingTimeoutMs?: number;
  /** Event context fields, in order. Default none (like an LTTng channel without add-context). */
  readonly contexts?: readonly ContextName[];
  /** Event name globs to enable (`provider:event`, `*`). Default ["*"]. */
  readonly events?: readonly string[];
  /** Record only events at least as severe as this level. */
  readonly logLevel?: LogLevelName;
  /** Full rules (override `events`/`logLevel`). */
  readonly rules?: readonly EventRule[];
  /** Session name in the metadata env (trace_name). Default "ltt-ust". */
  readonly name?: string;
}

export interface LocalSessionInfo {
  readonly traceDir: string;
  readonly sessionId: string;
}

interface Running {
  readonly info: LocalSessionInfo;
  readonly worker: Worker;
  readonly ctrl: Int32Array;
  /** False once the consumer thread died: then nobody will set DONE and exit must not wait for it. */
  consumerAlive: boolean;
}

let running: Running | undefined;
let hooksInstalled = false;

function processName(): string {
  try {
    return readFileSync('/proc/self/comm', 'utf8').replace(/\n$/, '');
  } catch {
    return process.title.slice(0, 16);
  }
}

function powerOfTwo(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min || (v & (v - 1)) !== 0) {
    throw new LttError('UST_BAD_OPTION', `ltt/ust: ${name} must be a power of two >= ${min} (got ${v})`);
  }
  return v;
}

function blockingTimeout(v: number | undefined, mode: LossMode): number {
  if (v === undefined || v === 0) return 0;
  if (!(v === Infinity || (Number.isInteger(v) && v > 0))) {
    throw new LttError('UST_BAD_OPTION', `ltt/ust: blockingTimeoutMs must be a positive integer or Infinity (got ${String(v)})`);
  }
  if (mode !== 'discard') throw new LttError('UST_BAD_OPTION', 'ltt/ust: blockingTimeoutMs only applies to discard mode');
  return v;
}

export function startLocalSession(opts: LocalSessionOptions): LocalSessionInfo {
  if (!isMainThread) throw new LttError('UST_NOT_MAIN', 'ltt/ust: startLocalSession() must be called from the main thread');
  if (running !== undefined) throw new LttError('UST_SESSION_ACTIVE', `ltt/ust: a session is already active (${running.info.traceDir})`);
  if (typeof opts?.dir !== 'string' || opts.dir === '') throw new LttError('UST_BAD_OPTION', 'ltt/ust: startLocalSession needs {dir}');
  const mode = opts.mode ?? 'discard';
  if (mode !== 'discard' && mode !== 'overwrite') throw new LttError('UST_BAD_OPTION', `ltt/ust: mode must be "discard" or "overwrite" (got ${String(mode)})`);
  const contexts = [...(opts.contexts ?? [])];
  for (const c of contexts) {
    if (!CONTEXT_NAMES.includes(c)) throw new LttError('UST_BAD_OPTION', `ltt/ust: unknown context ${JSON.stringify(c)} (known: ${CONTEXT_NAMES.join(', ')})`);
  }
  const channel = opts.channel ?? 'channel0';
  if (!/^[A-Za-z0-9_.-]+$/.test(channel)) throw new LttError('UST_BAD_OPTION', `ltt/ust: invalid channel name ${JSON.stringify(channel)}`);
  let rules: readonly EventRule[];
  if (opts.rules) rules = opts.rules;
  else {
    const level = opts.logLevel;
    if (level !== undefined && !(level in LOG_LEVELS)) throw new LttError('UST_BAD_OPTION', `ltt/ust: unknown log level ${JSON.stringify(level)}`);
    rules = (opts.events ?? ['*']).map((pattern) => ({
      pattern,
      ...(level !== undefined ? { logLevel: { type: 'range' as const, level: LOG_LEVELS[level] } } : {}),
    }));
  }
  checkRules(rules);
  const config: SessionConfig = {
    sessionId: randomUUID(),
    uuid: randomUUID(),
    channel,
    subbufSize: powerOfTwo('subbufSize', opts.subbufSize ?? 1 << 20, 4096),
    numSubbuf: powerOfTwo('numSubbuf', opts.numSubbuf ?? 4, 2),
    mode,
    blockingTimeoutMs: blockingTimeout(opts.blockingTimeoutMs, mode),
    contexts,
    rules,
  };

  if (config.subbufSize * config.numSubbuf > 1 << 30) {
    throw new LttError('UST_BAD_OPTION', 'ltt/ust: subbufSize x numSubbuf must not exceed 1 GiB per thread');
  }
  const now = new Date();
  const procname = processName();
  const traceDir = join(resolve(opts.dir), 'ust', 'pid', `${procname}-${process.pid}-${folderDateTime(now)}`);
  const preamble = traceTsdl({
    uuid: config.uuid,
    clockUuid: clockUuid(),
    clockOffset: measureRealtimeOffset(),
    hostname: hostname(),
    traceName: opts.name ?? 'ltt-ust',
    creationDatetime: isoBasicDateTime(now),
    vpid: process.pid,
    procname,
    vpidDatetime: isoBasicDateTime(now),
  });
  const outputError = (reason: string): LttError => new LttError('UST_OUTPUT', `ltt/ust: cannot create trace directory ${traceDir}: ${reason}`);
  try {
    makeTraceDirectories(join(traceDir, 'index'));
  } catch (err) {
    throw outputError((err as Error).message);
  }

  const ctrl = new Int32Array(new SharedArrayBuffer(CTRL_WORDS * 4));
  // The consumer makes the trace's output (its sink); why it could not comes back on this port.
  const report = new MessageChannel();
  const init: ConsumerInit = { traceDir, preamble, sessionId: config.sessionId, ctrl: ctrl.buffer as SharedArrayBuffer, report: report.port2, ringBytes: config.subbufSize * config.numSubbuf };
  getChannel(); // our own end exists before the consumer's, so nothing we post is lost
  const worker = startSiblingWorker(import.meta.url, 'consumer-worker', { workerData: internalWorkerData(init), transferList: [report.port2], stdout: false, stderr: false });
  worker.unref();
  worker.on('error', (err) => {
    if (Atomics.load(ctrl, CTRL_READY) !== READY_FAILED) process.emitWarning(`ltt/ust: consumer thread failed: ${err.message}`);
  });
  worker.on('exit', () => {
    if (running?.worker === worker) running.consumerAlive = false;
  });
  // Registration handshake: like lttng-ust's LTTNG_UST_REGISTER_TIMEOUT, wait (bounded) for the consumer so that
  // no ring announcement can be missed.
  if (Atomics.wait(ctrl, CTRL_READY, 0, 5000) === 'timed-out' && Atomics.load(ctrl, CTRL_READY) === 0) {
    void worker.terminate();
    throw new LttError('UST_CONSUMER', 'ltt/ust: the consumer thread did not start within 5 s');
  }
  if (Atomics.load(ctrl, CTRL_READY) === READY_FAILED) {
    const reason = receiveMessageOnPort(report.port1)?.message as string | undefined;
    report.port1.close();
    throw outputError(reason ?? 'the consumer thread could not write it');
  }
  report.port1.close();
  running = { info: { traceDir, sessionId: config.sessionId }, worker, ctrl, consumerAlive: true };
  setEnvironmentData(ENV_DATA_KEY, config);
  activate(config);
  getChannel().postMessage({ type: 'session', config });
  installHooks();
  return running.info;
}

/**
 * Ends the session: disables events, closes this thread's packet, tells workers to stop, and waits until the
 * consumer has written everything (including packets workers have not closed).
 */
export function stopLocalSession(timeoutMs = 10000): void {
  const r = running;
  if (r === undefined) return;
  running = undefined;
  setEnvironmentData(ENV_DATA_KEY, undefined);
  const sid = activeSessionId();
  deactivate();
  if (sid !== undefined) getChannel().postMessage({ type: 'stop', sessionId: sid });
  Atomics.store(r.ctrl, CTRL_FINAL, 1);
  Atomics.notify(r.ctrl, CTRL_FINAL);
  const deadline = Date.now() + timeoutMs;
  while (r.consumerAlive && Atomics.load(r.ctrl, CTRL_DONE) === 0) {
    const left = deadline - Date.now();
    if (left <= 0) {
      process.emitWarning('ltt/ust: the consumer did not finish writing the trace in time; it may be incomplete');
      break;
    }
    Atomics.wait(r.ctrl, CTRL_DONE, 0, left);
  }
}

/**
 * Replaces the session's event rules in every thread (the main thread at once, workers when they next reach
 * their event loop): what `lttng enable-event` / `disable-event` will drive through the session daemon.
 */
export function setEventRules(rules: readonly EventRule[]): void {
  if (!isMainThread) throw new LttError('UST_NOT_MAIN', 'ltt/ust: setEventRules() must be called from the main thread');
  checkRules(rules);
  const sid = activeSessionId();
  if (sid === undefined) throw new LttError('UST_NO_SESSION', 'ltt/ust: no active session');
  const copy = rules.map((r) => ({ ...r }));
  setRules(copy);
  getChannel().postMessage({ type: 'rules', sessionId: sid, rules: copy });
  // Workers created from now on start with the new rules.
  const cfg = getEnvironmentData(ENV_DATA_KEY) as SessionConfig | undefined;
  if (cfg !== undefined) setEnvironmentData(ENV_DATA_KEY, { ...cfg, rules: copy });
}

export function localSessionInfo(): LocalSessionInfo | undefined {
  return running?.info;
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => stopLocalSession());
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      if (process.listenerCount(sig) === 1) {
        // Alone on this signal: write the trace out, then keep Node's default (die by the signal).
        stopLocalSession();
        process.removeListener(sig, onSignal);
        process.kill(process.pid, sig);
      } else {
        // The application handles it (and may go on running): only hand over what the main thread holds; the
        // final drain happens at exit.
        flushThread();
      }
    };
    process.on(sig, onSignal);
  }
}
