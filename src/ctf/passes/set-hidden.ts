// Pass: decide which fields babeltrace2's trace-IR translation drops (`hidden`).
//
// Contract (babeltrace2 ctf-meta-update-in-ir.c): the packet header and event headers are hidden
// entirely. Elsewhere an integer/enum is visible unless it maps a clock or has a role, except that
// a field read by a visible sequence/variant stays visible. A struct is visible if one member is,
// or if it was empty in the metadata; a variant is visible if one option is, and then all its
// options (not their contents) are made visible; an array/sequence follows its element.
// Scopes are visited from the last decoded to the first, members in reverse order, so referrers
// are seen before the fields they read.

import type { FieldClass } from '../ir/trace-class.js';
import { integerOf } from './auto-map-clocks.js';
import { type DraftTrace, walk } from './draft.js';

export function setHidden(tc: DraftTrace): void {
  const dependents = new Set<FieldClass>();
  const update = (fc: FieldClass | undefined): void => {
    if (!fc) return;
    // Start from hidden, as babeltrace starts from "not in IR".
    fc.hidden = true;
    switch (fc.kind) {
      case 'int':
      case 'enum':
      case 'varint': {
        const int = fc.kind === 'varint' ? fc : integerOf(fc)!;
        const special = ('mappedClock' in int && int.mappedClock !== undefined) || int.role !== undefined;
        if (!special || dependents.has(fc)) fc.hidden = false;
        break;
      }
      case 'struct':
        if (fc.members.length === 0) fc.hidden = false;
        for (let i = fc.members.length - 1; i >= 0; i--) {
          const m = fc.members[i]!;
          update(m.fc);
          if (!m.fc.hidden) fc.hidden = false;
        }
        break;
      case 'variant':
        for (let i = fc.options.length - 1; i >= 0; i--) {
          const o = fc.options[i]!;
          update(o.fc);
          if (!o.fc.hidden) fc.hidden = false;
        }
        if (!fc.hidden) {
          for (const o of fc.options) o.fc.hidden = false;
          const tag = tc.targets.get(fc);
          if (tag) dependents.add(tag);
        }
        break;
      case 'array':
      case 'sequence':
        update(fc.element);
        fc.hidden = fc.element.hidden;
        if (fc.kind === 'sequence' && !fc.hidden) {
          const len = tc.targets.get(fc);
          if (len) dependents.add(len);
        }
        break;
      case 'optional':
        update(fc.fc);
        fc.hidden = fc.fc.hidden;
        if (!fc.hidden) {
          const sel = tc.targets.get(fc);
          if (sel) dependents.add(sel);
        }
        break;
      case 'string':
      case 'blob': {
        fc.hidden = false;
        const len = tc.targets.get(fc);
        if (len) dependents.add(len);
        break;
      }
      default:
        fc.hidden = false;
    }
  };
  const hideAll = (fc: FieldClass | undefined): void => {
    if (fc) walk(fc, (f) => (f.hidden = true));
  };
  for (const sc of tc.streams) {
    for (const ev of sc.events) {
      update(ev.payload);
      update(ev.specificContext);
    }
    update(sc.eventCommonContext);
    hideAll(sc.eventHeader);
    update(sc.packetContext);
  }
  hideAll(tc.packetHeader);
}
