// ltt web on a big kernel trace: how long the page takes to open (cold: import into the tables; warm: from
// the cache) and how long each zoom and pan takes to redraw, in headless chromium.
//
// Contract: `node bench/web.mjs [--trace DIR] [--events N] [--steps S] [--cache DIR]` (root not needed; after
// `npm run build`). --cache keeps the tables in DIR across runs (the first open is then warm when DIR has them).
// The trace is DIR, else the one `node bench/analyses.mjs --events N` records (/tmp/ltt-bench-analyses-N,
// default N 10,000,000: record it with that command first). Prints the events, the cold open time (`ltt web`
// started to the page's first screen, drawn from the overview pass while the import runs, and to the page drawn
// from the tables: the import into the tables and the timeline's level of detail, both kept in the cache, with
// its import rate), the warm one (from the cache: the goal's case), and over S presses each of W, S, A, D (default 10):
// the canvas redraw (data at hand) and the refresh (server levels of detail + redraw) median and max, against
// the goals (open < 3 s, redraw < 100 ms). There is no peer to run beside it here (Perfetto's UI and Trace
// Compass need their own trace formats or a desktop): the goals are the yardstick. Children are time-bound.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LTT = path.join(ROOT, 'bin', 'ltt');
const CHROMIUM = '/usr/bin/chromium';

function fail(msg) {
  process.stderr.write(`bench/web: ${msg}\n`);
  process.exit(1);
}

function options() {
  let values;
  try {
    ({ values } = parseArgs({ options: { trace: { type: 'string' }, events: { type: 'string', default: '10000000' }, steps: { type: 'string', default: '10' }, cache: { type: 'string' } } }));
  } catch (err) {
    fail(`${err.message} (usage: node bench/web.mjs [--trace DIR] [--events N] [--steps S] [--cache DIR])`);
  }
  const events = Number(values.events);
  const steps = Number(values.steps);
  if (!Number.isInteger(events) || events <= 0 || !Number.isInteger(steps) || steps <= 0) fail('--events and --steps take positive integers');
  return { trace: values.trace, events, steps, cache: values.cache };
}

/** `ltt web TRACE`, resolved with its URL once it printed it. */
function startWeb(trace, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LTT, 'web', trace], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error('ltt web printed no URL within 60 s'))), 60_000);
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const m = /http:\/\/\S+\//.exec(out);
      if (m) (clearTimeout(timer), resolve({ child, url: m[0] }));
    });
    child.stderr.setEncoding('utf8').on('data', (d) => process.stderr.write(d));
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`ltt web exited ${code}`))));
  });
}

async function stop(child) {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

/**
 * Seconds from starting `ltt web` to the page drawn with the trace's data: `first` when it drew its first screen
 * (from the overview while the tables are imported, if it was shown from it: `overview`), `seconds` when it
 * drew the full tables' (the same as `first` when it opened on them).
 */
async function open(browser, trace, env) {
  const t0 = performance.now();
  const web = await startWeb(trace, env);
  const listening = (performance.now() - t0) / 1000;
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 900 });
  await page.goto(web.url);
  // Polled from here: one long waitForFunction would outlast puppeteer's protocol timeout on a cold import.
  const poll = async (what, test) => {
    while (!(await page.evaluate(test))) {
      if (performance.now() - t0 > 3_600_000) throw new Error(`the page was not ${what} within an hour`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await poll('ready', () => window.lttWeb?.ready === true);
  const first = (performance.now() - t0) / 1000;
  const error = await page.evaluate(() => window.lttWeb.error);
  if (error) throw new Error(error);
  const overview = await page.evaluate(() => window.lttWeb.info.loading !== undefined && window.lttWeb.timeline.data?.cpus.key.length > 0);
  await poll('drawn from its tables', () => window.lttWeb.info.loading === undefined && window.lttWeb.timeline.data !== undefined && window.lttWeb.timeline.settled().then(() => true));
  return { web, page, first, overview, seconds: (performance.now() - t0) / 1000, listening };
}

const stats = (xs) => {
  if (xs.length === 0) return 'none (the data at hand served every view)';
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)].toFixed(1)} ms, max ${s[s.length - 1].toFixed(1)} ms (${s.length})`;
};

async function main() {
  const o = options();
  if (!fs.existsSync(path.join(ROOT, 'dist', 'src', 'web', 'page', 'app.js'))) fail('not built: run `npm run build` first');
  if (!fs.existsSync(CHROMIUM)) fail(`${CHROMIUM} is not installed`);
  const trace = o.trace ?? `/tmp/ltt-bench-analyses-${o.events}`;
  if (!fs.existsSync(trace)) fail(`no trace at ${trace}: record it with \`node bench/analyses.mjs --events ${o.events}\`, or pass --trace DIR`);
  const { default: puppeteer } = await import('puppeteer-core');
  const cache = o.cache ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ltt-bench-web-cache-'));
  fs.mkdirSync(cache, { recursive: true });
  const env = { ...process.env, LTT_CACHE: cache };
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const cold = await open(browser, trace, env);
    const info = await cold.page.evaluate(() => window.lttWeb.info);
    const load = os.loadavg()[0].toFixed(1);
    await cold.page.close();
    await stop(cold.web.child);
    const warm = await open(browser, trace, env);
    console.log(`trace ${trace}: ${(info.events / 1e6).toFixed(2)} M events, ${(info.duration / 1e9).toFixed(2)} s, ${info.cpus.length} CPUs, ${info.processes.length} processes`);
    console.log(`open ${o.cache ? 'first (--cache), first screen' : 'cold, first screen'}       ${cold.first.toFixed(2)} s   ${cold.overview ? 'from the overview (CPU tracks) while the import runs' : 'from the tables'}; goal < 3 s: ${cold.first < 3 ? 'met' : 'missed'}`);
    console.log(`open ${o.cache ? 'first (--cache), full' : 'cold, full (import + tables)'}  ${cold.seconds.toFixed(2)} s   ${(info.events / cold.seconds / 1e6).toFixed(2)} M events/s`);
    console.log(`load average ${load} on ${os.cpus().length} CPUs`);
    console.log(`open warm (cached tables + page)    ${warm.seconds.toFixed(2)} s   goal < 3 s: ${warm.seconds < 3 ? 'met' : 'missed'} (server listening after ${warm.listening.toFixed(2)} s)`);
    const page = warm.page;
    const box = await (await page.$('#timeline')).boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + 60);
    const marks = await page.evaluate(() => [window.lttWeb.timeline.drawMs.length, window.lttWeb.timeline.refreshMs.length]);
    for (const key of ['w', 'a', 'd', 's']) {
      for (let i = 0; i < o.steps; i++) {
        await page.keyboard.press(key);
        await page.evaluate(() => new Promise(requestAnimationFrame).then(() => window.lttWeb.timeline.settled()));
      }
    }
    const [draws, refreshes] = await page.evaluate((m) => [window.lttWeb.timeline.drawMs.slice(m[0]), window.lttWeb.timeline.refreshMs.slice(m[1])], marks);
    const worst = Math.max(0, ...draws);
    console.log(`redraw on zoom/pan (canvas)         ${stats(draws)}   goal < 100 ms: ${worst < 100 ? 'met' : 'missed'}`);
    console.log(`refresh (server detail + redraw)    ${stats(refreshes)}`);
    await page.close();
    await stop(warm.web.child);
  } finally {
    await browser.close();
    if (!o.cache) fs.rmSync(cache, { recursive: true, force: true });
  }
}

main().catch((err) => fail(err.message));
