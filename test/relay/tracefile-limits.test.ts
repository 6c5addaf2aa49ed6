// A channel's `--tracefile-size` and `--tracefile-count` over a relay: ltt-sessiond sends them in ADD_STREAM (as
// lttng-consumerd does) and the relay splits each stream's files by them. The same session (LTTng's test app,
// per-UID buffers, one-page sub-buffers and files) streamed to the real lttng-relayd and to ltt-relayd: both store
// the same files (CHANNEL_CPU_N, N below the count, each with its index file), no data file is larger than the
// size, every index entry points at a packet of its own data file, and babeltrace2 reads the traces. Without a
// count, nothing is lost across the files: every event of the app is there (ltt-relayd only: lttng-relayd 2.13
// takes the next file's number modulo the count, and a count of 0 kills it with SIGFPE at the first file change).

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LttTestEnv } from '../cli/ltt-test-env.js';
import { REPO_ROOT } from '../repo-paths.js';
import { BT2, listFiles, startRelay } from './relay-helpers.js';

const skip = !existsSync('/usr/bin/lttng-relayd') ? 'lttng-relayd not installed' : !existsSync(BT2) ? 'babeltrace2 not installed' : false;
const PAGE = 4096;
const INDEX_HEADER_SIZE = 16;
const INDEX_ENTRY_SIZE = 72;
const GEN_UST_EVENTS = join(REPO_ROOT, 'dist', 'test', 'lttng-regression', 'gen-ust-events.js');

/** The session's folder under a relay's output (OUTPUT/HOST/SESSION-DATE). */
function sessionFolder(output: string, session: string): string {
  const files = listFiles(join(output, hostname()));
  const first = files.find((f) => f.startsWith(`${session}-`));
  assert.ok(first, `no ${session} folder in ${files.join(' ')}`);
  return join(output, hostname(), first.split('/')[0]!);
}

/** Checks every data file and its index: sizes within the limit, entries covering the file packet by packet. */
function checkFiles(folder: string, limit: number): string[] {
  const files = listFiles(folder);
  const data = files.filter((f) => /\/chan_\d+_\d+$/.test(f));
  assert.ok(data.length > 0, files.join(' '));
  for (const f of data) {
    const size = statSync(join(folder, f)).size;
    assert.ok(size <= limit, `${f}: ${size} bytes, over the tracefile size`);
    const idxName = f.replace(/\/([^/]+)$/, '/index/$1.idx');
    assert.ok(files.includes(idxName), `${f} has no index file`);
    const idx = readFileSync(join(folder, idxName));
    const entries = (idx.length - INDEX_HEADER_SIZE) / INDEX_ENTRY_SIZE;
    assert.ok(Number.isInteger(entries) && entries > 0, `${idxName}: ${idx.length} bytes`);
    let at = 0;
    for (let i = 0; i < entries; i++) {
      const e = INDEX_HEADER_SIZE + i * INDEX_ENTRY_SIZE;
      assert.equal(Number(idx.readBigUInt64BE(e)), at, `${idxName} entry ${i}: offset`);
      at += Number(idx.readBigUInt64BE(e + 8)) / 8;
    }
    assert.equal(at, size, `${idxName}: its entries cover ${at} of ${size} bytes of ${f}`);
  }
  return files;
}

async function record(kind: 'ltt' | 'lttng', env: LttTestEnv, session: string, count: number | undefined, events: number): Promise<string> {
  const relay = await startRelay(kind, join(env.root, kind, session, 'out'));
  try {
    const run = async (...args: string[]): Promise<void> => {
      const r = await env.ltt(...args);
      assert.equal(r.code, 0, `ltt ${args.join(' ')}: ${r.stderr}`);
    };
    await run('create', session, '-U', `net://127.0.0.1:${relay.ports.control}:${relay.ports.data}`);
    const limits = [`--tracefile-size=${PAGE}`, ...(count === undefined ? [] : [`--tracefile-count=${count}`])];
    await run('enable-channel', '-u', 'chan', '-s', session, `--subbuf-size=${PAGE}`, '--num-subbuf=64', ...limits, '--buffers-uid');
    await run('enable-event', '-u', 'tp:tptest', '-c', 'chan', '-s', session);
    await run('start', session);
    const app = spawnSync(process.execPath, [GEN_UST_EVENTS, '-i', String(events)], { env: env.env, encoding: 'utf8', timeout: 120_000 });
    assert.equal(app.status, 0, app.stderr);
    await run('stop', session);
    await run('destroy', session);
  } finally {
    await relay.stop();
  }
  return sessionFolder(relay.output, session);
}

/** babeltrace2's tp:tptest events; a ring (`ring`) that dropped its oldest files may warn of discarded events. */
function bt2Events(folder: string, ring = false): number {
  const r = spawnSync(BT2, [folder], { encoding: 'utf8', maxBuffer: 256 << 20 });
  assert.equal(r.status, 0, r.stderr);
  const warnings = r.stderr.split('\n').filter((l) => l !== '' && !(ring && /^WARNING: Tracer (may have )?discarded/.test(l)));
  assert.deepEqual(warnings, []);
  return r.stdout.split('\n').filter((l) => / tp:tptest: /.test(l)).length;
}

test('--tracefile-size/--tracefile-count over a relay: lttng-relayd and ltt-relayd store the same ring of files', { skip, timeout: 600_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const stored: Record<string, string[]> = {};
    for (const kind of ['lttng', 'ltt'] as const) {
      const folder = await record(kind, env, `ring${kind}`, 2, 2000);
      const files = checkFiles(folder, PAGE);
      const data = files.filter((f) => /\/chan_\d+_\d+$/.test(f));
      assert.ok(data.some((f) => f.endsWith('_1')), `${kind}: the ring's second file: ${files.join(' ')}`);
      assert.ok(!data.some((f) => /_[2-9]$/.test(f)), `${kind}: files past the count: ${files.join(' ')}`);
      const seen = bt2Events(folder, true);
      assert.ok(seen > 0 && seen < 2000, `${kind}: ${seen} events in a ring of two pages`);
      stored[kind] = files;
    }
    assert.deepEqual(stored.ltt, stored.lttng);
  } finally {
    await env.cleanup();
  }
});

test('--tracefile-size without a count over a relay: every event, in files of the size with their own index', { skip, timeout: 600_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const folder = await record('ltt', env, 'size', undefined, 2000);
    const files = checkFiles(folder, PAGE);
    assert.ok(files.some((f) => /\/chan_\d+_3$/.test(f)), `more than three files: ${files.join(' ')}`);
    assert.equal(bt2Events(folder), 2000);
  } finally {
    await env.cleanup();
  }
});
