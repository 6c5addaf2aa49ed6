// `ltt web` opens a trace before its tables are imported: on a kernel trace this test records (big enough that
// the import into the tables takes seconds, and the overview pass over the scheduling events a fraction of
// that), in chromium, the page's first screen comes from the overview while the import runs (the page says it
// is loading the full trace), and its CPU track shows at a time T the thread the trace's own sched_switch
// events (read by ltt's reader here) say ran on CPU 0, also zoomed in (tracks served from the overview); then
// the page switches to the full tables by itself and shows the same thread at T, with the system calls the
// overview does not have.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { LttTestEnv, type RunResult } from '../cli/ltt-test-env.js';
import { CHROMIUM, longestCpu0Slice, startWeb, stopWeb, type WebProcess } from './web-helpers.js';

declare const window: any;

const IMAGES = resolve(process.env['LTT_SCREENSHOTS'] ?? join(tmpdir(), 'ltt-web-screenshots'));
mkdirSync(IMAGES, { recursive: true });
const skip = !existsSync(CHROMIUM) ? 'chromium is not installed' : process.getuid?.() !== 0 ? 'needs root (tracefs)' : false;
/** dd's one-byte copies: four events a byte (read and write, entry and exit), about 1.6 M events. */
const BYTES = 400_000;

describe('ltt web opens a trace from its overview while the import runs', { skip, timeout: 1_200_000 }, () => {
  let env: LttTestEnv;
  let trace: string;
  let browser: Browser;
  let web: WebProcess | undefined;
  let page: Page;
  let origin = 0n;
  /** A time (ns from the trace's first event) inside the longest non-idle slice on CPU 0, and who ran it. */
  let probe: { t: number; tid: number } | undefined;

  before(async () => {
    env = new LttTestEnv({ LTT_CACHE: '' });
    env.env['LTT_CACHE'] = join(env.root, 'cache');
    trace = join(env.root, 'trace');
    const ltt = async (...args: string[]): Promise<RunResult> => {
      const r = await env.ltt(...args);
      assert.equal(r.code, 0, `ltt ${args.join(' ')}: ${r.stderr}`);
      return r;
    };
    await ltt('create', 'webov', '-o', trace);
    await ltt('enable-channel', '-k', '--subbuf-size=8M', '--num-subbuf=8', 'big');
    await ltt('enable-event', '-k', '-c', 'big', 'sched_switch,sched_waking,sched_wakeup,sched_process_fork,sched_process_exec,lttng_statedump_process_state');
    await ltt('enable-event', '-k', '-c', 'big', '--syscall', 'read,write');
    await ltt('start');
    const dd = spawn('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', `count=${BYTES}`], { stdio: 'ignore' });
    await new Promise((r) => dd.once('exit', r));
    await ltt('stop');
    await ltt('destroy', 'webov');

    const slice = await longestCpu0Slice(trace);
    origin = slice.first;
    probe = { t: Number(slice.start - origin) + Number(slice.length) / 2, tid: slice.tid };
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  });

  after(async () => {
    await browser?.close();
    await stopWeb(web);
    await env?.cleanup();
  });

  it('shows CPU tracks from the overview before the import ends, then the full tables', async () => {
    const { t, tid } = probe!;
    // Not waiting for the import (its "Showing N events" line): the page is opened as soon as ltt web listens.
    web = await startWeb(env, [trace], /ltt web: http/);
    page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 900 });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(web.url);
    await page.waitForFunction('window.lttWeb && window.lttWeb.ready', { timeout: 120_000 });
    assert.equal(await page.evaluate(() => window.lttWeb.error), undefined);
    const info = await page.evaluate(() => window.lttWeb.info);
    assert.notEqual(info.loading, undefined, `the first screen came from the overview, not the tables (${web.stdout})`);
    assert.equal(BigInt(info.origin), origin, 'time 0 is the trace\'s first event');
    assert.ok(info.cpus.includes(0));
    assert.ok(info.processes.some((p: { threads: { tid: number; name: string }[] }) => p.threads.some((th) => th.tid === tid)), `thread ${tid} in the layout`);
    assert.match(await page.$eval('#status', (e) => e.textContent ?? ''), /loading the full trace \(\d+%\)/);
    assert.ok(await page.evaluate(() => window.lttWeb.timeline.data.cpus.key.length > 0), 'the first screen has the CPUs\' slices');
    await page.screenshot({ path: join(IMAGES, 'web-overview.png') });
    // Zoomed in on T: the tracks the page asks for now come from the overview too.
    await page.evaluate((b: number, e: number) => window.lttWeb.view(b, e), t - 20_000, t + 20_000);
    const early = await page.evaluate((tt: number) => window.lttWeb.threadOnCpu(0, tt), t);
    const still = (await (await fetch(`${web.url}api/info`)).json()) as { loading?: number };
    assert.notEqual(still.loading, undefined, 'the import was still running: the answer was the overview\'s');
    assert.deepEqual(early, { tid, merged: false }, 'the overview\'s CPU 0 at T');
    assert.equal(web.stdout.includes('Showing'), false);

    // The switch to the tables, by the page itself.
    await page.waitForFunction('window.lttWeb.info.loading === undefined', { timeout: 900_000, polling: 200 });
    assert.match(web.stdout, /Showing \d+ events/);
    assert.doesNotMatch(await page.$eval('#status', (e) => e.textContent ?? ''), /loading/);
    await page.evaluate((b: number, e: number, th: number) => window.lttWeb.view(b, e, th), t - 20_000, t + 20_000, tid);
    assert.deepEqual(await page.evaluate((tt: number) => window.lttWeb.threadOnCpu(0, tt), t), { tid, merged: false }, 'the tables\' CPU 0 at T');
    const full = await page.evaluate(() => window.lttWeb.info);
    assert.equal(full.origin, info.origin, 'the same time 0');
    assert.equal(full.duration, info.duration, 'the same duration');
    assert.equal(full.events, info.events, 'the same event count');
    await page.evaluate((d: number) => window.lttWeb.view(0, d), full.duration);
    assert.ok(await page.evaluate(() => window.lttWeb.timeline.data.syscalls.key.length > 0), 'the full tables\' system calls');
    assert.deepEqual(errors, [], 'the page threw');
    await page.screenshot({ path: join(IMAGES, 'web-overview-full.png') });
  });
});
