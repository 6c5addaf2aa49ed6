// `ltt web` in a real browser: Debian's chromium, headless, driven by puppeteer-core, on a kernel trace this
// test records with the real CLI and daemon. The page's CPU track must show, at a time T, the thread the
// trace's own sched_switch events (read by ltt's reader, not by the tables the page comes from) say ran on
// CPU 0; a click must show that switch as `ltt view --begin=T --end=T` prints it; zoom and pan are timed
// (reported; only loose bounds asserted: the machine is shared); a drag shows the range's analyses; search
// finds events by field. Screenshots of each view go to a scratch folder (LTT_SCREENSHOTS=docs/images for the README's). Bad input (a missing or a
// broken trace) gives one line from the command and on the page; a taken port gives the next one; --host
// makes the page say others can reach it; a recording session's page follows it.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import puppeteer, { type Browser, type KeyInput, type Page } from 'puppeteer-core';
import { LttTestEnv, sleep, type RunResult } from '../cli/ltt-test-env.js';
import { events, openTrace } from '../../src/ctf/index.js';
import { REPO_ROOT } from '../repo-paths.js';
import { CHROMIUM, longestCpu0Slice, openPage, startWeb, stopWeb, type WebProcess } from './web-helpers.js';

// Names of the page's world, for the functions puppeteer runs there (this project compiles without DOM types).
declare const window: any;
declare const document: any;
declare const requestAnimationFrame: any;
type HTMLInputElement = { value: string };

const UST_N = 400;
// Screenshots go to a scratch folder, so a test run leaves the checkout clean; LTT_SCREENSHOTS=docs/images
// refreshes the README's.
const IMAGES = resolve(process.env['LTT_SCREENSHOTS'] ?? join(tmpdir(), 'ltt-web-screenshots'));
mkdirSync(IMAGES, { recursive: true });
const skip = !existsSync(CHROMIUM) ? 'chromium is not installed' : process.getuid?.() !== 0 ? 'needs root (tracefs)' : false;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

