// What a command gets to do its work: the global options, output channels that honour -q and --mi (human
// text is silent in MI mode, errors and warnings still go to stderr as in lttng), the current session, and a
// control client connected on first use (spawning the daemon only when the command allows it, i.e. create).

import { ControlClient } from '../control/client.js';
import { ControlError, oneLine } from '../control/error-codes.js';
import { clientRundirs, DEFAULT_TRACING_GROUP, ROOT_RUNDIR, userRundir } from '../control/runtime-paths.js';
import { requireCurrentSession } from './current-session.js';
import type { MiFormat, MiNode } from './output/mi-document.js';
import { spawnSessiond } from './sessiond-spawn.js';

/** A message for the terminal: its own line breaks kept (LTTng's texts have some), any other control character
 * (a terminal escape in a name from elsewhere) shown escaped. */
function noEscapes(message: string): string {
  return message.split('\n').map(oneLine).join('\n');
}

export interface GlobalOptions {
  group: string;
  mi: MiFormat | undefined;
  quiet: boolean;
  verbose: number;
  noSessiond: boolean;
  sessiondPath: string | undefined;
  /** --relayd-path: the relay daemon `create --live` spawns when none listens on 127.0.0.1:5344. */
  relaydPath?: string;
  rundir: string | undefined;
}

export function defaultGlobalOptions(): GlobalOptions {
  return {
    group: DEFAULT_TRACING_GROUP,
    mi: undefined,
    quiet: false,
    verbose: 0,
    noSessiond: false,
    sessiondPath: undefined,
    rundir: undefined,
  };
}

export class CliContext {
  private client: ControlClient | undefined;
  /** Set by the command: the element inside the MI document's <output>. */
  miOutput: MiNode | undefined = undefined;
  /** The error the MI document reports, when the command failed after printing it. */
  miError: { code: string; message: string } | undefined;

  constructor(
    readonly options: GlobalOptions,
    readonly commandName: string,
    private readonly stdout: NodeJS.WritableStream = process.stdout,
    private readonly stderr: NodeJS.WritableStream = process.stderr,
  ) {}

  get mi(): boolean {
    return this.options.mi !== undefined;
  }

  /** Human output (one or more lines). */
  out(text = ''): void {
    if (this.options.quiet || this.mi) return;
    this.stdout.write(text + '\n');
  }

  /** Raw text to stdout whatever the mode (`--list-options`, help, view). */
  raw(text: string): void {
    this.stdout.write(text);
  }

  warn(message: string): void {
    if (!this.options.quiet) this.stderr.write(`Warning: ${noEscapes(message)}\n`);
  }

  error(message: string, code?: string): void {
    this.miError ??= { code: code ?? 'ERROR', message };
    if (!this.options.quiet) this.stderr.write(`Error: ${noEscapes(message)}\n`);
  }

  debug(message: string): void {
    if (this.options.verbose > 0 && !this.options.quiet) this.stderr.write(`DEBUG: ${message}\n`);
  }

  /** The session named on the command line, or the current one. */
  session(explicit: string | undefined): string {
    return explicit ?? requireCurrentSession();
  }

  /** A client for the daemon this user talks to; NO_SESSIOND (with LTTng's text) if none answers. */
  async control(options: { spawn?: boolean } = {}): Promise<ControlClient> {
    if (this.client) return this.client;
    const rundirs = clientRundirs(this.options.rundir, this.options.group);
    try {
      this.client = await ControlClient.connectFirst(rundirs);
    } catch (error) {
      if (!(error instanceof ControlError) || error.code !== 'NO_SESSIOND' || !options.spawn || this.options.noSessiond) {
        throw error;
      }
      // Only the user's own daemon can be started by the user; root starts root's.
      const rundir = this.options.rundir ?? process.env.LTT_RUNDIR ?? (process.getuid?.() === 0 ? ROOT_RUNDIR : userRundir());
      this.out('Spawning a session daemon');
      this.client = await spawnSessiond({ rundir, group: this.options.group, sessiondPath: this.options.sessiondPath });
    }
    this.debug(`Connected to ltt-sessiond pid ${this.client.daemonPid} in ${this.client.rundir}`);
    return this.client;
  }

  close(): void {
    this.client?.close();
    this.client = undefined;
  }
}
