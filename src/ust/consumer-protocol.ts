// The control words shared by the main thread and the consumer worker (one Int32Array on a SharedArrayBuffer).
//
// Contract: the consumer sets READY once it listens on the ltt-ust channel; the main thread sets FINAL to ask
// for the final drain and waits on DONE, which the consumer sets when every byte is written and files are closed.

export const CTRL_READY = 0;
export const CTRL_FINAL = 1;
export const CTRL_DONE = 2;
export const CTRL_WORDS = 4;

export interface ConsumerInit {
  readonly traceDir: string;
  readonly sessionId: string;
  readonly ctrl: SharedArrayBuffer;
}
