// `ltt web`'s HTTP server: the page (one HTML file, the esbuild bundle of src/web/page and its CSS, built by
// scripts/build-page.mjs) and the JSON API of protocol.ts over the trace's tables. Nothing is fetched from
// anywhere else. Only GET; every answer is computed from the held trace, so there is nothing to write to.
//
// Contract: `startWebServer(opts)` listens on opts.host (127.0.0.1 unless told) at opts.port, or the next free
// port above it when that one is taken (0: any free port), and resolves the URL once listening.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { isLttError, LttError } from '../errors.js';
import type { DetailKind } from './event-detail.js';
import type { Info } from './protocol.js';
import { infoOf, trackData } from './timeline-queries.js';
import type { TraceHolder } from './trace-holder.js';
import { overviewTracks } from './trace-overview.js';

/** How long /api/info?wait=1 waits for the trace's tables (the page asks again after). */
const INFO_WAIT_MS = 2000;
/** How long a request that needs the tables waits for them while the overview is shown. */
const TABLES_WAIT_MS = 600_000;
/** How many ports above a taken one are tried. */
const PORT_TRIES = 100;

export interface WebServerOptions {
  readonly holder: TraceHolder;
  readonly host: string;
  readonly port: number;
  readonly title: string;
  /** The trace is a recording session's (the page says it updates). */
  readonly live: boolean;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

/** The bundle: beside this module in dist/ (the sources, run through tsx, use the build's). */
function pageFile(name: string): URL {
  const here = import.meta.url.endsWith('.ts') ? new URL('../../dist/src/web/', import.meta.url) : new URL('./', import.meta.url);
  return new URL(`page/${name}`, here);
}

function readPage(name: string): Buffer {
  try {
    return readFileSync(fileURLToPath(pageFile(name)));
  } catch {
    throw new LttError('WEB_NOT_BUILT', `The page is not built (${fileURLToPath(pageFile(name))}): run \`npm run build\``);
  }
}

export const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\./.test(host);

// The page's first question is asked by the HTML (before the stylesheet, which holds scripts back), so its
// answer comes while the bundle loads.
const HTML = (title: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title.replace(/[<&>"]/g, (c) => `&#${c.charCodeAt(0)};`)} - ltt web</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<script>window.lttInfo = fetch('/api/info?first=1&wait=1');</script>
<link rel="stylesheet" href="/app.css"></head>
<body><div id="app"></div><script src="/app.js"></script></body></html>
`;

function num(params: URLSearchParams, name: string): number {
  const v = Number(params.get(name));
  if (params.get(name) === null || !Number.isFinite(v)) throw new LttError('WEB_BAD_REQUEST', `Missing or bad parameter ${name}`);
  return v;
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

const json = (res: ServerResponse, status: number, value: unknown) => send(res, status, 'application/json', JSON.stringify(value));

async function answer(opts: WebServerOptions, exposedAt: string | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const p = url.searchParams;
  if (req.method !== 'GET') return json(res, 405, { error: 'Only GET' });
  switch (url.pathname) {
    case '/':
      return send(res, 200, 'text/html; charset=utf-8', HTML(opts.title));
    case '/app.js':
      return send(res, 200, 'text/javascript; charset=utf-8', readPage('app.js'));
    case '/app.css':
      return send(res, 200, 'text/css; charset=utf-8', readPage('app.css'));
    case '/favicon.ico':
      return send(res, 204, 'image/x-icon', '');
  }
  if (!url.pathname.startsWith('/api/')) return json(res, 404, { error: `No page ${url.pathname}` });
  const holder = opts.holder;
  if (url.pathname === '/api/info' && p.get('wait') === '1') await holder.whenImported(INFO_WAIT_MS, true);
  let tables = holder.current();
  const overview = tables ? undefined : holder.overview;
  if (url.pathname === '/api/info') {
    const base = { version: holder.version, title: opts.title, live: opts.live, exposedAt };
    let info: Info;
    if (tables) info = { ...infoOf(tables.shape, base), error: holder.error };
    else if (overview) {
      const { origin, duration, events, cpus, processes, lost } = overview.ov;
      info = { ...base, origin, duration, events, cpus, processes, lost, hasRequests: false, loading: holder.loading, error: holder.error };
    } else info = { ...base, error: holder.error ?? 'The trace is being read', origin: '0', duration: 0, events: 0, cpus: [], processes: [], lost: [], hasRequests: false };
    const text = JSON.stringify(info);
    const first = tables?.first ?? overview?.first;
    // The first screen is kept as JSON text: spliced in, not parsed and written again.
    if (first !== undefined && p.get('first') === '1') return send(res, 200, 'application/json', `${text.slice(0, -1)},"first":${first}}`);
    return send(res, 200, 'application/json', text);
  }
  if (url.pathname === '/api/tracks' && overview) {
    const tids = (p.get('tids') ?? '').split(',').filter((t) => /^\d+$/.test(t)).map(Number);
    return json(res, 200, overviewTracks(overview.ov, { b: num(p, 'b'), e: num(p, 'e'), px: Math.min(8192, num(p, 'px')), tids }));
  }
  // Events, ranges and searches need the tables: asked while the overview is shown, they wait for them (not
  // when no import is under way: a failed one comes again only when the files change).
  if (!tables && overview && holder.importingNow) {
    await holder.whenImported(TABLES_WAIT_MS);
    tables = holder.current();
  }
  if (!tables) return json(res, 503, { error: holder.error ?? 'The trace is being read' });
  const { conn } = tables.db;
  const { shape } = tables;
  switch (url.pathname) {
    case '/api/tracks': {
      const tids = (p.get('tids') ?? '').split(',').filter((t) => /^\d+$/.test(t)).map(Number);
      return json(res, 200, await trackData(conn, shape, { b: num(p, 'b'), e: num(p, 'e'), px: Math.min(8192, num(p, 'px')), tids }));
    }
    // Loaded on first use: the page's first screen needs none of them (nor the view and graph they load).
    case '/api/event': {
      const { DETAIL_KINDS, eventDetail } = await import('./event-detail.js');
      const kind = p.get('kind') as DetailKind;
      if (!DETAIL_KINDS.includes(kind)) throw new LttError('WEB_BAD_REQUEST', `kind: one of ${DETAIL_KINDS.join(', ')}`);
      const lane = p.has('lane') ? { lane: num(p, 'lane') } : {};
      return json(res, 200, await eventDetail(conn, shape, { kind, key: num(p, 'key'), t: num(p, 't'), tol: Math.max(0, Number(p.get('tol') ?? 0)), ...lane }));
    }
    case '/api/range': {
      const { rangeAnalyses } = await import('./range-analyses.js');
      return json(res, 200, await rangeAnalyses(conn, shape, num(p, 'b'), num(p, 'e')));
    }
    case '/api/search': {
      const { searchEvents } = await import('./event-search.js');
      return json(res, 200, await searchEvents(conn, shape.origin, p.get('q') ?? ''));
    }
  }
  return json(res, 404, { error: `No API ${url.pathname}` });
}

function listen(server: Server, host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(false);
      else reject(new LttError('WEB_LISTEN', `Cannot listen on ${host}:${port}: ${err.code ?? err.message}`));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(true);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

export async function startWebServer(opts: WebServerOptions): Promise<RunningServer> {
  let exposedAt: string | undefined;
  const server = createServer((req, res) => {
    answer(opts, exposedAt, req, res).catch((err: unknown) => {
      const message = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
      json(res, isLttError(err) ? 400 : 500, { error: message });
    });
  });
  let port = opts.port;
  for (let tries = 0; ; tries++) {
    if (await listen(server, opts.host, port)) break;
    if (opts.port === 0 || tries >= PORT_TRIES || port >= 65535) throw new LttError('WEB_LISTEN', `No free port on ${opts.host} from ${opts.port} to ${port}`);
    port++;
  }
  port = (server.address() as AddressInfo).port;
  const shown = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `http://${shown}:${port}/`;
  if (!isLoopback(opts.host)) exposedAt = url;
  return {
    url,
    port,
    server,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
