// The current session, kept in $LTT_HOME/.lttrc as "session=NAME" (LTTng's ~/.lttngrc format). `create` and
// `set-session` write it, destroying the current session removes it, and every command that defaults to the
// current session reads it. A command that makes a session current stages the file first (see
// stageCurrentSession), so a home that cannot hold it is refused before the daemon creates anything.

import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { lttHome } from '../control/runtime-paths.js';
import { makeDirectories } from '../make-directories.js';
import { CliError } from './cli-error.js';

export function rcFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(lttHome(env), '.lttrc');
}

export function readCurrentSession(): string | undefined {
  try {
    const text = readFileSync(rcFilePath(), 'utf8');
    const match = /^session=(.+)$/m.exec(text);
    return match ? match[1]!.trim() : undefined;
  } catch {
    return undefined;
  }
}

/** The current session, or the two-line error lttng prints when there is none. */
export function requireCurrentSession(): string {
  const name = readCurrentSession();
  if (name) return name;
  throw new CliError(
    'NO_CURRENT_SESSION',
    `Can't find valid ltt config ${rcFilePath()}\nDid you create a session? (ltt create <my_session>)`,
  );
}

export interface StagedCurrentSession {
  /** Makes `name` the current session (the staged file renamed over .lttrc); throws a one-line CliError. */
  commit(name: string): void;
  /** Removes the staged file (the command failed). */
  abandon(): void;
}

/**
 * Opens the next .lttrc as a temporary file beside it, making the home folder first when it is missing (as this
 * user, as a user expects of a home): a home that is missing and cannot be made, not a folder, or not writable
 * by this user is refused here in one line, before the command asks the daemon for anything.
 */
export function stageCurrentSession(env: NodeJS.ProcessEnv = process.env): StagedCurrentSession {
  const home = lttHome(env);
  const rc = rcFilePath(env);
  const staged = `${rc}.${process.pid}`;
  const fail = (err: unknown): CliError => {
    const why = String((err as Error).message ?? err).split(',')[0];
    return new CliError('LTT_HOME', `${env.LTT_HOME ? 'LTT_HOME' : 'HOME'} ${home} cannot hold ltt's current-session file (.lttrc): ${why}`, undefined, { cause: err });
  };
  let fd: number | undefined;
  try {
    makeDirectories(home, 0o755);
    // 'w': a file of this pid can only be a dead process's leftover.
    fd = openSync(staged, 'w', 0o644);
  } catch (err) {
    throw fail(err);
  }
  const close = (): void => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
  };
  return {
    commit(name) {
      try {
        writeSync(fd!, `session=${name}\n`);
        close();
        renameSync(staged, rc);
      } catch (err) {
        this.abandon();
        throw fail(err);
      }
    },
    abandon() {
      close();
      rmSync(staged, { force: true });
    },
  };
}

export function clearCurrentSession(name: string): void {
  if (readCurrentSession() === name) rmSync(rcFilePath(), { force: true });
}
