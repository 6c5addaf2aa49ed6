// The current session, kept in $LTT_HOME/.lttrc as "session=NAME" (LTTng's ~/.lttngrc format). `create` and
// `set-session` write it, destroying the current session removes it, and every command that defaults to the
// current session reads it.

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lttHome } from '../control/runtime-paths.js';
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

export function writeCurrentSession(name: string): void {
  writeFileSync(rcFilePath(), `session=${name}\n`);
}

export function clearCurrentSession(name: string): void {
  if (readCurrentSession() === name) rmSync(rcFilePath(), { force: true });
}
