// `ltt web net://HOST:PORT/host/HOSTNAME/SESSION` in chromium: ltt's daemon records kernel events in a live
// session streamed to ltt-relayd (`ltt create --live -U`), and the page of that URL shows the events the
// session records while it records (its event count and span grow before the session stops), the processes
// that ran, and it stays up once the session is gone. A session the relay does not have: one line and a
// non-zero exit; a relay URL without a session: the usage error.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { LttTestEnv, sleep } from '../cli/ltt-test-env.js';
import { startRelay } from '../relay/relay-helpers.js';
import { CHROMIUM, openPage, startWeb, stopWeb, type WebProcess } from './web-helpers.js';

declare const window: any;

const skip = !existsSync(CHROMIUM) ? 'chromium is not installed' : process.getuid?.() !== 0 ? 'needs root (kernel tracing)' : false;

test('ltt web follows a live session on ltt-relayd while it records', { skip, timeout: 600_000 }, async () => {
  const env = new LttTestEnv({ LTT_CACHE: '' });
  env.env['LTT_CACHE'] = join(env.root, 'cache');
  const relay = await startRelay('ltt', join(env.root, 'relay-out'));
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  let web: WebProcess | undefined;
  const ltt = async (...args: string[]) => {
    const r = await env.ltt(...args);
    assert.equal(r.code, 0, `ltt ${args.join(' ')}: ${r.stderr}`);
  };
  try {
    const base = `net://127.0.0.1:${relay.ports.live}`;
    const missing = await env.ltt('web', `${base}/host/${hostname()}/nosuch`);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /^Error: Unable to connect to the requested live viewer session: no session "nosuch" of host "[^"]+": url="net:[^"]+"\n$/);
    const bare = await env.ltt('web', base);
    assert.notEqual(bare.code, 0);
    assert.match(bare.stderr, /ltt web follows one session: net:\/\/HOST\[:PORT\]\/host\/HOSTNAME\/SESSION/);

    await ltt('create', 'webrelay', '--live=100000', '-U', `net://127.0.0.1:${relay.ports.control}:${relay.ports.data}`);
    await ltt('enable-event', '-k', 'sched_switch,sched_process_exec,sched_process_fork');
    await ltt('start');
    web = await startWeb(env, [`${base}/host/${hostname()}/webrelay`]);
    const page = await openPage(browser, web.url);
    const first = (await page.evaluate(() => window.lttWeb.info)) as { events: number; duration: number; live: boolean; title: string };
    assert.equal(first.live, true);
    assert.ok(first.events > 0, 'the page shows what the session recorded so far');
    // While the session records, the page grows (the machine keeps switching threads; a few execs help).
    const deadline = Date.now() + 180_000;
    let now = first;
    while (now.events <= first.events || now.duration <= first.duration) {
      assert.ok(Date.now() < deadline, `the page did not grow past ${first.events} events within 180 s`);
      spawnSync('chroot', ['/', 'true']);
      await sleep(500);
      now = (await page.evaluate(() => window.lttWeb.info)) as typeof first;
    }
    const cpus = (await page.evaluate(() => window.lttWeb.info.cpus)) as number[];
    assert.ok(cpus.length > 0, 'CPU tracks');
    // Seen while it records: nothing stopped it yet.
    assert.match((await env.ltt('list', 'webrelay')).stdout, /^Recording session webrelay: \[active\]/);
    await ltt('stop');
    await ltt('destroy');
    await sleep(2000);
    assert.equal(web.child.exitCode, null, `ltt web stays up once the session is gone: ${web.stderr}`);
    assert.equal(web.stderr, '');
    await page.close();
  } finally {
    await browser.close();
    await stopWeb(web);
    await relay.stop();
    await env.cleanup();
  }
});
