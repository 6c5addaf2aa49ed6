// `ltt view`: babeltrace2's convert command (source.ctf.fs -> flt.utils.muxer [-> flt.utils.trimmer] -> sink).
//
// Contract: `runView(argv)` never throws and never prints a stack trace: it returns the exit code (0 ok, 1 bad
// arguments or a malformed trace). Events decoded before a decoding error are printed first, then one line
// `Error: <what>` goes to stderr.

import { isMainThread, Worker } from 'node:worker_threads';
import { isLttError, LttError } from '../errors.js';
import type { MessageBatches } from '../ctf/ir/message.js';
import { DEFAULT_LIVE_PORT, listLiveSessions, parseLiveUrl, type LiveSessionInfo, type LiveUrl } from '../relay/live-client.js';
import { runCounter, runDummy } from '../graph/sinks.js';
import { colorsSupported } from './pretty-options.js';
import { OutputWriter, writeStderr } from './output-writer.js';
import { PrettySink } from './pretty-sink.js';
import { runFusedView } from './fused-view.js';
import { openFusedStreams, openLiveGraph, openReadingGraph, prettyLoopFor, readMetadataText, runDummyView, type PrettyLoop } from './reading-graph.js';
import { parseViewArgs, VIEW_HELP, ViewArgsError, type ViewConfig } from './view-args.js';

/** One line for the user: the first line of the message, never a stack. */
function errorLine(err: unknown): string {
  let msg: string;
  if (err instanceof Error) msg = err.message;
  else msg = String(err);
  msg = msg.split('\n')[0]!.trim();
  return 'Error: ' + (msg === '' ? 'unknown failure' : msg) + '\n';
}

function stackExhausted(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) {
    if (e instanceof RangeError && /call stack/.test(e.message)) return true;
  }
  return false;
}

/** Stack of the retry thread: room for babeltrace2's deepest metadata nesting in every recursive pass. */
const DEEP_STACK_MB = 256;

function runWithDeepStack(argv: string[]): Promise<number> {
  return new Promise((resolve) => {
    const worker = new Worker(new URL('./deep-view-thread.js', import.meta.url), {
      workerData: argv,
      resourceLimits: { stackSizeMb: DEEP_STACK_MB },
    });
    let code = 1;
    worker.on('message', (c: number) => (code = c));
    worker.on('error', (err) => writeStderr(errorLine(err)));
    worker.on('exit', () => resolve(code));
  });
}

/**
 * -i lttng-live with a URL without /host/HOSTNAME/SESSION: the relay's sessions as babeltrace2 lists them (relay
 * sessions of one HOSTNAME/SESSION, one per consumer, in one line: streams summed, the most clients).
 */
async function listLive(cfg: ViewConfig, url: LiveUrl): Promise<number> {
  const merged = new Map<string, LiveSessionInfo>();
  for (const s of await listLiveSessions(url.host, url.port ?? DEFAULT_LIVE_PORT)) {
    const key = `${s.hostname}/${s.name}`;
    const seen = merged.get(key);
    merged.set(key, seen === undefined ? s : { ...seen, streams: seen.streams + s.streams, clients: Math.max(seen.clients, s.clients) });
  }
  const base = `net://${cfg.paths[0]!.replace(/^net[46]?:\/\//, '').replace(/\/+$/, '')}`;
  const w = OutputWriter.stdout('utf8');
  for (const s of merged.values()) {
    w.str(`${base}/host/${s.hostname}/${s.name} (timer = ${s.liveTimerUs}, ${s.streams} stream(s), ${s.clients} client(s) connected)\n`);
  }
  w.close();
  return 0;
}

/** The graph's messages: the traces' (source.ctf.fs) or a live session's (src.ctf.lttng-live). */
async function openGraph(cfg: ViewConfig, releaseBytes?: () => void): Promise<MessageBatches> {
  if (!cfg.live) return openReadingGraph(cfg, releaseBytes);
  return openLiveGraph(cfg, parseLiveUrl(cfg.paths[0]!));
}

async function run(cfg: ViewConfig, started: { output: boolean }): Promise<number> {
  if (cfg.live) {
    if (cfg.paths.length !== 1) throw new LttError('LIVE_URL', `-i lttng-live takes one URL (got ${cfg.paths.length})`);
    const url = parseLiveUrl(cfg.paths[0]!);
    if (url.target === undefined) return listLive(cfg, url);
  }
  if (cfg.sink === 'ctf-metadata') {
    const text = await readMetadataText(cfg.paths[0]!);
    const out = cfg.pretty.outputPath !== undefined ? OutputWriter.file(cfg.pretty.outputPath, 'utf8') : OutputWriter.stdout('utf8');
    out.str(text + '\n');
    out.close();
    return 0;
  }

  const enc = cfg.pretty.stringEncoding;
  if (cfg.sink === 'dummy') {
    if (cfg.live) await runDummy(await openGraph(cfg));
    else await runDummyView(cfg);
    return 0;
  }
  if (cfg.sink === 'counter') {
    const w = cfg.pretty.outputPath !== undefined ? OutputWriter.file(cfg.pretty.outputPath, 'utf8') : OutputWriter.stdout('utf8');
    try {
      await runCounter(await openGraph(cfg), {
        step: cfg.counterStep,
        hideZero: cfg.counterHideZero,
        color: cfg.pretty.outputPath === undefined && colorsSupported(),
        write: (t) => w.str(t),
      });
    } finally {
      w.close();
    }
    return 0;
  }
  const out = cfg.pretty.outputPath !== undefined ? OutputWriter.file(cfg.pretty.outputPath, enc) : OutputWriter.stdout(enc);
  try {
    await printPretty(cfg, new PrettySink(cfg.pretty, out, writeStderr), out, prettyLoopFor(cfg), () => (started.output = true));
  } finally {
    // What was decoded before a failure is printed.
    out.close();
  }
  return 0;
}

/** The pretty sink's reading, by the loop given (prettyLoopFor() chooses; tests compare both). */
export async function printPretty(cfg: ViewConfig, sink: PrettySink, out: OutputWriter, loop: PrettyLoop, started: () => void = () => {}): Promise<void> {
  if (loop === 'fused') {
    const { streams, windows } = await openFusedStreams(cfg);
    await runFusedView(streams, windows, sink, out, started);
    return;
  }
  const batches = await openGraph(cfg, () => sink.detachTexts());
  for await (const batch of batches) {
    started();
    sink.consume(batch);
    // A live viewer's lines go out as the relay hands their events over.
    if (cfg.live) out.flush();
    if (out.closed) break;
  }
}

export async function runView(argv: string[]): Promise<number> {
  let cfg: ViewConfig;
  try {
    cfg = parseViewArgs(argv);
  } catch (err) {
    if (err instanceof ViewArgsError) {
      writeStderr(errorLine(err));
      return 1;
    }
    writeStderr(errorLine(err));
    return 1;
  }
  if (cfg.help) {
    const w = OutputWriter.stdout('utf8');
    w.str(VIEW_HELP);
    w.close();
    return 0;
  }
  const started = { output: false };
  try {
    return await run(cfg, started);
  } catch (err) {
    // babeltrace2 reads metadata nested thousands of levels deep; the recursive passes then need a deeper stack
    // than the main thread's: the whole view runs again in a thread that has one (nothing was printed yet).
    if (!started.output && isMainThread && stackExhausted(err)) return runWithDeepStack(argv);
    writeStderr(errorLine(err));
    if (!isLttError(err) && process.env['LTT_DEBUG']) writeStderr(String((err as Error)?.stack) + '\n');
    return 1;
  }
}
