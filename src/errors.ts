// Errors that cross component boundaries. Every failure a user can cause (bad arguments, malformed traces,
// protocol garbage, missing kernel features) is an LttError: a stable `code`, a one-line message meant to be
// printed as is, and an optional `cause`. Anything else reaching the top level is a bug and is reported as such.

export class LttError extends Error {
  override name = 'LttError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True for errors whose message is meant for the user as is. */
export function isLttError(err: unknown): err is LttError {
  return err instanceof LttError;
}

/**
 * "FILE: No space left on device": the system's wording of an fs error (Node's message is
 * "ENOSPC: no space left on device, write"), for one-line reports.
 */
export function describeIoError(file: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const m = /^E[A-Z0-9]+: ([^,]+)/.exec(message);
  const reason = m ? m[1]!.charAt(0).toUpperCase() + m[1]!.slice(1) : message;
  return `${file}: ${reason}`;
}
