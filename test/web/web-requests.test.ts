// ltt/auto's requests in `ltt web`, in chromium: a kernel trace (sched, every system call) and an unmodified
// Node server (examples/auto-routes.mjs under `node --import ltt/auto`) recorded by the real CLI and daemon
// while the test asks it a few requests. The page's request slices must be `ltt analyze requests`'s requests
// (run as a command): as many, on the same threads, from the same start to the same end, labelled METHOD
// PATH STATUS, requests served at once in lanes of their own; a click on one (in any lane) shows its
// breakdown with the analysis's numbers; a dragged range counts them.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { CLI_MAIN, EXEC_ARGV, LttTestEnv, run, sleep, type RunResult } from '../cli/ltt-test-env.js';
import type { RequestBreakdown, RequestsResult } from '../../src/analyses/requests.js';
import { CHROMIUM, openPage, startWeb, stopWeb, type WebProcess } from './web-helpers.js';
import { enableRequestEvents, startRoutesApp } from '../auto/routes-app.js';

declare const window: any;
declare const document: any;

const skip = !existsSync(CHROMIUM) ? 'chromium is not installed' : process.getuid?.() !== 0 ? 'needs root (tracefs)' : false;
/** Asked one after the other: each request's slice is its own. */
const ASKED = ['/cpu', '/timer', '/read', '/cpu', '/timer', '/nope'];
/** Asked at once, each on its own connection: the event loop serves them overlapping (30 ms timers). */
const AT_ONCE = ['/timer', '/timer', '/timer'];
const COUNT = ASKED.length + AT_ONCE.length;

