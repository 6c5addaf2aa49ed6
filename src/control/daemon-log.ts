// The daemon's log: one timestamped line per event, appended to ltt-sessiond.log in the runtime directory (a
// detached daemon has no terminal), and echoed to stderr in the foreground with -v. Low volume (one line per
// state change), so synchronous appends keep lines ordered and survive a crash. Lines that clients can cause at
// will (garbage, failed handshakes) go through clientLine(), which keeps at most CLIENT_LINES_PER_SECOND and
// then says how many it left out. Control characters are escaped: a name cannot forge a line or a terminal.

import { appendFileSync } from 'node:fs';
import { oneLine } from './error-codes.js';

const CLIENT_LINES_PER_SECOND = 10;

export class DaemonLog {
  private windowStart = 0;
  private windowLines = 0;
  private suppressed = 0;
  private summary: NodeJS.Timeout | undefined;

  constructor(
    private readonly file: string | undefined,
    private readonly echo: boolean,
  ) {}

  line(message: string): void {
    const text = `${new Date().toISOString()} [${process.pid}] ${oneLine(message)}\n`;
    if (this.file) {
      try {
        appendFileSync(this.file, text);
      } catch {
        // A full or read-only disk must not take the daemon down; stderr (if any) still gets the line.
      }
    }
    if (this.echo) process.stderr.write(text);
  }

  /** A line a client caused: rate-limited, the lines left out summed up once the second is over. */
  clientLine(message: string): void {
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.windowLines = 0;
    }
    if (this.windowLines < CLIENT_LINES_PER_SECOND) {
      this.windowLines++;
      this.line(message);
      return;
    }
    this.suppressed++;
    this.summary ??= setTimeout(() => {
      this.summary = undefined;
      this.line(`Clients: suppressed ${this.suppressed} similar lines`);
      this.suppressed = 0;
    }, 1000 - (now - this.windowStart)).unref();
  }
}
