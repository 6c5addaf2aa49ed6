// The daemon's log: one timestamped line per event, appended to ltt-sessiond.log in the runtime directory (a
// detached daemon has no terminal), and echoed to stderr in the foreground with -v. Low volume (one line per
// state change), so synchronous appends keep lines ordered and survive a crash.

import { appendFileSync } from 'node:fs';

export class DaemonLog {
  constructor(
    private readonly file: string | undefined,
    private readonly echo: boolean,
  ) {}

  line(message: string): void {
    const text = `${new Date().toISOString()} [${process.pid}] ${message}\n`;
    if (this.file) {
      try {
        appendFileSync(this.file, text);
      } catch {
        // A full or read-only disk must not take the daemon down; stderr (if any) still gets the line.
      }
    }
    if (this.echo) process.stderr.write(text);
  }
}
