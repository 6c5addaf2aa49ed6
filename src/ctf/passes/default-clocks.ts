// Pass: find each stream class's default clock.
//
// Contract: a stream class's default clock is the clock mapped by integers of its packet context,
// event header, common context, or its event classes' contexts and payloads (anywhere inside
// them). Two different clocks in one stream class, or a clock-mapped field in the packet header,
// are errors (as in babeltrace2). Runs before
// the roles pass, which unmaps `timestamp_end`.

import type { ClockClass, FieldClass } from '../ir/trace-class.js';
import { integerOf } from './auto-map-clocks.js';
import { metadataError, walk, type DraftTrace } from './draft.js';

export function setDefaultClocks(tc: DraftTrace): void {
  // The packet header belongs to no stream class: a clock there has no meaning (babeltrace refuses it).
  if (tc.packetHeader) {
    walk(tc.packetHeader, (fc) => {
      if (integerOf(fc)?.mappedClock) throw metadataError('the trace packet header contains a field mapped to a clock');
    });
  }
  for (const sc of tc.streams) {
    let clock: ClockClass | undefined = sc.defaultClock;
    const roots: Array<FieldClass | undefined> = [sc.packetContext, sc.eventHeader, sc.eventCommonContext];
    for (const ev of sc.events) roots.push(ev.specificContext, ev.payload);
    for (const root of roots) {
      if (!root) continue;
      walk(root, (fc) => {
        const c = integerOf(fc)?.mappedClock;
        if (!c) return;
        if (clock && clock !== c) {
          throw metadataError(`stream class ${sc.id} uses more than one clock ("${clock.name}" and "${c.name}")`, sc.line);
        }
        clock = c;
      });
    }
    if (clock) sc.defaultClock = clock;
  }
}