describe('ltt web in chromium', { skip, timeout: 1_200_000 }, () => {
  let env: LttTestEnv;
  let trace: string;
  let ustTrace: string;
  let lossyTrace: string;
  /** ltt/ust events per thread (vtid), as ltt's reader reads them. */
  const ustPerTid = new Map<number, number>();
  let ustSpan: [bigint, bigint] = [0n, 0n];
  /** Events the tracer discarded in the lossy trace, as ltt's reader counts them. */
  let discarded = 0;
  let browser: Browser;
  let web: WebProcess | undefined;
  let page: Page;
  let origin = 0n;
  /** A time (ns from the trace's first event) inside a long slice on CPU 0, and who ran it per the trace. */
  let probe: { t: number; tid: number; switchNs: bigint } | undefined;
  const others: WebProcess[] = [];

  before(async () => {
    env = new LttTestEnv({ LTT_CACHE: '' });
    env.env['LTT_CACHE'] = join(env.root, 'cache');
    trace = join(env.root, 'trace');
    ustTrace = join(env.root, 'ust-app');
    lossyTrace = join(env.root, 'lossy');
    const ltt = async (...args: string[]): Promise<RunResult> => {
      const r = await env.ltt(...args);
      assert.equal(r.code, 0, `ltt ${args.join(' ')}: ${r.stderr}`);
      return r;
    };
    await ltt('create', 'web', '-o', trace);
    await ltt('enable-event', '-k', 'sched_switch,sched_waking,sched_wakeup,sched_wakeup_new,sched_process_fork,sched_process_exec,sched_process_exit,lttng_statedump_process_state');
    await ltt('enable-event', '-k', 'irq_handler_entry,irq_handler_exit,irq_softirq_entry,irq_softirq_exit');
    await ltt('enable-event', '-k', '--syscall', 'read,write,openat,close,clock_nanosleep');
    await ltt('start');
    // A recognizable workload: dd's one-byte reads and writes, and sleeps (blocked, then woken); meanwhile a
    // Node app traces ltt/ust events from two threads into its own trace (local mode: no daemon).
    const wl = spawn('sh', ['-c', 'for i in 1 2 3 4 5; do dd if=/dev/zero of=/dev/null bs=1 count=3000 2>/dev/null; sleep 0.05; done'], { stdio: 'ignore' });
    const app = spawn(process.execPath, [join(REPO_ROOT, 'examples', 'ust-demo.mjs'), String(UST_N)], {
      cwd: REPO_ROOT,
      // The thread context puts each event on its thread's track.
      env: { ...process.env, LTT_UST_OUTPUT: ustTrace, LTT_UST_CONTEXTS: 'vpid,vtid,procname', LTT_RUNDIR: '/nonexistent/ltt-test-no-daemon' },
      stdio: 'ignore',
    });
    const appExit = new Promise((resolve) => app.once('exit', resolve));
    await new Promise((resolve) => wl.once('exit', resolve));
    assert.equal(await appExit, 0, 'the ltt/ust demo app failed');
    await ltt('stop');
    await ltt('destroy', 'web');

    // Another trace: dd's reads and writes into a channel far too small for them, so the tracer discards
    // events, which the page must show where it happened.
    await ltt('create', 'lossy', '-o', lossyTrace);
    await ltt('enable-event', '-k', 'sched_switch,sched_waking,sched_wakeup');
    await ltt('enable-channel', '-k', '--subbuf-size=4096', '--num-subbuf=2', 'tiny');
    await ltt('enable-event', '-k', '-c', 'tiny', '--syscall', 'read,write');
    await ltt('start');
    const flood = spawn('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=50000'], { stdio: 'ignore' });
    await new Promise((resolve) => flood.once('exit', resolve));
    await ltt('stop');
    await ltt('destroy', 'lossy');

    // The reference: CPU 0's switches from ltt's reader; the probe is the middle of its longest non-idle slice.
    const slice = await longestCpu0Slice(trace);
    let first = slice.first;
    probe = { t: 0, tid: slice.tid, switchNs: slice.start };
    for await (const e of events(await openTrace([ustTrace]))) {
      if (e.ns !== undefined && e.ns < first) first = e.ns;
      const tid = Number(e.commonContext?.['vtid'] ?? e.specificContext?.['vtid']);
      if (e.name !== 'demo:tick') continue;
      ustPerTid.set(tid, (ustPerTid.get(tid) ?? 0) + 1);
      ustSpan = [ustSpan[0] === 0n || e.ns! < ustSpan[0] ? e.ns! : ustSpan[0], e.ns! > ustSpan[1] ? e.ns! : ustSpan[1]];
    }
    assert.equal(ustPerTid.size, 2, 'the demo traces from its main thread and a worker');
    for await (const batch of (await openTrace([lossyTrace])).messages) {
      for (const m of batch) if (m.type === 'discarded-events') discarded += m.count ?? 0;
    }
    origin = first;
    probe.t = Number(probe.switchNs - origin) + Number(slice.length) / 2;

    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    web = await startWeb(env, [trace, ustTrace]);
    page = await openPage(browser, web.url);
    mkdirSync(IMAGES, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await stopWeb(web);
    for (const o of others) await stopWeb(o);
    await env?.cleanup();
  });

  it('serves on 127.0.0.1 and shows the whole trace', async () => {
    assert.match(web!.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const info = await page.evaluate(() => window.lttWeb.info);
    assert.equal(BigInt(info.origin), origin, 'time 0 of the page is the trace\'s first event');
    assert.ok(info.cpus.includes(0));
    // The first screen came with /api/info, computed with the tables: the page drew it without asking.
    assert.equal(await page.evaluate(() => window.lttWeb.timeline.refreshMs.length), 0, 'no /api/tracks before the first screen');
    assert.ok(await page.evaluate(() => window.lttWeb.timeline.data.cpus.key.length > 0), 'the first screen has the CPUs\' slices');
    assert.equal(await page.$('#exposed'), null, 'a loopback page says nothing about others');
    await page.screenshot({ path: join(IMAGES, 'web-timeline.png') });
  });

  it('shows lost events where they happened', async (t) => {
    const w = await startWeb(env, [lossyTrace]);
    others.push(w);
    const page = await openPage(browser, w.url);
    const lost = (await page.evaluate(() => window.lttWeb.info.lost)) as { begin: number; end: number; kind: string; count: number | null }[];
    assert.equal(lost.filter((l) => l.kind === 'events').reduce((a, l) => a + (l.count ?? 0), 0), discarded);
    if (lost.length === 0) return t.skip('the tracer kept up with the tiny channel this time: nothing to draw');
    // The strip under the time axis is red at the place of the loss.
    const span = lost[0]!;
    await page.evaluate((b, e) => window.lttWeb.view(b, e), span.begin - 1e6, span.end + 1e6);
    const pixel = await page.evaluate((tt) => {
      const tl = window.lttWeb.timeline;
      const dpr = window.devicePixelRatio || 1;
      return [...tl.canvas.getContext('2d').getImageData(Math.round(tl.xOf(tt) * dpr) + 1, Math.round(32 * dpr), 1, 1).data];
    }, (span.begin + span.end) / 2);
    assert.deepEqual(pixel.slice(0, 3), [0xd9, 0x20, 0x20], 'the lost-events strip is red there');
    await page.screenshot({ path: join(IMAGES, 'web-lost.png') });
    await page.close();
  });

  it('shows each ltt/ust event on its thread', async () => {
    const d = (await page.evaluate(() => window.lttWeb.info.duration)) as number;
    for (const [tid, n] of ustPerTid) {
      await page.evaluate((dd, tt) => window.lttWeb.view(0, dd, tt), d, tid);
      assert.deepEqual(await page.evaluate((tt) => window.lttWeb.ustEvents(tt), tid), { 'demo:tick': n }, `tid ${tid}`);
    }
    // The app's events, close up.
    const [b, e] = ustSpan.map((ns) => Number(ns - origin));
    await page.evaluate((bb, ee, tt) => window.lttWeb.view(bb, ee, tt), b! - (e! - b!) / 4, e! + (e! - b!) / 4, [...ustPerTid.keys()][0]);
    await page.screenshot({ path: join(IMAGES, 'web-ust.png') });
    await page.evaluate(() => window.lttWeb.timeline.scroll(-1e9));
  });

  it('shows on CPU 0 at T the thread the trace ran there (hover)', async () => {
    const { t, tid } = probe!;
    await page.evaluate((b, e) => window.lttWeb.view(b, e), t - 20_000, t + 20_000);
    const shown = await page.evaluate((tt) => window.lttWeb.threadOnCpu(0, tt), t);
    assert.deepEqual(shown, { tid, merged: false });
    // Through the page's own hover tooltip, at the pixel of T on CPU 0's track.
    const at = await page.evaluate((tt) => window.lttWeb.where('cpu', 0, tt), t);
    const box = (await (await page.$('#timeline'))!.boundingBox())!;
    await page.mouse.move(box.x + at.x, box.y + at.y + 12);
    const tip = await page.$eval('#tooltip', (e) => e.textContent ?? '');
    assert.match(tip, new RegExp(`^CPU 0: .* tid ${tid} `), tip);
    await page.screenshot({ path: join(IMAGES, 'web-zoomed.png') });
  });

  it('shows the clicked slice\'s sched_switch as ltt view prints it', async () => {
    const { t, switchNs } = probe!;
    const where = await page.evaluate((tt) => window.lttWeb.where('cpu', 0, tt), t);
    const box = (await (await page.$('#timeline'))!.boundingBox())!;
    await page.mouse.click(box.x + where.x, box.y + where.y + 12);
    await page.waitForSelector('#detail pre.view-text', { timeout: 60_000 });
    const shown = (await page.$eval('#detail pre.view-text', (e) => e.textContent ?? '')).split('\n')[0]!;
    // babeltrace2's bounds are seconds from the clock's origin.
    const at = `${switchNs / 1_000_000_000n}.${String(switchNs % 1_000_000_000n).padStart(9, '0')}`;
    const view = await env.ltt('view', `--begin=${at}`, `--end=${at}`, trace);
    assert.equal(view.code, 0, view.stderr);
    const lines = view.stdout.split('\n').filter((l) => / sched_switch: \{ cpu_id = 0 \}/.test(l));
    assert.ok(lines.includes(shown), `page: ${shown}\nltt view:\n${view.stdout}`);
    assert.match(shown, new RegExp(`next_tid = ${probe!.tid},`));
    const fields = await page.$$eval('#detail table.fields tr', (rows) => rows.map((r) => r.textContent));
    assert.ok(fields.includes(`sched_switch.next_tid${probe!.tid}`), fields.join('\n'));
    await page.screenshot({ path: join(IMAGES, 'web-event.png') });
  });

  it('zooms and pans with W/S/A/D (times reported)', async (t) => {
    await page.evaluate((d) => window.lttWeb.view(0, d), (await page.evaluate(() => window.lttWeb.info.duration)) as number);
    const marks = await page.evaluate(() => [window.lttWeb.timeline.drawMs.length, window.lttWeb.timeline.refreshMs.length]);
    const box = (await (await page.$('#timeline'))!.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + 60);
    const keys: KeyInput[] = ['w', 'w', 'w', 'w', 'w', 'w', 'w', 'w', 'a', 'a', 'd', 'd', 'd', 's', 's', 's', 'w', 'a'];
    const spans: number[] = [];
    for (const k of keys) {
      await page.keyboard.press(k);
      await page.evaluate(() => new Promise(requestAnimationFrame).then(() => window.lttWeb.timeline.settled()));
      spans.push(await page.evaluate(() => window.lttWeb.timeline.e - window.lttWeb.timeline.b));
    }
    assert.ok(spans[7]! < spans[0]! * 0.25, `W zooms in: ${spans.join(', ')}`);
    assert.ok(spans[15]! > spans[12]!, `S zooms out: ${spans.join(', ')}`);
    const [draws, refreshes] = await page.evaluate((m) => [window.lttWeb.timeline.drawMs.slice(m[0]), window.lttWeb.timeline.refreshMs.slice(m[1])], marks);
    const report = `redraw (canvas) median ${median(draws).toFixed(1)} ms, max ${Math.max(...draws).toFixed(1)} ms over ${draws.length}; ` +
      `detail refresh (server query + redraw) median ${median(refreshes).toFixed(0)} ms, max ${Math.max(...refreshes).toFixed(0)} ms over ${refreshes.length}`;
    t.diagnostic(report);
    process.stderr.write(`ltt web: ${report}\n`);
    assert.ok(median(draws) < 500, report);
    assert.ok(Math.max(...refreshes) < 30_000, report);
  });

  it('shows the analyses of a dragged range', async () => {
    const d = (await page.evaluate(() => window.lttWeb.info.duration)) as number;
    await page.evaluate((dd) => window.lttWeb.view(0, dd), d);
    const box = (await (await page.$('#timeline'))!.boundingBox())!;
    await page.mouse.move(box.x + 250, box.y + 60);
    await page.mouse.down();
    await page.mouse.move(box.x + 700, box.y + 60, { steps: 5 });
    await page.mouse.move(box.x + 1100, box.y + 60, { steps: 5 });
    await page.mouse.up();
    await page.waitForSelector('#range table.cputop tbody tr', { timeout: 120_000 });
    const top = await page.$$eval('#range table.cputop tbody tr', (rows) => rows.length);
    assert.ok(top > 0);
    assert.ok((await page.$$('#range table.syscalls tbody tr')).length > 0, 'system call latencies');
    await page.waitForSelector('#range .plot canvas, #range .plot', { timeout: 10_000 });
    await page.screenshot({ path: join(IMAGES, 'web-range.png') });
  });

  it('finds events by name and field', async () => {
    const tid = probe!.tid;
    await page.click('#search-input');
    await page.keyboard.type(`sched_switch next_tid=${tid}`);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#search ol.hits li', { timeout: 60_000 });
    const hits = await page.$$eval('#search ol.hits li', (li) => li.map((l) => l.textContent ?? ''));
    assert.ok(hits.every((h) => h.includes('sched_switch')), hits.slice(0, 5).join('\n'));
    await page.click('#search ol.hits li');
    await page.waitForFunction((n) => document.querySelector('#detail pre.view-text')?.textContent?.includes(`next_tid = ${n},`), { timeout: 60_000 }, tid);
    await page.screenshot({ path: join(IMAGES, 'web-search.png') });
    await page.$eval('#search-input', (e) => ((e as HTMLInputElement).value = ''));
    await page.click('#search-input');
    await page.keyboard.type('sched_switch no_such_field=1');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#search-error', { timeout: 30_000 });
  });

  it('answers a bad request with one line, and nothing but GET', async () => {
    for (const [path, why] of [
      ['api/tracks?b=0&px=10', /^Missing or bad parameter e$/],
      ['api/event?kind=nope&key=0&t=0', /^kind: one of /],
      ['api/event?kind=cpu&key=999&t=0', /^Nothing there$/],
      ['api/search?q=x%20no_such_field%3D1', /^No event named like x has the field no_such_field$/],
      ['api/nope', /^No API /],
    ] as const) {
      const res = await fetch(web!.url + path);
      assert.ok(res.status >= 400, path);
      assert.match(((await res.json()) as { error: string }).error, why, path);
    }
    assert.equal((await fetch(web!.url + 'api/info', { method: 'POST' })).status, 405);
  });

  it('a missing trace: one line and a non-zero exit', async () => {
    const r = await env.ltt('web', join(env.root, 'no-such-trace'));
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^Error: No trace at .*no-such-trace\n$/);
  });

  it('a broken trace: one line from the command, the same on the page', async () => {
    const broken = join(env.root, 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'metadata'), '/* CTF 1.8 */ trace { major = 1; minor = 8; this is not TSDL');
    writeFileSync(join(broken, 'channel0_0'), Buffer.alloc(64));
    const w = await startWeb(env, [broken]);
    others.push(w);
    const lines = w.stderr.trim().split('\n');
    assert.equal(lines.length, 1, w.stderr);
    assert.match(lines[0]!, /^Error: Cannot show .*broken: \S/);
    const p = await openPage(browser, w.url);
    const shown = await p.$eval('#error', (e) => e.textContent ?? '');
    assert.ok(shown.includes(lines[0]!.replace(/^Error: Cannot show \S+: /, '')), `page: ${shown}\ncommand: ${lines[0]}`);
    await p.close();
  });

  it('--port: a taken port gives the next free one; --host: the page says others can reach it', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const w = await startWeb(env, [trace, `--port=${taken}`]);
      others.push(w);
      assert.notEqual(new URL(w.url).port, String(taken));
      assert.ok(Number(new URL(w.url).port) > taken, w.url);
    } finally {
      blocker.close();
    }
    const w = await startWeb(env, [trace, '--host=0.0.0.0']);
    others.push(w);
    assert.match(w.stdout, /reachable by others/);
    const p = await openPage(browser, w.url.replace('0.0.0.0', '127.0.0.1'));
    assert.match(await p.$eval('#exposed', (e) => e.textContent ?? ''), /reachable by others on the network at http:\/\/0\.0\.0\.0:\d+\//);
    await p.close();
  });

  it('follows a recording session', async () => {
    const ltt = async (...args: string[]) => assert.equal((await env.ltt(...args)).code, 0, args.join(' '));
    await ltt('create', 'live', '-o', join(env.root, 'live'));
    await ltt('enable-event', '-k', 'sched_switch');
    await ltt('start');
    try {
      await sleep(1500);
      const w = await startWeb(env, ['live']);
      others.push(w);
      const p = await openPage(browser, w.url);
      const before = (await p.evaluate(() => window.lttWeb.info)) as { events: number; live: boolean; duration: number };
      assert.equal(before.live, true);
      await p.waitForFunction((n) => window.lttWeb.info.events > n, { timeout: 180_000, polling: 500 }, before.events);
      const later = (await p.evaluate(() => window.lttWeb.info)) as { duration: number };
      assert.ok(later.duration > before.duration);
      await p.close();
    } finally {
      await env.ltt('destroy', 'live');
    }
  });
});
