// Pass: mark text arrays and sequences.
//
// Contract: an array or sequence whose element is an 8-bit, 8-aligned integer (or enum) with an
// encoding (UTF8/ASCII) is text (`isText`): printed as a string up to the first NUL. As babeltrace2
// does, its element is made unsigned so that bytes are read as bytes.

import type { FieldClass } from '../ir/trace-class.js';
import { allRoots, type DraftTrace, type Mutable } from './draft.js';

function mark(fc: FieldClass): void {
  switch (fc.kind) {
    case 'struct':
      for (const m of fc.members) mark(m.fc);
      break;
    case 'variant':
      for (const o of fc.options) mark(o.fc);
      break;
    case 'array':
    case 'sequence': {
      const el = fc.element;
      const int = el.kind === 'int' ? el : el.kind === 'enum' ? el.container : undefined;
      if (int && int.align === 8 && int.size === 8 && int.encoding !== 'none') {
        (fc as Mutable<typeof fc>).isText = true;
        (int as Mutable<typeof int>).signed = false;
      } else {
        mark(el);
      }
      break;
    }
    case 'optional':
      mark(fc.fc);
      break;
    default:
      break;
  }
}

export function markTextArrays(tc: DraftTrace): void {
  for (const root of allRoots(tc)) mark(root);
}
