// LTTng's test application gen-ust-events (tests/utils/testapp/gen-ust-events), on ltt/ust: emits tp:tptest
// ITER times (-i, default 100; negative: until SIGTERM), sleeping -w USEC between events, with its file
// handshakes: -a touch after the first event, -b wait for a file before the last, -c touch before the last,
// -d wait for a file before exiting, -e touch before exiting, -f emit tp:end last. The run.mjs runner installs
// it where LTTng's scripts look for the C program.

import './process-name.js';
import * as ust from 'ltt/ust';
import { atoi, parseOptions, pause, quitRequested, runApp, touch, waitOnFile } from './test-app.js';
import { TPTEST_FIELDS, tptestValues } from './tptest-fields.js';

const tp = ust.provider('tp');
// tp.h's field order: the shared fields with gen-ust-events' own among them.
const F = TPTEST_FIELDS;
const tptest = tp.event('tptest', [
  F[0], F[1], F[2], ust.int32('signedfield'), F[3], F[4], F[5], F[6],
  ust.array('arrfield3', ust.uint32('', { byteOrder: 'be' }), 3),
  F[7], F[8], ust.sequence('seqfield3', ust.uint32('', { byteOrder: 'be' })), ust.sequence('seqfield4', ust.int64()),
  F[9], ust.string('stringfield2'), F[10], F[11],
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

const OPTIONS = {
  long: {
    iter: 'i', wait: 'w', 'sync-after-first-event': 'a', 'sync-before-last-event': 'b',
    'sync-before-last-event-touch': 'c', 'sync-before-exit': 'd', 'sync-before-exit-touch': 'e', 'emit-end-event': 'f',
  },
  flags: 'f',
};

const NET_VALUES = [1, 2, 3];
const o = parseOptions('gen-ust-events', process.argv.slice(2), OPTIONS);
if (o === undefined) process.exitCode = 1;
else {
  runApp('gen-ust-events', async () => {
    const iter = o.has('i') ? atoi(o.get('i')) : 100;
    const waitUs = atoi(o.get('w'));
    for (let i = 0; iter < 0 || i < iter; i++) {
      if (iter >= 0 && i === iter - 1) {
        if (o.has('c')) touch(o.get('c')!);
        if (o.has('b')) await waitOnFile(o.get('b')!);
      }
      if (tptest.enabled) {
        const v = tptestValues(i);
        tptest.emit(v[0], v[1], v[2], -1, v[3], v[4], v[5], v[6], NET_VALUES, v[7], v[8], NET_VALUES, v[5], v[9], '\\*',
          v[10], v[11], 0, 23, 27, 28, 202, 304, -1);
      }
      if (i === 0 && o.has('a')) touch(o.get('a')!);
      await pause(i, waitUs);
      if (quitRequested()) break;
    }
    if (o.has('f') && end.enabled) end.emit();
    if (o.has('e')) touch(o.get('e')!);
    if (o.has('d')) await waitOnFile(o.get('d')!);
  });
}
