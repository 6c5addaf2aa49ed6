// LTTng's test application gen-ust-events (tests/utils/testapp/gen-ust-events), on ltt/ust: emits tp:tptest
// ITER times (-i, default 100; negative: until SIGTERM), sleeping -w USEC between events, with its file
// handshakes: -a touch after the first event, -b wait for a file before the last, -c touch before the last,
// -d wait for a file before exiting, -e touch before exiting, -f emit tp:end last. Long options as the C app's
// getopt_long table; a positional argument aborts, as there (callers would otherwise hang). The run.mjs
// runner installs it where LTTng's scripts look for the C program.

import './process-name.js';
import { closeSync, existsSync, openSync } from 'node:fs';
import * as ust from 'ltt/ust';

const tp = ust.provider('tp');
// The fields of tp.h's tp:tptest, in its order and with its types (long is 64-bit here; the sequences' lengths
// are ltt/ust's 32-bit ones where lttng-ust records a size_t).
const net = { byteOrder: 'be' } as const;
const tptest = tp.event('tptest', [
  ust.int32('intfield'),
  ust.int32('intfield2', { hex: true }),
  ust.int64('longfield'),
  ust.int32('signedfield'),
  ust.int32('netintfield', net),
  ust.int32('netintfieldhex', { ...net, hex: true }),
  ust.array('arrfield1', ust.int64(), 3),
  ust.array('arrfield2', ust.int8('', { text: true }), 10),
  ust.array('arrfield3', ust.uint32('', net), 3),
  ust.sequence('seqfield1', ust.int8()),
  ust.sequence('seqfield2', ust.int8('', { text: true })),
  ust.sequence('seqfield3', ust.uint32('', net)),
  ust.sequence('seqfield4', ust.int64()),
  ust.string('stringfield'),
  ust.string('stringfield2'),
  ust.float32('floatfield'),
  ust.float64('doublefield'),
  ...(['enum0', 'enum23', 'enum27', 'enum28', 'enum202', 'enum304', 'enumnegative'] as const).map((name) =>
    ust.enumeration(name, ust.int32(), {
      'AUTO: EXPECT 0': 0,
      'VALUE: 23': 23,
      'VALUE: 27': 27,
      'AUTO: EXPECT 28': 28,
      'RANGE: 101 TO 303': [101, 303],
      'AUTO: EXPECT 304': 304,
      'VALUE: -1': -1,
    }),
  ),
] as const);
const end = tp.event('end', []);

interface Options {
  iter: number;
  waitUs: number;
  afterFirst?: string;
  beforeLast?: string;
  beforeLastTouch?: string;
  beforeExit?: string;
  beforeExitTouch?: string;
  emitEnd: boolean;
}

const LONG: Record<string, string> = {
  iter: 'i', wait: 'w', 'sync-after-first-event': 'a', 'sync-before-last-event': 'b',
  'sync-before-last-event-touch': 'c', 'sync-before-exit': 'd', 'sync-before-exit-touch': 'e', 'emit-end-event': 'f',
};

function parseArgs(argv: string[]): Options | undefined {
  const o: Options = { iter: 100, waitUs: 0, emitEnd: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let letter: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      letter = LONG[eq > 0 ? arg.slice(2, eq) : arg.slice(2)];
      inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    } else if (/^-[iwabcdef]/.test(arg)) {
      letter = arg[1];
      inline = arg.length > 2 ? arg.slice(2) : undefined;
    } else {
      process.stderr.write('Error: takes long options only.\n');
      process.abort();
    }
    if (letter === undefined) {
      process.stderr.write(`gen-ust-events: unrecognized option '${arg}'\n`);
      return undefined;
    }
    if (letter === 'f') {
      o.emitEnd = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) {
      process.stderr.write(`gen-ust-events: option '${arg}' requires an argument\n`);
      return undefined;
    }
    // atoi: leading digits, else 0.
    const int = (): number => Number.parseInt(value, 10) || 0;
    if (letter === 'i') o.iter = int();
    else if (letter === 'w') o.waitUs = int();
    else if (letter === 'a') o.afterFirst = value;
    else if (letter === 'b') o.beforeLast = value;
    else if (letter === 'c') o.beforeLastTouch = value;
    else if (letter === 'd') o.beforeExit = value;
    else o.beforeExitTouch = value;
  }
  return o;
}

function touch(path: string): void {
  closeSync(openSync(path, 'w', 0o700));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitOnFile(path: string): Promise<void> {
  while (!existsSync(path)) await sleep(10);
}

const values = [1, 2, 3];
const text = Buffer.from('test\0\0\0\0\0\0');
const netValues = [1, 2, 3];

async function run(o: Options): Promise<void> {
  let quit = false;
  process.on('SIGTERM', () => (quit = true));
  const textBytes = [...text];
  const seqText = textBytes.slice(0, 4);
  for (let i = 0; o.iter < 0 || i < o.iter; i++) {
    if (o.iter >= 0 && i === o.iter - 1) {
      if (o.beforeLastTouch) touch(o.beforeLastTouch);
      if (o.beforeLast) await waitOnFile(o.beforeLast);
    }
    if (tptest.enabled) {
      tptest.emit(i, i, i, -1, i, i, values, textBytes, netValues, seqText, seqText, netValues, values, 'test', '\\*',
        2222, 2, 0, 23, 27, 28, 202, 304, -1);
    }
    if (i === 0 && o.afterFirst) touch(o.afterFirst);
    // Signals (SIGTERM ends the loop) and the agent's messages need the event loop now and then.
    if (o.waitUs > 0) await sleep(o.waitUs / 1000);
    else if (i % 1000 === 999) await new Promise((resolve) => setImmediate(resolve));
    if (quit) break;
  }
  if (o.emitEnd && end.enabled) end.emit();
  if (o.beforeExitTouch) touch(o.beforeExitTouch);
  if (o.beforeExit) await waitOnFile(o.beforeExit);
}

const options = parseArgs(process.argv.slice(2));
if (options === undefined) process.exitCode = 1;
else {
  run(options).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`gen-ust-events: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
