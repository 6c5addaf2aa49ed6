// Pass: CTF 1.8 variant option ranges from the tag enumeration's labels.
//
// Contract: once tags are resolved, each option of a TSDL variant selects the ranges of the tag
// enum's mapping whose label equals the option's original name (underscores included); an option
// with no such label is never selected. The decoder picks the first option (in order) whose ranges
// contain the tag value; none is a decoding error.

import type { VariantOption } from '../ir/trace-class.js';
import { allRoots, metadataError, walk, type DraftTrace, type Mutable } from './draft.js';

export function setVariantRanges(tc: DraftTrace): void {
  for (const root of allRoots(tc)) {
    walk(root, (fc) => {
      if (fc.kind !== 'variant') return;
      const tag = tc.targets.get(fc);
      if (!tag || tag.kind !== 'enum') return;
      const byLabel = new Map(tag.mappings.map((m) => [m.label, m.ranges] as const));
      for (const opt of fc.options) {
        const ranges = byLabel.get(opt.originalName);
        // babeltrace 2.0.4 asserts on this while translating the metadata: refuse it cleanly.
        if (!ranges) throw metadataError(`variant option "${opt.originalName}" has no matching label in its tag enumeration`);
        (opt as Mutable<VariantOption>).ranges = ranges;
      }
    });
  }
}
