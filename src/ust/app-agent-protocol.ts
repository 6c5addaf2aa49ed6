// What the main thread and the agent thread of a traced process share (app-agent.ts, app-agent-worker.ts): the
// worker's start data and the Int32 control words. AGENT_REGISTERED: every daemon answered the registration (the
// sessions to record into are on the port); AGENT_FINAL: the process exits, write everything out; AGENT_DONE: done.
import type { MessagePort } from 'node:worker_threads';

export const AGENT_REGISTERED = 0;
export const AGENT_FINAL = 1;
export const AGENT_DONE = 2;
export const AGENT_CTRL_WORDS = 4;

/**
 * How often an app looks for session daemons it is not registered with (LTTng-UST apps register with a daemon
 * started, or restarted, after them): a few stat() calls on an unref'd timer.
 */
export const DAEMON_POLL_MS = 2000;

export interface AgentInit {
  /** The app sockets that exist at start: registered with before the app goes on (the bounded wait). */
  readonly sockets: readonly string[];
  /** Every app socket the app may register with; a daemon that appears (or comes back) later is joined then. */
  readonly candidates: readonly string[];
  readonly ctrl: SharedArrayBuffer;
  readonly port: MessagePort;
  readonly pid: number;
  readonly ppid: number;
  readonly uid: number;
  readonly gid: number;
  readonly procname: string;
}
