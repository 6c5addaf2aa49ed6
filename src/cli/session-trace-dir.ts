// The trace folder of a recording session, for commands that read a session's trace (view, query, analyze).

import { existsSync } from 'node:fs';
import { ControlError } from '../control/error-codes.js';
import type { CliContext } from './cli-context.js';
import { CliError } from './cli-error.js';

export async function sessionTraceDir(ctx: CliContext, name: string): Promise<string> {
  const client = await ctx.control();
  let detail;
  try {
    detail = await client.request('get-session', { session: name });
  } catch (error) {
    if (error instanceof ControlError && error.code === 'SESS_NOT_FOUND') {
      throw new CliError('SESS_NOT_FOUND', `Session name ${name} not found`);
    }
    throw error;
  }
  if (!detail.outputPath || detail.liveTimerUs > 0 || /^tcp[46]:\/\//.test(detail.outputPath)) {
    throw new CliError('NO_SESSION_OUTPUT', `Session ${name} has no local trace output to view`);
  }
  return detail.outputPath;
}

/**
 * Trace folders from command-line words: a path that exists (or has a slash) is a trace folder, another word
 * names a recording session; none: the current session's trace.
 */
export async function traceInputs(ctx: CliContext, words: readonly string[]): Promise<string[]> {
  const paths: string[] = [];
  for (const arg of words) {
    if (existsSync(arg) || arg.includes('/')) {
      paths.push(arg);
      continue;
    }
    try {
      paths.push(await sessionTraceDir(ctx, arg));
    } catch (error) {
      // A typo'd trace folder must not read as a session daemon problem.
      if (error instanceof CliError || error instanceof ControlError) {
        throw new CliError('NO_TRACE', `${arg}: no such trace folder or recording session`);
      }
      throw error;
    }
  }
  if (paths.length === 0) paths.push(await sessionTraceDir(ctx, ctx.session(undefined)));
  return paths;
}
