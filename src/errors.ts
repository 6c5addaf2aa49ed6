// Errors that cross component boundaries. Every failure a user can cause (bad arguments, malformed traces,
// protocol garbage, missing kernel features) is an LttError: a stable `code`, a one-line message meant to be
// printed as is, and an optional `cause`. Anything else reaching the top level is a bug and is reported as such.

/** Marks LttErrors of every copy of this module (see LttError's Symbol.hasInstance). */
const LTT_ERROR = Symbol.for('ltt.LttError');

export class LttError extends Error {
  override name = 'LttError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /**
   * `instanceof` LttError or a subclass, also across copies of the class: the CLI bundle holds its own copy of this
   * module while the modules it imports on demand (the trace engine, the viewer) use the one Node loads, and their
   * errors are then another copy's. Such an error is matched by its mark and by a class of the same name on its
   * prototype chain (a failed `ltt query` on a missing trace was reported as an internal error).
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    if (typeof value !== 'object' || value === null || (value as { [LTT_ERROR]?: unknown })[LTT_ERROR] !== true) return false;
    for (let p = Object.getPrototypeOf(value) as object | null; p !== null; p = Object.getPrototypeOf(p) as object | null) {
      if ((p as { constructor?: { name?: string } }).constructor?.name === this.name) return true;
    }
    return false;
  }
}
Object.defineProperty(LttError.prototype, LTT_ERROR, { value: true });

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
