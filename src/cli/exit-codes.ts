// LTTng's exit codes (man lttng(1)): every command ends with one of these.

export const ExitCode = {
  SUCCESS: 0,
  /** The command failed. */
  ERROR: 1,
  /** Unknown command or unrecognized option. */
  UNDEFINED: 2,
  /** Something prevented running the command at all. */
  FATAL: 3,
  /** The command ran but something went wrong (already started, already exists...). */
  WARNING: 4,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
