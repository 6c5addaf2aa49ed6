// What the chromium tests of `ltt web` share: starting and stopping the command, opening its page.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Browser, Page } from 'puppeteer-core';
import { events, openTrace } from '../../src/ctf/index.js';
import { CLI_MAIN, EXEC_ARGV, sleep, type LttTestEnv } from '../cli/ltt-test-env.js';

export const CHROMIUM = '/usr/bin/chromium';

export interface WebProcess {
  readonly child: ChildProcess;
  readonly url: string;
  stdout: string;
  stderr: string;
}

/** Starts `ltt web ARGS` and waits for its URL (and, unless `ready` says otherwise, its first import). */
export async function startWeb(env: LttTestEnv, args: string[], ready: RegExp = /Showing \d+ events|Error: /): Promise<WebProcess> {
  const child = spawn(process.execPath, [...EXEC_ARGV, CLI_MAIN, 'web', ...args], { env: env.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const web = { child, url: '', stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (web.stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (web.stderr += d));
  const deadline = Date.now() + 300_000;
  while (!(/http:\/\/\S+\//.test(web.stdout) && ready.test(web.stdout + web.stderr))) {
    assert.ok(child.exitCode === null, `ltt web exited ${child.exitCode}: ${web.stderr}`);
    assert.ok(Date.now() < deadline, `ltt web never got ready: ${web.stdout} ${web.stderr}`);
    await sleep(100);
  }
  return { ...web, child, url: /http:\/\/\S+\//.exec(web.stdout)![0], get stdout() { return web.stdout; }, get stderr() { return web.stderr; } };
}

export async function stopWeb(web: WebProcess | undefined): Promise<void> {
  if (!web || web.child.exitCode !== null) return;
  const exited = new Promise((resolve) => web.child.once('exit', resolve));
  web.child.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000)]);
  if (web.child.exitCode === null) web.child.kill('SIGKILL');
}

export async function openPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 900 });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForFunction('window.lttWeb && window.lttWeb.ready', { timeout: 120_000 });
  assert.deepEqual(errors, [], 'the page threw');
  return page;
}


/**
 * The tests' reference for what a CPU track must show, from ltt's reader: CPU 0's longest non-idle slice in a
 * kernel trace (its start, length and thread) and the trace's first event time.
 */
export async function longestCpu0Slice(trace: string): Promise<{ first: bigint; start: bigint; length: bigint; tid: number }> {
  let first: bigint | undefined;
  let prev: { ns: bigint; tid: number } | undefined;
  let best: { start: bigint; length: bigint; tid: number } | undefined;
  for await (const e of events(await openTrace([trace]))) {
    if (e.ns === undefined) continue;
    if (first === undefined || e.ns < first) first = e.ns;
    if (e.name !== 'sched_switch' || Number(e.packetContext?.['cpu_id']) !== 0) continue;
    if (prev && prev.tid !== 0 && e.ns - prev.ns > (best?.length ?? 0n)) best = { start: prev.ns, length: e.ns - prev.ns, tid: prev.tid };
    prev = { ns: e.ns, tid: Number(e.payload?.['next_tid']) };
  }
  assert.ok(best && first !== undefined, 'no running slice on CPU 0 in the trace');
  return { first, ...best };
}
