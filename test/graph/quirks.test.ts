// Tracer quirks change packet times (never event times) exactly as babeltrace2's src.ctf.fs does: compared
// with upstream's sink.text.details expectations (babeltrace-expect/plugins/src.ctf.fs/succeed/*.expect),
// which give the clock value of every packet beginning/end message.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CORPUS, lines, run } from './corpus-helpers.js';

const KINDS: Record<string, string> = {
  'Stream beginning': 'stream-beginning',
  'Stream end': 'stream-end',
  'Packet beginning': 'packet-beginning',
  'Packet end': 'packet-end',
  Event: 'event',
  'Discarded events': 'discarded-events',
  'Discarded packets': 'discarded-packets',
};

/** (message type, cycles) pairs from a details expectation, both compact and multi-line forms. */
function detailsTimeline(file: string): Array<[string, string]> {
  const ls = lines(file);
  const out: Array<[string, string]> = [];
  const clockOf = (l: string | undefined): string => {
    const m = l === undefined ? null : /^\[(Unknown|[\d,]+)[ \]]/.exec(l);
    return !m || m[1] === 'Unknown' ? '' : m[1]!.replace(/,/g, '');
  };
  for (let i = 0; i < ls.length; i++) {
    const l = ls[i]!;
    const compact = /^\[[^\]]*\] \{[^}]*\} (.*)$/.exec(l);
    const kindText = compact ? compact[1]! : l;
    const kind = Object.keys(KINDS).find((k) => kindText.startsWith(k));
    if (!kind) continue;
    // Multi-line form: `[time]` (when there is a clock), `{Trace ...}`, then the kind.
    const cycles = compact ? clockOf(l) : ls[i - 1]?.startsWith('{Trace') ? clockOf(ls[i - 2]) : '';
    out.push([KINDS[kind]!, cycles]);
  }
  return out;
}

async function ourTimeline(trace: string): Promise<Array<[string, string]>> {
  const { messages, error } = await run([join(CORPUS, trace)]);
  assert.equal(error, undefined);
  return messages.map((m) => {
    let c: number | bigint | undefined;
    if (m.type === 'event' || m.type === 'packet-beginning' || m.type === 'packet-end') c = m.cycles;
    else if (m.type === 'discarded-events' || m.type === 'discarded-packets') c = m.beginCycles;
    return [m.type, c === undefined ? '' : String(c)];
  });
}

const EXP = 'babeltrace-expect/plugins/src.ctf.fs/succeed';

test('barectf < 2.3.1 "event before packet": packet beginning delayed and lowered to the first event', async () => {
  const exp = detailsTimeline(`${EXP}/trace-barectf-event-before-packet.expect`);
  assert.ok(exp.length >= 8);
  assert.deepEqual(await ourTimeline('succeed/barectf-event-before-packet'), exp);
});

for (const [trace, file] of [
  ['succeed/lttng-crash', 'trace-lttng-crash.expect'],
  ['succeed/lttng-event-after-packet', 'trace-lttng-event-after-packet.expect'],
] as const) {
  test(`${trace}: packet end times`, async () => {
    const exp = detailsTimeline(`${EXP}/${file}`);
    assert.ok(exp.length > 0);
    const ours = (await ourTimeline(trace)).filter(([k]) => k === 'packet-end');
    assert.deepEqual(ours, exp);
  });
}

for (const [trace, file] of [
  ['succeed/2packets', 'trace-2packets.expect'],
  ['succeed/smalltrace', 'trace-smalltrace.expect'],
  ['succeed/array-align-elem', 'trace-array-align-elem.expect'],
  ['succeed/session-rotation', 'trace-session-rotation.expect'],
] as const) {
  test(`${trace}: every message and its time as in babeltrace2's details`, async () => {
    const exp = detailsTimeline(`${EXP}/${file}`);
    assert.ok(exp.length > 0);
    assert.deepEqual(await ourTimeline(trace), exp);
  });
}
