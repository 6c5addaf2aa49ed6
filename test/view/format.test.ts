// Formatting corners of the pretty sink, checked against C/libc behaviour: %g (via python3, whose %g is the same
// correctly rounded half-even conversion as glibc's printf), string escaping, integer bases and masking, enum
// label lists, timestamps in several time zones (against `date`, i.e. libc localtime), the negative-time quirk,
// and whole lines built from hand-made messages.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type {
  ClockClass,
  EventClass,
  FieldClass,
  IntegerFieldClass,
  StreamClass,
  StructFieldClass,
  TraceClass,
} from '../../src/ctf/ir/trace-class.js';
import { VariantValue, type EventMessage, type Message, type StreamInfo, type TraceInfo } from '../../src/ctf/ir/message.js';
import { formatG } from '../../src/view/printf-g.js';
import { enumLabels, formatBinary, formatHex, formatInteger, formatOctal, quoteString } from '../../src/view/value-format.js';
import { TimestampFormatter } from '../../src/view/timestamp-format.js';
import { makeCalendar, toEpochSeconds } from '../../src/view/local-time.js';
import { PrettySink } from '../../src/view/pretty-sink.js';
import { OutputWriter } from '../../src/view/output-writer.js';
import { defaultPrettyOptions, type PrettyOptions } from '../../src/view/pretty-options.js';
import { parseTimeBound, parseViewArgs, ViewArgsError } from '../../src/view/view-args.js';

