// `ltt web [TRACE_DIR... | SESSION | net://HOST[:PORT]/host/HOSTNAME/SESSION]`: the traces as a timeline in the
// browser (src/web), served by ltt on 127.0.0.1 until Ctrl-C. The trace folders are polled: a recording
// session's page follows what it records. A relay's live session is copied into a scratch folder as it
// records (src/relay/live-mirror.ts), which is then polled the same way, and removed at the end.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { lttHome } from '../../control/runtime-paths.js';
import type { CommandSpec } from '../command-spec.js';
import { CliError, usageError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { traceInputs } from '../session-trace-dir.js';

/** How often the trace folders are checked for new data. */
const POLL_MS = 1000;

export const webCommand: CommandSpec = {
  name: 'web',
  help: `Usage: ltt web [TRACE_DIR... | SESSION | net://HOST[:PORT]/host/HOSTNAME/SESSION] [--port=PORT] [--host=HOST] [--open] [--no-cache]

Serves a page showing the traces on one time axis: the thread running on each CPU, each thread's states
and system calls, interrupts, ltt/ust events and lost events; click for an event's fields, drag to select
a range and see its analyses, search events by name or field (NAME, FIELD=VALUE, FIELD~TEXT); ltt/auto's
HTTP requests on their threads, with their breakdown as \`ltt analyze requests\` computes it. Keys as in
Perfetto: W/S zoom, A/D pan. Default trace: the current session's; a session's page updates as it records,
as does a relay's live session's (net://..., the URL \`ltt view\` follows).
      --port=PORT        listen on PORT, or the next free port above it (default: any free port)
      --host=HOST        listen on HOST instead of 127.0.0.1 (others on the network can then open the page)
      --open             open the page in the desktop's browser (xdg-open)
      --no-cache         keep the tables in memory only
`,
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    open: { type: 'boolean' },
    'no-cache': { type: 'boolean' },
  },
  async run(ctx, { values, positionals }) {
    const port = values.port === undefined ? 0 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw usageError(`Invalid --port ${String(values.port)}: 0 to 65535`);
    const host = (values.host as string | undefined) ?? '127.0.0.1';
    if (host === '') throw usageError('Empty --host');
    const { isLiveUrl, parseLiveUrl, DEFAULT_LIVE_PORT } = await import('../../relay/live-client.js');
    const relayed = positionals.some(isLiveUrl);
    if (relayed && positionals.length > 1) throw usageError('A live session URL (net://...) is shown alone');
    const live = relayed || positionals.length === 0 || positionals.some((w) => !existsSync(w) && !w.includes('/'));
    let mirror: { close(): void; dir: string; firstData: Promise<void> } | undefined;
    let paths: string[];
    if (relayed) {
      const url = parseLiveUrl(positionals[0]!);
      if (url.target === undefined) throw usageError(`${positionals[0]!}: ltt web follows one session: net://HOST[:PORT]/host/HOSTNAME/SESSION`);
      const { mirrorLiveSession } = await import('../../relay/live-mirror.js');
      const dir = mkdtempSync(join(tmpdir(), 'ltt-web-live-'));
      try {
        const opts = { url: positionals[0]!, host: url.host, port: url.port ?? DEFAULT_LIVE_PORT, ...url.target };
        const m = await mirrorLiveSession(opts, dir);
        m.done.catch((err: unknown) => ctx.error(`The live session stopped: ${err instanceof Error ? err.message : String(err)}`));
        mirror = { ...m, dir };
      } catch (err) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
      paths = [dir];
    } else paths = await traceInputs(ctx, positionals);
    ctx.close();
    if (!live) {
      const missing = paths.find((p) => !existsSync(p));
      if (missing !== undefined) throw new CliError('NO_TRACE', `No trace at ${missing}`);
    }
    // Loaded here: DuckDB's native module costs every other command ~0.3 s of startup.
    const { TraceHolder } = await import('../../web/trace-holder.js');
    const { startWebServer, isLoopback } = await import('../../web/web-server.js');
    const holder = new TraceHolder(paths, {
      cacheDir: process.env['LTT_CACHE'] || join(lttHome(), '.cache', 'ltt', 'tables'),
      // A relay's copy is scratch: its tables are not worth keeping.
      noCache: values['no-cache'] === true || relayed,
      // A recording session's trace grows while it is read: its page waits for the tables (re-imported as it
      // grows) rather than show an overview of a moment of it.
      noOverview: live,
      pollMs: POLL_MS,
      onImport: (error, tables) => {
        if (error !== undefined) ctx.error(`Cannot show ${paths.join(' ')}: ${error}`);
        else if (tables) ctx.out(`Showing ${tables.shape.events} events of ${paths.join(' ')}`);
      },
    });
    const title = relayed ? positionals[0]! : paths.map((p) => basename(p)).join(' ');
    const server = await startWebServer({ holder, host, port, title, live });
    ctx.out(`ltt web: ${server.url}${isLoopback(host) ? '' : ' (reachable by others on the network)'} (Ctrl-C to stop)`);
    if (values.open === true) {
      const opener = spawn('xdg-open', [server.url], { stdio: 'ignore', detached: true });
      opener.on('error', (err) => ctx.warn(`Cannot open a browser (xdg-open: ${err.message}): open ${server.url}`));
      opener.unref();
    }
    const stopped = new Promise<void>((resolve) => {
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve());
    });
    // An empty copy is not a trace yet: the page waits for the first packet.
    await Promise.race([mirror?.firstData, stopped]);
    await holder.start();
    await stopped;
    await server.close();
    holder.close();
    mirror?.close();
    if (mirror) rmSync(mirror.dir, { recursive: true, force: true });
    return ExitCode.SUCCESS;
  },
};
