// Pass: map unmapped timestamp fields to the trace's clock (CTF 1.8 only).
//
// Contract: like babeltrace2's visitor, every integer/enum named `timestamp` (display name) in a
// stream's event header, and `timestamp_begin`/`timestamp_end` in its packet context, found through
// nested structures and variant options (not arrays), that maps no clock gets the trace's only
// clock; with no clock, an implicit 1 GHz clock named `default` is created once; with two or more
// clocks it is an error.

import type { ClockClass, FieldClass, IntegerFieldClass } from '../ir/trace-class.js';
import { metadataError, type DraftTrace } from './draft.js';

/** The integer holding the value of an int or enum field class. */
export function integerOf(fc: FieldClass): IntegerFieldClass | undefined {
  if (fc.kind === 'int') return fc;
  if (fc.kind === 'enum') return fc.container;
  return undefined;
}

export function autoMapClocks(tc: DraftTrace): void {
  const clockFor = (name: string, line?: number): ClockClass => {
    if (tc.clockCount === 0) {
      const implicit: ClockClass = {
        name: 'default',
        frequency: 1_000_000_000,
        offsetSeconds: 0n,
        offsetCycles: 0n,
        precision: 0,
        originIsUnixEpoch: false,
      };
      tc.clocks.set('default', implicit);
      tc.clockCount = 1;
      return implicit;
    }
    if (tc.clockCount === 1) return tc.clocks.values().next().value!;
    throw metadataError(`field \`${name}\` maps no clock and the trace has more than one clock`, line);
  };
  const visit = (fc: FieldClass, fieldName: string, line?: number): void => {
    const named: ReadonlyArray<{ name: string; fc: FieldClass }> =
      fc.kind === 'struct' ? fc.members : fc.kind === 'variant' ? fc.options : [];
    for (const m of named) {
      if (m.name === fieldName) {
        const int = integerOf(m.fc);
        if (int && !int.mappedClock) int.mappedClock = clockFor(fieldName, line);
      }
      visit(m.fc, fieldName, line);
    }
  };
  for (const sc of tc.streams) {
    if (sc.eventHeader) visit(sc.eventHeader, 'timestamp', sc.line);
    if (sc.packetContext) {
      visit(sc.packetContext, 'timestamp_begin', sc.line);
      visit(sc.packetContext, 'timestamp_end', sc.line);
    }
  }
}