test('%g matches C printf for the documented forms', () => {
  const cases: [number, string][] = [
    [1.5, '1.5'],
    [Math.fround(0.1), '0.1'],
    [NaN, 'nan'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
    [-0, '-0'],
    [Math.fround(1.4e-45), '1.4013e-45'],
    [123456789, '1.23457e+08'],
    [1e100, '1e+100'],
    [-2.5e-7, '-2.5e-07'],
    [100000, '100000'],
    [1e6, '1e+06'],
    [3.14159265, '3.14159'],
    [1024.125, '1024.12'], // exact tie: glibc rounds half to even
    [1234565, '1.23456e+06'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
  ];
  for (const [v, want] of cases) assert.equal(formatG(v), want, String(v));
  const negNan = new Float64Array(new Uint32Array([0, 0xfff80000]).buffer)[0]!;
  assert.equal(formatG(negNan), '-nan');
});

test('%g agrees with python3 (glibc-equivalent rounding) on random doubles', () => {
  const vals: number[] = [];
  for (let i = 0; i < 2000; i++) vals.push((Math.random() - 0.5) * 10 ** (Math.floor(Math.random() * 60) - 30));
  for (let i = 0; i < 500; i++) vals.push(Math.round(Math.random() * 1e7) / 2 ** Math.floor(Math.random() * 8));
  const reprs = vals.map((v) => v.toString());
  const py = execFileSync('python3', ['-c', 'import sys\nfor l in sys.stdin: print("%g" % float(l))'], {
    input: reprs.join('\n') + '\n',
  })
    .toString()
    .split('\n');
  vals.forEach((v, i) => assert.equal(formatG(v), py[i], `value ${reprs[i]}`));
});

test('string escaping follows print_escape_string()', () => {
  assert.equal(quoteString('tab\there nl\nbs\\ dq" sq\' qm?'), '"tab\\there nl\\nbs\\\\ dq\\" sq\\\' qm\\?"');
  assert.equal(quoteString('\x01\x07\x08\x1b\x0c\x0d\x0b\x7f\x1f'), '"\\x01\\a\\b\\e\\f\\r\\v\\x7f\\x1f"');
  assert.equal(quoteString('héllo ✓ 日本'), '"héllo ✓ 日本"');
  assert.equal(quoteString('ab\0cdefg'), '"ab"');
  assert.equal(quoteString(''), '""');
});

test('integer bases and masking', () => {
  assert.equal(formatHex(-2, 16), '0xFFFE');
  assert.equal(formatHex(-1, 12), '0xFFF');
  assert.equal(formatHex(-1, 13), '0xFFFF');
  assert.equal(formatHex(-1n, 64), '0xFFFFFFFFFFFFFFFF');
  assert.equal(formatHex(-1, 64), '0xFFFFFFFFFFFFFFFF');
  assert.equal(formatHex(255, 8), '0xFF');
  assert.equal(formatOctal(-8, 32, true), '077777777770');
  assert.equal(formatOctal(-9, 13, true), '077767');
  assert.equal(formatOctal(0, 32, false), '00');
  assert.equal(formatOctal(-1n, 64, true), '01777777777777777777777');
  assert.equal(formatBinary(5, 8), '0b00000101');
  assert.equal(formatBinary(-1, 3), '0b111');
  assert.equal(formatInteger(18446744073709551615n, 10, 64, false), '18446744073709551615');
  assert.equal(formatInteger(-9223372036854775808n, 10, 64, true), '-9223372036854775808');
});

test('enumeration labels: 2.0.4 list format, mapping order, unknown', () => {
  const maps = [
    { label: 'range 20-29', ranges: [[20n, 29n]] as const },
    { label: 'overlap', ranges: [[25n, 25n]] as const },
    { label: 'quote"d', ranges: [[1n, 1n]] as const },
  ];
  assert.equal(enumLabels(maps, 25), '"range 20-29", "overlap"');
  assert.equal(enumLabels(maps, 1), '"quote\\"d"');
  assert.equal(enumLabels(maps, 99), '<unknown>');
});

function clock(over: Partial<ClockClass> = {}): ClockClass {
  return { name: 'monotonic', frequency: 1e9, offsetSeconds: 0n, offsetCycles: 0n, precision: 0, originIsUnixEpoch: true, ...over };
}

test('local time matches libc localtime for several zones', () => {
  const saved = process.env['TZ'];
  const secs = [0, 1351532897, 1700000001, 1711846800 - 1, 1711846800, 1729990800, 951782400, 4102444800, -79162569, 1696089600];
  try {
    const zones = ['UTC', 'EST5', 'America/New_York', 'Europe/Paris', 'Asia/Kolkata', 'Australia/Lord_Howe'];
    // POSIX rule strings that Node's ICU does not understand (evaluated by local-time.ts like glibc).
    zones.push('CET-1CEST,M3.5.0,M10.5.0/3', '<+0530>-5:30', 'AEST-10AEDT,M10.1.0,M4.1.0/3');
    for (const tz of zones) {
      process.env['TZ'] = tz;
      const cal = makeCalendar(false);
      for (const s of secs) {
        const libc = execFileSync('date', ['-d', '@' + s, '+%Y-%m-%d %H:%M:%S'], { env: { ...process.env, TZ: tz } })
          .toString()
          .trim();
        assert.equal(cal.datePrefix(s) + cal.hms(s), libc, `${tz} @${s}`);
        // mktime() of an ambiguous local time (the repeated hour after a DST end) may pick either instant.
        if (s === 1729990800) continue;
        const t = cal.breakDown(s);
        assert.equal(toEpochSeconds(t, false), s, `mktime round trip ${tz} @${s}`);
      }
    }
  } finally {
    if (saved === undefined) delete process.env['TZ'];
    else process.env['TZ'] = saved;
  }
});

test('timestamps: seconds, date, gmt, cycles, deltas, non-1 GHz clocks', () => {
  const warnings: string[] = [];
  const c = clock();
  const f = new TimestampFormatter({ clockGmt: true, clockSeconds: false, clockDate: true }, (w) => warnings.push(w));
  assert.equal(f.eventWall(c, 1351532897586558519n), '2012-10-29 17:48:17.586558519');
  assert.equal(f.delta(), '+?.?????????');
  assert.equal(f.eventWall(c, 1351532897586634786n), '2012-10-29 17:48:17.586634786');
  assert.equal(f.delta(), '+0.000076267');
  const secs = new TimestampFormatter({ clockGmt: true, clockSeconds: true, clockDate: false }, () => {});
  assert.equal(secs.eventWall(clock({ frequency: 2_500_000 }), 5), '0.000002000');
  assert.equal(secs.eventWall(clock({ offsetSeconds: 1351532897n }), 586558519), '1351532897.586558519');
  const cyc = new TimestampFormatter({ clockGmt: true, clockSeconds: false, clockDate: false }, () => {});
  assert.equal(cyc.eventCycles(1967640734196), '00000001967640734196');
  assert.equal(cyc.delta(), '+????????????');
  assert.equal(cyc.eventCycles(1967640810463), '00000001967640810463');
  assert.equal(cyc.delta(), '+000000076267');
  assert.deepEqual(warnings, []);
});

test('negative times: one warning and -SEC.NS first, then the absolute value through localtime (2.0.4 bug)', () => {
  const warnings: string[] = [];
  const c = clock({ frequency: 1000, offsetSeconds: -2n });
  const f = new TimestampFormatter({ clockGmt: true, clockSeconds: false, clockDate: false }, (w) => warnings.push(w));
  assert.equal(f.eventWall(c, 0), '-2.000000000');
  assert.equal(f.eventWall(c, 500), '00:00:01.500000000');
  assert.equal(f.delta(), '+0.500000000');
  assert.equal(f.eventWall(c, 2500), '00:00:00.500000000');
  assert.deepEqual(warnings, ['[warning] Fallback to [sec.ns] to print negative time value. Use --clock-seconds.\n']);
  const s = new TimestampFormatter({ clockGmt: true, clockSeconds: true, clockDate: false }, () => {});
  assert.equal(s.eventWall(c, 500), '-1.500000000');
  assert.equal(s.eventWall(c, 1999), '-0.001000000');
});

// Hand-built trace model for whole-line tests.
function int(over: Partial<IntegerFieldClass> = {}): IntegerFieldClass {
  return { kind: 'int', align: 8, hidden: false, size: 32, signed: false, byteOrder: 'le', base: 10, encoding: 'none', ...over };
}
function struct(members: [string, FieldClass][], hidden = false): StructFieldClass {
  return { kind: 'struct', align: 8, hidden, members: members.map(([name, fc]) => ({ name, originalName: name, fc })) };
}

function makeTrace(
  env: [string, string | bigint][],
  name: string,
  clk: ClockClass = clock({ offsetSeconds: 1351530929n, offsetCycles: 0n }),
): { trace: TraceInfo; stream: StreamInfo; ec: EventClass } {
  const ec: EventClass = {
    id: 0,
    name: 'heartbeat:msg',
    streamClassId: 0,
    logLevel: 13,
    specificContext: undefined,
    payload: struct([
      ['msg', { kind: 'string', align: 8, hidden: false, encoding: 'utf8' }],
      ['arr', { kind: 'array', align: 8, hidden: false, length: 2, element: int({ signed: true }), isText: false }],
      [
        'v',
        {
          kind: 'variant',
          align: 8,
          hidden: false,
          tagSlot: 0,
          options: [
            { name: 'a', originalName: '_a', fc: int(), ranges: [] },
            { name: 'b', originalName: 'b', fc: struct([['x', int({ base: 16, size: 16, signed: true })]]), ranges: [] },
          ],
        },
      ],
      ['ts', int({ hidden: true })],
    ]),
  };
  const sc: StreamClass = {
    id: 0,
    packetContext: struct([
      ['timestamp_begin', int({ hidden: true })],
      ['cpu_id', int()],
    ]),
    eventCommonContext: struct([
      ['vtid', int()],
      ['vpid', int()],
    ]),
    eventClasses: new Map([[0, ec]]),
    defaultClock: clk,
  };
  const tc: TraceClass = {
    major: 1,
    minor: 8,
    byteOrder: 'le',
    env: new Map(env),
    clocks: new Map([['monotonic', clk]]),
    streamClasses: new Map([[0, sc]]),
    slotCount: 1,
    warnings: [],
    ctfVersion: 1,
    uuid: 'c0ffee00-1234-4abc-8def-0123456789ab',
  };
  const trace: TraceInfo = { tc, name, path: '/t' };
  const stream: StreamInfo = { trace, sc, id: 0, name: '/t/chan_0' };
  return { trace, stream, ec };
}

function render(opts: Partial<PrettyOptions>, msgs: Message[]): { out: string; err: string } {
  let err = '';
  const o = OutputWriter.memory();
  const sink = new PrettySink({ ...defaultPrettyOptions(), color: 'never', ...opts }, o, (w) => (err += w));
  sink.consume(msgs);
  return { out: o.text(), err };
}

test('whole lines: default header, env fields, scopes, hidden fields, arrays, variants', () => {
  const { stream, ec } = makeTrace([['procname', 'wk-heartbeat'], ['vpid', 3208n], ['domain', 'ust']], '');
  const ev = (cycles: number, v: VariantValue): EventMessage => ({
    type: 'event',
    stream,
    ec,
    cycles,
    packetContext: { cpu_id: 2 },
    commonContext: { vtid: 3214, vpid: 3208 },
    payload: { msg: 'heartbeat', arr: [-1, 2], v },
  });
  const msgs: Message[] = [ev(1967640734196 - 1351530929 * 0, new VariantValue(0, 7)), ev(1967640810463, new VariantValue(1, { x: -2 }))];
  const def = render({ clockGmt: true }, msgs).out.split('\n');
  assert.equal(
    def[0],
    '[17:48:16.640734196] (+?.?????????) wk-heartbeat:(3208) heartbeat:msg: { cpu_id = 2 }, { vtid = 3214, vpid = 3208 }, { msg = "heartbeat", arr = [ [0] = -1, [1] = 2 ], v = { 7 } }',
  );
  assert.equal(
    def[1],
    '[17:48:16.640810463] (+0.000076267) wk-heartbeat:(3208) heartbeat:msg: { cpu_id = 2 }, { vtid = 3214, vpid = 3208 }, { msg = "heartbeat", arr = [ [0] = -1, [1] = 2 ], v = { { x = 0xFFFE } } }',
  );
  const all = render({ clockGmt: true, clockSeconds: true, noDelta: true, nameHeader: true, nameScope: true, fieldTrace: true, fieldDomain: true, fieldLoglevel: true, fieldEmf: true }, msgs.slice(0, 1)).out;
  assert.equal(
    all,
    'timestamp = 1351532896.640734196, trace = , , trace:domain = ust, trace:procname = wk-heartbeat, trace:vpid = (3208), loglevel = TRACE_DEBUG_LINE (13), name = heartbeat:msg, stream.packet.context = { cpu_id = 2 }, stream.event.context = { vtid = 3214, vpid = 3208 }, event.fields = { msg = "heartbeat", arr = [ [0] = -1, [1] = 2 ], v = { 7 } }\n',
  );
  const none = render({ clockGmt: true, noDelta: true, namePayload: false, nameContext: false }, msgs.slice(0, 1)).out;
  assert.equal(none, '[17:48:16.640734196] wk-heartbeat:(3208) heartbeat:msg: { 2 }, { 3214, 3208 }, { "heartbeat", [ -1, 2 ], { 7 } }\n');
  const traceOnly = render({ clockGmt: true, fieldTrace: true, fieldHostname: false, fieldProcname: false, fieldVpid: false }, msgs.slice(0, 1)).out;
  assert.ok(traceOnly.startsWith('[17:48:16.640734196] (+?.?????????) heartbeat:msg: '), traceOnly);
});

test('-f trace concatenates the trace name with no separator', () => {
  const { stream, ec } = makeTrace([['hostname', 'host'], ['domain', 'ust']], 'host');
  const msg: EventMessage = { type: 'event', stream, ec, cycles: 0, packetContext: { cpu_id: 1 }, commonContext: { vtid: 1, vpid: 1 }, payload: { msg: '', arr: [], v: new VariantValue(0, 1) } };
  const { out } = render({ clockGmt: true, fieldTrace: true, fieldDomain: true, fieldLoglevel: true, fieldEmf: true }, [msg]);
  assert.ok(out.includes(') hosthost:ust:TRACE_DEBUG_LINE (13) heartbeat:msg: { cpu_id = 1 }'), out);
  assert.ok(out.endsWith('{ msg = "", arr = [ ], v = { 1 } }\n'), out);
});

test('discarded events and packets warnings', () => {
  const { stream } = makeTrace([['hostname', 'synth-host']], 'synth-host');
  const { err } = render({ clockGmt: true }, [
    { type: 'discarded-events', stream, count: 5, beginCycles: 1902653285, endCycles: 2171088642 },
    { type: 'discarded-packets', stream, count: 1, beginCycles: 1902653285, endCycles: 2171088639 },
    { type: 'discarded-events', stream, count: undefined, beginCycles: undefined, endCycles: undefined },
  ]);
  assert.equal(
    err,
    'WARNING: Tracer discarded 5 events between [17:15:30.902653285] and [17:15:31.171088642] in trace "synth-host" (UUID: c0ffee00-1234-4abc-8def-0123456789ab) within stream "/t/chan_0" (stream class ID: 0, stream ID: 0).\n' +
      'WARNING: Tracer discarded 1 packet between [17:15:30.902653285] and [17:15:31.171088639] in trace "synth-host" (UUID: c0ffee00-1234-4abc-8def-0123456789ab) within stream "/t/chan_0" (stream class ID: 0, stream ID: 0).\n' +
      'WARNING: Tracer may have discarded events (unknown time range) in trace "synth-host" (UUID: c0ffee00-1234-4abc-8def-0123456789ab) within stream "/t/chan_0" (stream class ID: 0, stream ID: 0).\n',
  );
});

test('CLI arguments: names/fields lists, time bounds, errors', () => {
  const a = parseViewArgs(['-n', 'payload', 'x']);
  assert.equal(a.pretty.namePayload, true);
  assert.equal(a.pretty.nameContext, false);
  const b = parseViewArgs(['--fields=trace:hostname,trace:procname', 'x']);
  assert.deepEqual([b.pretty.fieldHostname, b.pretty.fieldProcname, b.pretty.fieldVpid, b.pretty.fieldTrace], [true, true, false, false]);
  const c = parseViewArgs(['-f', 'all', '-n', 'all', 'x']);
  assert.equal(c.pretty.fieldCallsite && c.pretty.nameHeader && c.pretty.nameScope, true);
  const d = parseViewArgs(['--timerange=[2012-10-29 17:48:17.5,17:48:18]', 'x']);
  assert.deepEqual(d.begin, { kind: 'date-time', year: 2012, month: 10, day: 29, hour: 17, minute: 48, second: 17, ns: 500000000 });
  assert.deepEqual(d.end, { kind: 'time-of-day', hour: 17, minute: 48, second: 18, ns: 0 });
  assert.deepEqual(parseTimeBound('-1.5'), { kind: 'ns', ns: -1500000000n });
  assert.equal(parseTimeBound('17:48:17.5x'), undefined);
  assert.equal(parseViewArgs(['-o', 'dummy', 'x']).sink, 'dummy');
  assert.equal(parseViewArgs(['-c', 'sink.utils.counter', 'x']).sink, 'counter');
  assert.equal(parseViewArgs(['--clock-offset-ns=-5', 'x']).clockOffsetNs, -5n);
  assert.throws(() => parseViewArgs(['--bogus', 'x']), ViewArgsError);
  assert.throws(() => parseViewArgs(['-n', 'all,none', 'x']), ViewArgsError);
  assert.throws(() => parseViewArgs(['--color=sometimes', 'x']), ViewArgsError);
  assert.throws(() => parseViewArgs(['--begin=yesterday', 'x']), ViewArgsError);
  assert.throws(() => parseViewArgs([]), ViewArgsError);
});

test('output writer: huge strings, flushes in the middle of lines, UTF-8 and escapes', () => {
  const o = OutputWriter.memory();
  const big = 'x'.repeat(3_000_000) + '\n"é✓😀\x7f';
  o.qstr(big);
  o.byte(10);
  let expected = quoteString(big) + '\n';
  for (let i = 0; i < 300_000; i++) {
    o.ensure(64);
    o.uint(i * 7919);
    o.byte(32);
    o.int(-i);
    o.byte(10);
    expected += `${i * 7919} ${-i}\n`;
  }
  o.str('tail ünïcode');
  expected += 'tail ünïcode';
  assert.equal(o.text(), expected);
});

test('ltt view | head: a reader that goes away ends the output quietly', () => {
  let root = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(root, 'package.json'))) root = dirname(root);
  const trace = resolve(root, '..', 'shared', 'ctf-traces', 'succeed', 'succeed1');
  if (!existsSync(trace) || !existsSync(join(root, 'dist', 'src', 'view', 'run-view.js'))) return;
  const r = spawnSync('sh', ['-c', `node ${JSON.stringify(join(root, 'bin', 'ltt'))} view ${JSON.stringify(trace)} | head -3`], {
    encoding: 'utf8',
  });
  assert.equal(r.stdout, 'string: { str = "akonadi" }\nstring: { str = "alsa-lib" }\nstring: { str = "ao" }\n');
  assert.equal(r.stderr, '');
});

