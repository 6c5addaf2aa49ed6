// The control words shared by the main thread and the consumer worker (one Int32Array on a SharedArrayBuffer).
//
// Contract: the consumer makes the trace's output (files in `traceDir`, metadata beginning with `preamble`) and
// sets READY once it listens on the ltt-ust channel, or, when the output cannot be made, posts the one-line
// reason on `report` and sets READY to READY_FAILED. The main thread sets FINAL to ask for the final drain and
// waits on DONE, which the consumer sets when every byte is written and files are closed.

import type { MessagePort } from 'node:worker_threads';

export const CTRL_READY = 0;
export const CTRL_FINAL = 1;
export const CTRL_DONE = 2;
export const CTRL_WORDS = 4;
export const READY_FAILED = 2;

export interface ConsumerInit {
  readonly traceDir: string;
  readonly preamble: string;
  readonly sessionId: string;
  readonly ctrl: SharedArrayBuffer;
  readonly report: MessagePort;
  /** One thread's ring (sub-buffer size x count): staging memory the output prepares before READY. */
  readonly ringBytes: number;
}
