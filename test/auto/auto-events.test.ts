// ltt/auto on an unmodified app (examples/auto-routes.mjs, loaded with `node --import`): the `node:*` events it
// records for HTTP server requests and the work they cause (timers, the thread pool, a child process, a fetch
// and its connect and lookup, a worker thread), each carrying the id of the request that caused it, with many
// requests in flight; and nothing subscribed or hooked while no session records (the "costs nothing" half).
// The app records into a local session (LTT_UST_OUTPUT); the trace is read back with ltt's reader.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { events, openTrace, type PlainEvent } from '../../src/ctf/index.js';
import { ROOT, cleanup, tempDir, traceDirOf } from '../ust/helpers.js';
import { startRoutesApp, type RoutesApp } from './routes-app.js';

const AUTO = join(ROOT, 'dist', 'src', 'auto', 'index.js');
const ISOLATED = { LTT_RUNDIR: '/nonexistent/ltt-test-no-daemon' };

/** Starts the routes app traced into OUT; resolves with its port once it listens. */
function startApp(out: string): Promise<RoutesApp> {
  return startRoutesApp({ ...process.env, ...ISOLATED, LTT_UST_OUTPUT: out, LTT_UST_CONTEXTS: 'vpid,vtid' });
}

type Fields = Record<string, unknown>;
interface Rec {
  readonly name: string;
  readonly ns: bigint;
  readonly tid: number;
  readonly f: Fields;
}

async function readTrace(dir: string): Promise<Rec[]> {
  const out: Rec[] = [];
  for await (const e of events(await openTrace([dir]))) {
    out.push({ name: e.name, ns: e.ns!, tid: Number((e.specificContext as Fields | undefined)?.['vtid'] ?? (e.commonContext as Fields | undefined)?.['vtid']), f: (e.payload ?? {}) as Fields });
  }
  return out;
}

const num = (v: unknown): number => Number(v);

/**
 * Sends GET requests for `paths` pipelined on one connection (written at once, before any answer) and resolves
 * with each response's size on the wire (headers and body, framed by Content-Length or chunks).
 */
function pipeline(port: number, paths: readonly string[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(30_000, () => reject(new Error(`pipelined requests: ${sizes.length} of ${paths.length} answers in 30 s`)));
    let got = Buffer.alloc(0);
    const sizes: number[] = [];
    socket.on('error', reject);
    socket.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      for (;;) {
        const head = got.indexOf('\r\n\r\n');
        if (head < 0) break;
        const length = /content-length: *(\d+)/i.exec(got.subarray(0, head).toString('latin1'));
        // Chunked (a small body in one chunk): up to the last chunk's end.
        const last = length === null ? got.indexOf('\r\n0\r\n\r\n', head) : -1;
        const size = length !== null ? head + 4 + Number(length[1]) : last < 0 ? Infinity : last + 7;
        if (got.length < size) break;
        sizes.push(size);
        got = got.subarray(size);
      }
      if (sizes.length === paths.length) {
        socket.end();
        resolve(sizes);
      }
    });
    socket.write(paths.map((p) => `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`).join(''));
  });
}

