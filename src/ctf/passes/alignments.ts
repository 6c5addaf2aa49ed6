// Pass: compute compound alignments.
//
// Contract: a structure's alignment is the maximum of its minimum alignment (`align(N)`) and its
// members' alignments; an array's or sequence's is its element's (even for length 0: the cursor is
// still aligned); a variant's stays 1 (the selected option is aligned when read); an enum's is its
// container's. Children first, so nested compounds are settled before their parents.

import type { FieldClass } from '../ir/trace-class.js';
import { allRoots, type DraftTrace, type Mutable } from './draft.js';

export function alignmentOf(fc: FieldClass): number {
  const m = fc as Mutable<FieldClass>;
  switch (fc.kind) {
    case 'struct': {
      let a = fc.align;
      for (const mem of fc.members) a = Math.max(a, alignmentOf(mem.fc));
      m.align = a;
      break;
    }
    case 'variant':
      for (const o of fc.options) alignmentOf(o.fc);
      break;
    case 'array':
    case 'sequence':
      m.align = alignmentOf(fc.element);
      break;
    case 'enum':
      m.align = fc.container.align;
      break;
    case 'optional':
      alignmentOf(fc.fc);
      break;
    default:
      break;
  }
  return fc.align;
}

export function updateAlignments(tc: DraftTrace): void {
  for (const root of allRoots(tc)) alignmentOf(root);
}
