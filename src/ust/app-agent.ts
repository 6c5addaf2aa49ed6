// Registration of an instrumented Node process with the session daemons (LTTng-UST's lttng_ust_init + the
// registration timeout), main thread side.
//
// Contract: startAgent() runs once, from the main thread, when ltt/ust is loaded (unless LTT_UST_OUTPUT asks for a
// standalone trace). If no daemon's app socket exists (root's /run/ltt and the user's $LTT_HOME/.ltt, or only
// LTT_RUNDIR when set), it returns at once and the process runs untraced, at no cost. Otherwise it starts the agent
// thread (app-agent-worker.ts), which registers over the sockets, and blocks on Atomics.wait until every daemon
// answered or LTT_UST_REGISTER_TIMEOUT ms passed (default 500; 0: do not wait): the sessions active at that moment
// come back on a MessagePort read synchronously, so the main thread records from the app's first event, and
// workers created later join through the environment data. Sessions started, changed or stopped later reach the
// threads through the ltt-ust BroadcastChannel. At exit (and on SIGINT/SIGTERM when the app does not handle them)
// the main thread closes its packet and waits (bounded) until the agent wrote every session out and reported its
// statistics. Failures are silent: an app never stops or warns because tracing is unavailable.

import { existsSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel, type Worker, receiveMessageOnPort, setEnvironmentData } from 'node:worker_threads';
import { startSiblingWorker } from '../start-worker.js';
import { ROOT_RUNDIR, userRundir } from '../control/runtime-paths.js';
import { AGENT_CTRL_WORDS, AGENT_DONE, AGENT_FINAL, AGENT_REGISTERED, DAEMON_POLL_MS, type AgentInit } from './app-agent-protocol.js';
import { APP_SOCKET_NAME } from './app-protocol.js';
import { activate, AGENT_ENV_KEY, deactivate, ENV_DATA_KEY, getChannel, type SessionConfig } from './tracer.js';
import { internalWorkerData } from './internal-thread.js';

export const DEFAULT_REGISTER_TIMEOUT_MS = 500;
const EXIT_FLUSH_TIMEOUT_MS = 5000;

let started = false;

/** The app sockets an app may register with: LTT_RUNDIR alone when set, else root's and the user's daemon. */
export function appSocketCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs = env.LTT_RUNDIR ? [env.LTT_RUNDIR] : [...new Set([ROOT_RUNDIR, userRundir(env)])];
  return dirs.map((d) => join(d, APP_SOCKET_NAME));
}

function registerTimeout(): number {
  const v = process.env['LTT_UST_REGISTER_TIMEOUT'];
  if (v === undefined || v.trim() === '') return DEFAULT_REGISTER_TIMEOUT_MS;
  if (v.trim() === '-1' || v.trim() === 'inf') return Infinity;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : DEFAULT_REGISTER_TIMEOUT_MS;
}

function procname(): string {
  try {
    return readFileSync('/proc/self/comm', 'utf8').replace(/\n$/, '');
  } catch {
    return process.title.slice(0, 16);
  }
}

export function startAgent(): void {
  if (started) return;
  started = true;
  const candidates = appSocketCandidates();
  const sockets = candidates.filter((p) => existsSync(p));
  if (sockets.length > 0) {
    launchAgent(candidates, sockets);
    return;
  }
  // No daemon yet: the agent starts with the first one that appears; its sessions reach every thread over the
  // BroadcastChannel (workers listen from their start), so the app needs no wait then.
  const poll = setInterval(() => {
    if (!candidates.some((p) => existsSync(p))) return;
    clearInterval(poll);
    launchAgent(candidates, []);
  }, DAEMON_POLL_MS);
  poll.unref();
}

/** Starts the agent thread; with `sockets` (daemons there at start), waits boundedly for their sessions. */
function launchAgent(candidates: string[], sockets: string[]): void {
  const ctrl = new Int32Array(new SharedArrayBuffer(AGENT_CTRL_WORDS * 4));
  const { port1, port2 } = new MessageChannel();
  const init: AgentInit = {
    sockets,
    candidates,
    ctrl: ctrl.buffer as SharedArrayBuffer,
    port: port2,
    pid: process.pid,
    ppid: process.ppid,
    uid: typeof process.getuid === 'function' ? process.getuid() : -1,
    gid: typeof process.getgid === 'function' ? process.getgid() : -1,
    procname: procname(),
  };
  // Workers created from now on announce their tracepoints; our channel end exists before the agent's messages.
  setEnvironmentData(AGENT_ENV_KEY, true);
  getChannel();
  let worker: Worker;
  try {
    worker = startSiblingWorker(import.meta.url, 'app-agent-worker', { workerData: internalWorkerData(init), transferList: [port2], stdout: false, stderr: false });
  } catch {
    return;
  }
  let alive = true;
  worker.unref();
  worker.on('error', () => undefined);
  worker.on('exit', () => {
    alive = false;
  });
  const timeout = sockets.length > 0 ? registerTimeout() : 0;
  if (timeout > 0) Atomics.wait(ctrl, AGENT_REGISTERED, 0, timeout === Infinity ? undefined : timeout);
  const configs: SessionConfig[] = [];
  for (let m = receiveMessageOnPort(port1); m !== undefined; m = receiveMessageOnPort(port1)) {
    configs.push(...((m.message as { configs?: SessionConfig[] }).configs ?? []));
  }
  if (configs.length > 0) {
    // Workers the app creates from now on record into the same sessions.
    setEnvironmentData(ENV_DATA_KEY, configs);
    for (const config of configs) activate(config);
  }
  port1.close();

  const flushAtExit = (): void => {
    if (!alive) return;
    deactivate();
    Atomics.store(ctrl, AGENT_FINAL, 1);
    Atomics.notify(ctrl, AGENT_FINAL);
    const deadline = Date.now() + EXIT_FLUSH_TIMEOUT_MS;
    while (alive && Atomics.load(ctrl, AGENT_DONE) === 0) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      Atomics.wait(ctrl, AGENT_DONE, 0, Math.min(left, 50));
    }
  };
  process.on('exit', flushAtExit);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      if (process.listenerCount(sig) === 1) {
        // Alone on this signal: write the trace out, then keep Node's default (die by the signal).
        flushAtExit();
        alive = false;
        process.removeListener(sig, onSignal);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, onSignal);
  }
}