describe('ltt/auto records an unmodified app', { timeout: 180_000 }, () => {
  let dir: string;
  let recs: Rec[] = [];
  const bodies = new Map<string, string>();
  /** The byte size of each response to the pipelined requests, in order. */
  let pipelined: number[] = [];

  before(async () => {
    dir = tempDir('auto');
    const { app, port, exited } = await startApp(join(dir, 'trace'));
    try {
      const get = async (path: string): Promise<void> => {
        const r = await fetch(`http://127.0.0.1:${port}${path}`);
        bodies.set(path, await r.text());
        assert.equal(r.status, 200, `${path}: ${bodies.get(path)}`);
      };
      for (const path of ['/cpu', '/read', '/child', '/fetch', '/pool', '/worker']) await get(path);
      // Many in flight at once: each timer callback must still find its own request.
      await Promise.all(Array.from({ length: 8 }, () => get('/timer')));
      for (let i = 0; i < 10; i++) await get('/ok');
      pipelined = await pipeline(port, ['/ok', '/nope', '/ok']);
    } finally {
      app.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
    recs = await readTrace(traceDirOf(join(dir, 'trace')));
  });

  after(() => cleanup(dir));

  const starts = (path: string) => recs.filter((r) => r.name === 'node:request_start' && r.f['path'] === path);
  const of = (name: string, req: number) => recs.filter((r) => r.name === name && num(r.f['req']) === req);

  it('records each request: method, path, status, bytes, one end per start', () => {
    for (const path of ['/cpu', '/read', '/child', '/fetch', '/pool', '/worker', '/timer']) {
      const s = starts(path);
      assert.equal(s.length, path === '/timer' ? 8 : 1, path);
      for (const st of s) {
        assert.equal(st.f['method'], 'GET');
        const ends = of('node:request_end', num(st.f['req']));
        assert.equal(ends.length, 1, `${path}: one end`);
        assert.equal(num(ends[0]!.f['status']), 200);
        // The response's bytes on the wire: headers and the body.
        assert.ok(num(ends[0]!.f['bytes']) > Buffer.byteLength(bodies.get(path)!), `${path} bytes ${String(ends[0]!.f['bytes'])}`);
        assert.ok(ends[0]!.ns > st.ns);
      }
    }
    const ids = recs.filter((r) => r.name === 'node:request_start').map((r) => num(r.f['req']));
    assert.equal(new Set(ids).size, ids.length, 'request ids are unique');
  });

  // Each response's own bytes, on a connection that served several (its count is the connection's), pipelined.
  it('counts each response its exact bytes on a kept-alive connection, pipelined requests included', () => {
    const nopes = starts('/nope');
    assert.equal(nopes.length, 1);
    const all = recs.filter((r) => r.name === 'node:request_start' && r.tid === nopes[0]!.tid);
    const i = all.indexOf(nopes[0]!);
    const three = all.slice(i - 1, i + 2);
    assert.deepEqual(three.map((r) => r.f['path']), ['/ok', '/nope', '/ok']);
    const bytes = three.map((st) => num(of('node:request_end', num(st.f['req']))[0]!.f['bytes']));
    assert.deepEqual(bytes, pipelined);
    assert.equal(num(of('node:request_end', num(nopes[0]!.f['req']))[0]!.f['status']), 404);
  });

  // A request alone in flight: from its start to its end the thread works for it only (the connection's parser
  // calls back again after the request started, to end the message: those callbacks are the request's too).
  it('attributes a lone request its whole life: no context change between its start and its end', () => {
    for (const path of ['/cpu', '/read']) {
      const st = starts(path)[0]!;
      const end = of('node:request_end', num(st.f['req']))[0]!;
      const others = recs.filter((r) => r.name === 'node:ctx' && r.tid === st.tid && r.ns > st.ns && r.ns < end.ns && num(r.f['req']) !== num(st.f['req']));
      assert.deepEqual(others.map((r) => num(r.f['req'])), [], path);
    }
  });

  // node:ctx comes only when the thread's request changes: the context in effect when a /timer request ends
  // (its last node:ctx or request_start on that thread) must be its own, and every request but the last one
  // started (the thread switched to another one since) needs a node:ctx of its own after its 30 ms timer.
  it('carries each timer request to its own timer callback, with 8 in flight', () => {
    const timers = starts('/timer');
    let switchedBack = 0;
    for (const st of timers) {
      const req = num(st.f['req']);
      const end = of('node:request_end', req)[0]!;
      const marks = recs.filter((r) => (r.name === 'node:ctx' || r.name === 'node:request_start') && r.tid === st.tid && r.ns <= end.ns);
      assert.equal(num(marks[marks.length - 1]!.f['req']), req, `request ${req}: the thread works for another request when it ends`);
      if (of('node:ctx', req).some((c) => c.ns >= st.ns + 25_000_000n && c.tid === st.tid)) switchedBack++;
    }
    assert.ok(switchedBack >= timers.length - 1, `${switchedBack} of ${timers.length} timer callbacks found their request again`);
  });

  // Requests in a row on one connection cost no node:ctx: request_end hands the thread to no request, the
  // response's late callbacks are shown as no request's, and so is the parsing of the next request's headers.
  it('emits no node:ctx between requests in a row', () => {
    const oks = starts('/ok').slice(0, 10);
    assert.equal(oks.length, 10);
    const last = of('node:request_end', num(oks[9]!.f['req']))[0]!;
    const ctx = recs.filter((r) => r.name === 'node:ctx' && r.tid === oks[0]!.tid && r.ns > oks[0]!.ns && r.ns < last.ns);
    assert.ok(ctx.length <= 2, `${ctx.length} node:ctx among 10 requests in a row`);
  });

  it('attributes thread-pool work, a child process, a fetch (connect, lookup) and a worker to their request', () => {
    const pool = num(starts('/pool')[0]!.f['req']);
    const submits = of('node:pool_submit', pool);
    assert.ok(submits.length >= 2, 'readFile: open, fstat, read, close on the pool');
    assert.match(String(submits[0]!.f['kind']), /^FSREQ/);
    for (const s of submits) assert.equal(recs.filter((r) => r.name === 'node:pool_done' && num(r.f['op']) === num(s.f['op'])).length, 1);

    const child = of('node:child_spawn', num(starts('/child')[0]!.f['req']));
    assert.equal(child.length, 1);
    assert.ok(num(child[0]!.f['child_pid']) > 0);
    assert.equal(child[0]!.f['file'], '/bin/sh');

    const fetchReq = num(starts('/fetch')[0]!.f['req']);
    const client = of('node:client_start', fetchReq);
    assert.equal(client.length, 1);
    assert.match(String(client[0]!.f['url']), /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const end = recs.filter((r) => r.name === 'node:client_end' && num(r.f['client']) === num(client[0]!.f['client']));
    assert.equal(end.length, 1);
    assert.equal(num(end[0]!.f['status']), 200);
    assert.equal(of('node:connect_start', fetchReq).length, 1, 'the fetch opened a connection');

    const worker = of('node:worker_start', num(starts('/worker')[0]!.f['req']));
    assert.equal(worker.length, 1);
    const thread = recs.filter((r) => r.name === 'node:thread_start' && num(r.f['thread_id']) === num(worker[0]!.f['thread_id']));
    assert.equal(thread.length, 1, 'the worker announced its thread');
    assert.notEqual(thread[0]!.tid, worker[0]!.tid);
    // ltt's own threads (the local consumer) inherit --import ltt/auto but trace nothing: every thread that
    // announced itself is one the app created.
    for (const t of recs.filter((r) => r.name === 'node:thread_start')) {
      assert.ok(recs.some((w) => w.name === 'node:worker_start' && num(w.f['thread_id']) === num(t.f['thread_id'])), `thread ${String(t.f['thread_id'])} is ltt's`);
    }
  });
});

describe('ltt/auto without a session', { timeout: 60_000 }, () => {
  // What a loaded ltt/auto leaves in place: channel subscribers (which make Node build messages) and async hooks.
  const probe = (module: 'esm' | 'cjs', env: Record<string, string>): string => {
    const dir = tempDir('auto-probe');
    try {
      const check = `console.log(['http.server.request.start', 'undici:request:create', 'child_process'].map((c) => dc.hasSubscribers(c)).join(','));`;
      const file = module === 'esm' ? join(dir, 'probe.mjs') : join(dir, 'probe.cjs');
      writeFileSync(
        file,
        module === 'esm'
          ? `import dc from 'node:diagnostics_channel';\n${check}\n`
          : `require(${JSON.stringify(AUTO)});\nconst dc = require('node:diagnostics_channel');\n${check}\n`,
      );
      const args = module === 'esm' ? ['--import', pathToFileURL(AUTO).href, file] : [file];
      const p = spawnSync(process.execPath, args, { cwd: dir, env: { ...process.env, ...ISOLATED, ...env }, encoding: 'utf8', timeout: 30_000 });
      assert.equal(p.status, 0, p.stderr);
      return p.stdout.trim();
    } finally {
      cleanup(dir);
    }
  };

  it('subscribes to nothing until a session records node events (ESM --import and CommonJS require)', () => {
    assert.equal(probe('esm', {}), 'false,false,false');
    assert.equal(probe('cjs', {}), 'false,false,false');
    const out = tempDir('auto-on');
    try {
      assert.equal(probe('esm', { LTT_UST_OUTPUT: join(out, 'a') }), 'true,true,true');
      assert.equal(probe('cjs', { LTT_UST_OUTPUT: join(out, 'b') }), 'true,true,true');
      // Rules that leave the node provider out: still nothing.
      assert.equal(probe('esm', { LTT_UST_OUTPUT: join(out, 'c'), LTT_UST_EVENTS: 'demo:*' }), 'false,false,false');
    } finally {
      cleanup(out);
    }
  });
});