test('in-place number writers', async () => {
  const { writeHex32, writeUint32 } = await import('../../src/view/output-writer.js');
  const b = new Uint8Array(32);
  for (const n of [0, 1, 9, 10, 15, 16, 255, 4096, 65535, 0xdeadbeef, 4294967295, 1000000000, 999999999]) {
    let end = writeHex32(b, 0, n);
    assert.equal(Buffer.from(b.subarray(0, end)).toString('latin1'), '0x' + n.toString(16).toUpperCase());
    end = writeUint32(b, 0, n);
    assert.equal(Buffer.from(b.subarray(0, end)).toString('latin1'), String(n));
  }
});

test('uint9 pads to nine digits', () => {
  const o = OutputWriter.memory();
  for (const n of [0, 7, 10, 99, 100, 123456789, 999999999, 500000000, 1000]) {
    o.uint9(n);
    o.byte(10);
  }
  assert.equal(o.text(), ['000000000', '000000007', '000000010', '000000099', '000000100', '123456789', '999999999', '500000000', '000001000', ''].join('\n'));
});

test('whole lines: negative times through the sink (first -SEC.NS + warning, then the 2.0.4 bug), same second cache', () => {
  const { stream, ec } = makeTrace([], '', clock({ frequency: 1000, offsetSeconds: -2n }));
  const ev = (cycles: number): EventMessage => ({
    type: 'event',
    stream,
    ec,
    cycles,
    packetContext: { cpu_id: 0 },
    commonContext: { vtid: 1, vpid: 2 },
    payload: { msg: 'm', arr: [], v: new VariantValue(0, 1) },
  });
  const { out, err } = render({ clockGmt: true, noDelta: true }, [ev(0), ev(500), ev(1000), ev(1999), ev(2000), ev(2500), ev(3000)]);
  const stamps = out.split('\n').filter((l) => l !== '').map((l) => l.slice(0, l.indexOf(']') + 1));
  assert.deepEqual(stamps, [
    '[-2.000000000]',
    '[00:00:01.500000000]',
    '[00:00:01.000000000]',
    '[00:00:00.001000000]',
    '[00:00:00.000000000]',
    '[00:00:00.500000000]',
    '[00:00:01.000000000]',
  ]);
  assert.equal(err, '[warning] Fallback to [sec.ns] to print negative time value. Use --clock-seconds.\n');
});

test('whole lines: an array of 200k elements and a 2 MB string in one event (buffer flushes inside the line)', () => {
  const { stream, ec } = makeTrace([], '');
  const arr = Array.from({ length: 200_000 }, (_, i) => i - 100_000);
  const msg = 'é'.repeat(1_000_000);
  const m: EventMessage = { type: 'event', stream, ec, cycles: 0, packetContext: { cpu_id: 0 }, commonContext: { vtid: 1, vpid: 2 }, payload: { msg, arr, v: new VariantValue(0, 3) } };
  const { out } = render({ clockGmt: true, noDelta: true, namePayload: false }, [m, m]);
  const line = `[17:15:29.000000000] heartbeat:msg: { cpu_id = 0 }, { vtid = 1, vpid = 2 }, { "${msg}", [ ${arr.join(', ')} ], { 3 } }\n`;
  assert.equal(out, line + line);
});
