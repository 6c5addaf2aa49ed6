// The CLI's own failure: a message printed as "Error: <message>" (possibly several lines, like lttng's "Can't
// find valid lttng config" pair), an exit code, and the error code shown in `--mi json`.

import { LttError } from '../errors.js';
import { ExitCode } from './exit-codes.js';

export class CliError extends LttError {
  override name = 'CliError';
  constructor(
    code: string,
    message: string,
    readonly exitCode: ExitCode = ExitCode.ERROR,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** A bad command line: "Error: ..." and exit 1 (LTTng's CMD_ERROR for missing/invalid arguments). */
export function usageError(message: string): CliError {
  return new CliError('USAGE', message, ExitCode.ERROR);
}
