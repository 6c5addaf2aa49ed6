// The client side of root's credential challenge (docs/control-protocol.md, "Conversation"), shared by `ltt`
// (control socket) and instrumented apps (app socket): the daemon sends the auth folder of its runtime
// directory and a nonce; the client proves its uid and gid by creating the file FOLDER/NONCE. The daemon's side
// is src/sessiond/runtime-dir.ts (CredentialChallenge).

import { closeSync, openSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ControlError } from './error-codes.js';
import { authDirPath } from './runtime-paths.js';

/**
 * Creates the challenge's file (owned by this process's uid and gid) and returns its path. Only a challenge
 * naming `rundir`'s auth folder and a plain nonce is answered, so a daemon cannot make the client create files
 * elsewhere: INVALID_PROTOCOL for another, EPERM when the file cannot be made (not in the daemon's group).
 */
export function answerChallenge(rundir: string, dir: unknown, nonce: unknown): string {
  if (dir !== authDirPath(rundir) || typeof nonce !== 'string' || !/^[0-9a-f]{32}$/.test(nonce)) {
    throw new ControlError('INVALID_PROTOCOL', 'Protocol error occurred: malformed credential challenge');
  }
  const file = join(dir, nonce);
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (error) {
    throw new ControlError('EPERM', `Permission denied: cannot create the credential file ${file}: ${(error as Error).message}`);
  }
  return file;
}

/** The daemon removes the file when it reads it; this covers a daemon that went away before. */
export function dropChallengeFile(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Removed by the daemon, as it should be.
  }
}
