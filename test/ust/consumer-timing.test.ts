// The thread that drains ltt/ust's rings runs ahead of the app's threads when it may (src/ust/consumer-priority.ts):
// a full-speed thread fills its ring in milliseconds, and a consumer waiting its turn on a busy machine loses
// events. Root may lower a thread's nice value: the consumer thread then runs CONSUMER_NICE_BOOST below the app's
// threads, and libuv's pool, shared with the app, keeps the app's priority. Without the right, nothing changes.
// LTT_UST_SUBBUF_LOG shows how long each sub-buffer waited for the consumer and took to write (trace-writer.ts).

import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { INDEX_ENTRY_SIZE, INDEX_HEADER_SIZE } from '../../src/ctf/writer/index-file.js';
import { CONSUMER_NICE_BOOST } from '../../src/ust/consumer-priority.js';
import { cleanup, runNode, tempDir, traceDirOf, writeScript } from './helpers.js';

const APP = `
import { readdirSync, readFileSync } from 'node:fs';
const ev = ust.provider('app').event('ev', [ust.int32('i')]);
for (let i = 0; i < 100000; i++) ev.emit(i);
await new Promise((r) => setTimeout(r, 300));
const nice = {};
for (const t of readdirSync('/proc/self/task')) {
  const st = readFileSync('/proc/self/task/' + t + '/stat', 'utf8');
  nice[t] = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[16]);
}
process.stdout.write(JSON.stringify({ main: nice[process.pid], nice }) + '\\n');
`;

test('the consumer thread runs at a lower nice value than the app; the app and its thread pool keep theirs', () => {
  const dir = tempDir('priority');
  try {
    const script = writeScript(dir, 'app.mjs', APP);
    // nice(1) makes the app's own value visible: the consumer's is relative to it.
    const r = runNode(['-e', `require('os').setPriority(3); require('child_process').execFileSync(process.execPath, [${JSON.stringify(script)}], { stdio: 'inherit' })`], { LTT_UST_OUTPUT: `${dir}/out`, LTT_UST_EVENTS: 'app:*' });
    assert.equal(r.code, 0, r.stderr);
    const { main, nice } = JSON.parse(r.stdout) as { main: number; nice: Record<string, number> };
    assert.equal(main, 3);
    const boosted = Object.values(nice).filter((n) => n !== main);
    if (process.getuid?.() !== 0) {
      assert.deepEqual(boosted, [], 'without CAP_SYS_NICE every thread keeps the app nice value');
      return;
    }
    assert.ok(boosted.length >= 1, `a thread at nice ${main - CONSUMER_NICE_BOOST}: ${r.stdout}`);
    for (const n of boosted) assert.equal(n, main - CONSUMER_NICE_BOOST, r.stdout);
    // The consumer worker and nothing it shares with the app: libuv's 4 pool threads, V8's helpers stay at 3.
    assert.ok(boosted.length <= 2, `only the consumer's own threads: ${r.stdout}`);
  } finally {
    cleanup(dir);
  }
});

test('LTT_UST_SUBBUF_LOG: one line per sub-buffer written, its close-to-pickup and write times in ms', () => {
  const dir = tempDir('subbuf-log');
  try {
    const script = writeScript(dir, 'app.mjs', APP);
    const log = join(dir, 'subbuf.log');
    const r = runNode([script], { LTT_UST_OUTPUT: `${dir}/out`, LTT_UST_EVENTS: 'app:*', LTT_UST_SUBBUF_SIZE: '64k', LTT_UST_BLOCKING_TIMEOUT: 'inf', LTT_UST_SUBBUF_LOG: log });
    assert.equal(r.code, 0, r.stderr);
    const rows = readFileSync(log, 'utf8').trim().split('\n');
    for (const row of rows) assert.match(row, /^\d+\.\d{3} \d+\.\d{3}$/);
    // Every packet in the index but perhaps the open one the final drain rescues at exit (not logged).
    const index = join(traceDirOf(`${dir}/out`), 'index');
    const packets = readdirSync(index).reduce((n, f) => n + (statSync(join(index, f)).size - INDEX_HEADER_SIZE) / INDEX_ENTRY_SIZE, 0);
    assert.ok(rows.length >= packets - 1 && rows.length <= packets && rows.length >= 10, `${rows.length} rows, ${packets} packets`);
  } finally {
    cleanup(dir);
  }
});
