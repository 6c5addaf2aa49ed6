// LTTng's test application gen-ust-nevents (tests/utils/testapp/gen-ust-nevents), on ltt/ust: ITER times
// (-i, default 100), tp:tptest1 to tp:tptest5 with the same fields, sleeping -w USEC between iterations; -m
// creates a file at start, -b waits for one before the first event.

import './process-name.js';
import * as ust from 'ltt/ust';
import { atoi, parseOptions, pause, quitRequested, runApp, touch, waitOnFile } from './test-app.js';
import { TPTEST_FIELDS, tptestValues } from './tptest-fields.js';

const tp = ust.provider('tp');
const events = [1, 2, 3, 4, 5].map((n) => tp.event(`tptest${n}`, TPTEST_FIELDS));

const o = parseOptions('gen-ust-nevents', process.argv.slice(2), {
  long: { iter: 'i', wait: 'w', 'create-in-main': 'm', 'wait-before-first-event': 'b' },
  flags: '',
});
if (o === undefined) process.exitCode = 1;
else {
  runApp('gen-ust-nevents', async () => {
    const iter = o.has('i') ? atoi(o.get('i')) : 100;
    if (o.has('m')) touch(o.get('m')!);
    if (o.has('b')) await waitOnFile(o.get('b')!);
    for (let i = 0; i < iter; i++) {
      const v = tptestValues(i);
      for (const e of events) if (e.enabled) e.emit(...v);
      await pause(i, atoi(o.get('w')));
      if (quitRequested()) break;
    }
  });
}