describe('ltt web shows ltt/auto requests', { skip, timeout: 1_200_000 }, () => {
  let env: LttTestEnv;
  let trace: string;
  let app: ChildProcess | undefined;
  let result: RequestsResult;
  let browser: Browser;
  let web: WebProcess | undefined;
  let page: Page;
  let origin: bigint;
  const ltt = async (...args: string[]): Promise<RunResult> => {
    const r = await env.ltt(...args);
    assert.equal(r.code, 0, `ltt ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const label = (b: RequestBreakdown) => `${b.method} ${b.path} ${b.finished ? String(b.status) : 'unfinished'}`;
  const ms = (ns: number) => `${(ns / 1e6).toFixed(3)} ms`;

  before(async () => {
    env = new LttTestEnv({ LTT_CACHE: '' });
    env.env['LTT_CACHE'] = join(env.root, 'cache');
    trace = join(env.root, 'trace');
    await ltt('create', 'webreq', '-o', trace);
    await enableRequestEvents(ltt);
    const started = await startRoutesApp(env.env);
    app = started.app;
    const { port, exited } = started;
    const get = async (path: string) => (await fetch(`http://127.0.0.1:${port}${path}`)).text();
    for (const path of ASKED) await get(path);
    await ltt('start');
    await sleep(300);
    for (const path of ASKED) await get(path);
    await Promise.all(AT_ONCE.map(get));
    await sleep(300);
    await ltt('stop');
    app.kill('SIGTERM');
    assert.equal(await exited, 0);
    await ltt('destroy');
    // The first analysis imports the trace (every system call of a loaded machine): minutes, not the usual 60 s.
    const r = await run(process.execPath, [...EXEC_ARGV, CLI_MAIN, 'analyze', 'requests', trace, '--top', '1000', '--format', 'json'], { env: env.env, timeoutMs: 600_000 });
    assert.equal(r.code, 0, r.stderr);
    // Its times are ns since the epoch, more digits than a double holds: read as text.
    result = JSON.parse(r.stdout.replace(/"startTs": (\d+)/g, '"startTs": "$1"')) as RequestsResult;
    assert.equal(result.count, COUNT, 'the analysis finds every request');

    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    web = await startWeb(env, [trace]);
    page = await openPage(browser, web.url);
    origin = BigInt(await page.evaluate(() => window.lttWeb.info.origin));
  });

  after(async () => {
    app?.kill('SIGKILL');
    await browser?.close();
    await stopWeb(web);
    await env?.cleanup();
  });

  /** A request's start on the page's time axis (ns from the trace's first event). */
  const startOf = (r: RequestBreakdown): number => Number(BigInt(r.startTs) - origin);
  /** The requests' span on the page's time axis, with room around. */
  const span = (): [number, number] => {
    const b = Math.min(...result.slowest.map(startOf));
    const e = Math.max(...result.slowest.map((r) => startOf(r) + r.wallNs));
    return [b - (e - b) / 10, e + (e - b) / 10];
  };

  /** Each request's lane: the lowest no earlier-started request of its thread still holds when it starts. */
  const lanesOf = (all: readonly RequestBreakdown[]): Map<RequestBreakdown, number> => {
    const out = new Map<RequestBreakdown, number>();
    const ends = new Map<number, number[]>();
    for (const r of [...all].sort((x, y) => startOf(x) - startOf(y))) {
      const e = ends.get(r.tid) ?? [];
      ends.set(r.tid, e);
      let lane = e.findIndex((end) => end <= startOf(r));
      if (lane < 0) lane = e.length;
      e[lane] = startOf(r) + r.wallNs;
      out.set(r, lane);
    }
    return out;
  };

  it("draws `ltt analyze requests`'s requests on their threads: count, thread, start, end, label, overlapping ones in lanes", async () => {
    assert.equal(await page.evaluate(() => window.lttWeb.info.hasRequests), true);
    const lanes = lanesOf(result.slowest);
    assert.ok(Math.max(...lanes.values()) >= 1, 'the requests asked at once overlap on the thread that served them');
    const tids = [...new Set(result.slowest.map((r) => r.tid))];
    for (const tid of tids) {
      await page.evaluate((b, e, t) => window.lttWeb.view(b, e, t), ...span(), tid);
      const shown = (await page.evaluate((t) => window.lttWeb.requests(t), tid)) as [number, number, string, number, number][];
      const want = result.slowest
        .filter((r) => r.tid === tid)
        .map((r) => [startOf(r), startOf(r) + r.wallNs, label(r), 1, lanes.get(r)!])
        .sort((x, y) => (x[0] as number) - (y[0] as number));
      assert.deepEqual(shown.sort((x, y) => x[0] - y[0]), want, `thread ${tid}`);
    }
    await page.screenshot({ path: join(env.root, 'web-requests.png') });
  });

  it('a click in a lower lane shows the request drawn there', async () => {
    const lanes = lanesOf(result.slowest);
    const r = [...lanes].find(([, lane]) => lane === 1)![0];
    const start = startOf(r);
    await page.evaluate((b, e, t) => window.lttWeb.view(b, e, t), start - r.wallNs / 4, start + r.wallNs * 1.25, r.tid);
    const at = await page.evaluate((t, x) => window.lttWeb.where('thread', t, x), r.tid, start + r.wallNs / 2);
    const box = (await (await page.$('#timeline'))!.boundingBox())!;
    await page.mouse.click(box.x + at.x, box.y + at.y + 37 + 14);
    await page.waitForFunction((req) => [...document.querySelectorAll('#detail table.fields tr')].some((tr: any) => tr.textContent === `req${req}`), { timeout: 60_000 }, String(r.req));
  });

  it("shows a clicked request's fields and breakdown as `ltt analyze requests` computes it", async () => {
    const slowest = result.slowest[0]!;
    const start = startOf(slowest);
    await page.evaluate((b, e, t) => window.lttWeb.view(b, e, t), start - slowest.wallNs / 4, start + slowest.wallNs * 1.25, slowest.tid);
    const at = await page.evaluate((t, x) => window.lttWeb.where('thread', t, x), slowest.tid, start + slowest.wallNs / 2);
    const box = (await (await page.$('#timeline'))!.boundingBox())!;
    // In its lane: the slowest may be one of those served at once.
    await page.mouse.click(box.x + at.x, box.y + at.y + 37 + 14 * lanesOf(result.slowest).get(slowest)!);
    // The request's own fields (the one before may have had the same title).
    await page.waitForFunction((req) => [...document.querySelectorAll('#detail table.fields tr')].some((tr: any) => tr.textContent === `req${req}`), { timeout: 60_000 }, String(slowest.req));
    assert.match(await page.$eval('#detail h3', (e) => e.textContent ?? ''), new RegExp(`^${slowest.method} ${slowest.path} `));
    const fields = Object.fromEntries((await page.$$eval('#detail table.fields tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent ?? '')))).filter((r) => r.length === 2));
    assert.equal(fields['req'], String(slowest.req));
    assert.equal(fields['status'], String(slowest.status));
    assert.equal(fields['wall'], ms(slowest.wallNs));
    assert.equal(fields['on CPU, user'], ms(slowest.userNs));
    assert.equal(fields['on CPU, system'], ms(slowest.sysNs));
    assert.equal(fields['queued behind other work'], ms(slowest.queuedNs));
    assert.equal(fields['idle (no thread worked for it)'], ms(slowest.idleNs));
    assert.match(await page.$eval('#detail pre.view-text', (e) => e.textContent ?? ''), /node:request_start: /);
  });

  it('counts the requests of a dragged range', async () => {
    await page.evaluate((b, e) => window.lttWeb.view(b, e), ...span());
    const box = (await (await page.$('#timeline'))!.boundingBox())!;
    await page.mouse.move(box.x + 200, box.y + 60);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2, box.y + 60, { steps: 5 });
    await page.mouse.move(box.x + box.width - 2, box.y + 60, { steps: 5 });
    await page.mouse.up();
    await page.waitForSelector('#range-requests', { timeout: 120_000 });
    assert.match(await page.$eval('#range-requests', (e) => e.textContent ?? ''), new RegExp(`^Requests: ${COUNT} `));
    const rows = await page.$$eval('#range table.requests tbody tr', (trs) => trs.map((tr) => tr.querySelector('td')?.textContent ?? ''));
    assert.deepEqual(rows.sort(), result.slowest.map(label).sort());
  });
});
