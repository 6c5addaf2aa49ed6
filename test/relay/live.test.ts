// ltt-relayd's live port (LTTng's live viewer protocol 2.4) against babeltrace2's lttng-live source, with a
// real lttng-sessiond 2.13 recording a live session (`lttng create --live`) of the texts app:
//   - `babeltrace2 -i lttng-live net://localhost:PORT` lists the sessions as it lists lttng-relayd's, and
//     `ltt view -i lttng-live net://localhost:PORT` prints babeltrace2's listing of either relay;
//   - `babeltrace2 -i lttng-live net://localhost:PORT/host/HOST/SESSION` follows the session: events show up
//     while the session records (before `lttng stop`), all of them by the end, and babeltrace2 then ends by
//     itself (the streams hang up), printing the events it prints of the stored trace.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../repo-paths.js';
import { babeltraceText, BT2, missingPeers, startLiveRecording, startRelay, type Relay } from './relay-helpers.js';

const skip = missingPeers();

test('babeltrace2 lists the live sessions of ltt-relayd as those of lttng-relayd; ltt view lists both as babeltrace2', { skip, timeout: 300_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'ltt-relay-list-'));
  try {
    const listings: string[] = [];
    for (const kind of ['lttng', 'ltt'] as const) {
      const relay = await startRelay(kind, join(work, kind, 'out'));
      try {
        const rec = startLiveRecording(relay, 'listed', 20, 250000, 0, join(work, kind, 'go'));
        await rec.reached('started');
        const r = spawnSync(BT2, ['-i', 'lttng-live', `net://localhost:${relay.ports.live}`], { encoding: 'utf8', timeout: 30_000 });
        assert.equal(r.status, 0, r.stderr);
        listings.push(r.stdout.split(String(relay.ports.live)).join('PORT'));
        // ltt view lists them as babeltrace2 does, from either relay.
        const ours = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'ltt'), 'view', '-i', 'lttng-live', `net://localhost:${relay.ports.live}`], { encoding: 'utf8', timeout: 30_000 });
        assert.equal(ours.stderr, '');
        assert.equal(ours.stdout, r.stdout, `ltt view's listing of ${kind}-relayd`);
        rec.go();
        await rec.done;
      } finally {
        await relay.stop();
      }
    }
    assert.equal(listings[1], listings[0]);
    assert.match(listings[1]!, new RegExp(`^net://localhost:PORT/host/${hostname()}/listed \\(timer = 250000, \\d+ stream\\(s\\), 0 client\\(s\\) connected\\)\\n$`));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

interface Followed {
  out: string;
  err: string;
  beforeStop: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One live recording followed by babeltrace2 from before the app starts to the session's destruction. */
async function follow(relay: Relay, session: string, events: number, goFile: string): Promise<Followed> {
  // Events 20 ms apart, a 100 ms live timer.
  const rec = startLiveRecording(relay, session, events, 100000, 20000, goFile);
  await rec.reached('started');
  const viewer = spawn(BT2, ['-i', 'lttng-live', `net://localhost:${relay.ports.live}/host/${hostname()}/${session}`], {
    env: { ...process.env, TZ: 'UTC' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const f: Followed = { out: '', err: '', beforeStop: -1, code: null, signal: null };
  viewer.stdout.setEncoding('utf8').on('data', (t: string) => (f.out += t));
  viewer.stderr.setEncoding('utf8').on('data', (t: string) => (f.err += t));
  const ended = new Promise<void>((resolve) =>
    viewer.once('exit', (code, signal) => {
      f.code = code;
      f.signal = signal;
      resolve();
    }),
  );
  // babeltrace2 attaches (seek LAST) before the app registers: all the app's streams are new, read from the start.
  await new Promise((r) => setTimeout(r, 1000));
  rec.go();
  await rec.reached('stopping');
  f.beforeStop = f.out.split('\n').length - 1;
  await rec.done;
  const timer = setTimeout(() => viewer.kill('SIGKILL'), 30_000);
  await ended;
  clearTimeout(timer);
  return f;
}

test('babeltrace2 follows a live session on ltt-relayd: events before stop, all of them by the end', { skip, timeout: 600_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'ltt-relay-live-'));
  const relay = await startRelay('ltt', join(work, 'out'));
  try {
    const events = 150;
    // babeltrace2 2.0.4's lttng-live sometimes dies of SIGSEGV on such a session, with lttng-relayd too (2 runs
    // of 8 measured): such a run is recorded again, under another session name.
    let f: Followed | undefined;
    let session = '';
    for (let attempt = 1; attempt <= 4 && (f === undefined || f.signal === 'SIGSEGV'); attempt++) {
      session = `followed${attempt}`;
      f = await follow(relay, session, events, join(work, `go${attempt}`));
    }
    assert.equal(f!.code, 0, `babeltrace2 did not end by itself after the session's destruction (${f!.signal}): ${f!.err}`);
    assert.ok(f!.beforeStop > 0, 'no event reached the live viewer while the session recorded');
    assert.equal(f!.out.split('\n').length - 1, events, f!.err);

    const host = readdirSync(relay.output)[0]!;
    const stored = join(relay.output, host, readdirSync(join(relay.output, host)).find((d) => d.startsWith(`${session}-`))!);
    const bt = spawnSync(BT2, [stored], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    // The same events (time, host, name, cpu) as babeltrace2 reads from the stored trace. Field values are not
    // compared: babeltrace2 prints an empty text field as the last text its reused event object held, and
    // lttng-live reuses other objects than ctf.fs.
    const eventsOf = (text: string) => text.split('\n').map((l) => /^\[[^\]]+\] \([^)]*\) \S+ \S+ \{ cpu_id = \d+ \}/.exec(l)?.[0] ?? l);
    assert.deepEqual(eventsOf(f!.out), eventsOf(bt.stdout));
    assert.equal(babeltraceText([stored]).lines, events);
  } finally {
    await relay.stop();
    rmSync(work, { recursive: true, force: true });
  }
});
