// ltt/auto: `node --import ltt/auto app.mjs` (or `require('ltt/auto')` first thing in a CommonJS app) traces an
// unmodified app as ltt/ust `node:*` events: HTTP server requests, outgoing HTTP and fetch requests, connects,
// DNS lookups, child processes, worker threads, the event loop, and which request each callback works for.
// Record them with `ltt enable-event -u 'node:*'` (plus `ltt add-context -u -t vpid -t vtid`) beside the kernel's
// sched and syscall events, and read them with `ltt analyze requests`.

import '../ust/index.js';
import { isInternalThread } from '../ust/internal-thread.js';
import { install } from './instrument.js';

if (!isInternalThread()) install();
