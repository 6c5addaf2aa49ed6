// Pass: resolve sequence lengths, variant tags (and CTF 2 dynamic lengths, optional selectors)
// into slots.
//
// Contract: for every field class with an entry in `draft.refs`, find the integer/enum field it
// reads, as babeltrace2 does:
// * TSDL absolute paths start with `trace.packet.header.`, `stream.packet.context.`,
//   `stream.event.header.`, `stream.event.context.`, `event.context.` or `event.fields.`; the target
//   scope must be the current one or an earlier one; CTF 2 locations with an `origin` likewise.
// * TSDL relative paths search the current scope only, from the innermost enclosing struct (or
//   variant) outwards; at each level the first word must name a member located before the
//   referring field; later words descend. Arrays and sequences are crossed transparently on the way
//   up (a tag inside an array element refers to the same element's sibling).
// * CTF 2 relative locations (no origin) start in the innermost enclosing structure; a `null` path
//   item goes up one structure.
// Names are matched against original (as written) names. The target must be decoded before the
// referrer and must not sit inside an array/sequence that does not also hold the referrer.
// Sequence lengths (and CTF 2 lengths) must be unsigned integers/enums, TSDL variant tags enums.
// Each target gets one slot (`storeSlot`, numbered trace-wide); referrers get `lengthSlot`/
// `tagSlot`/`selectorSlot`; `draft.targets` records referrer -> target for the hidden pass.

import type { FieldClass } from '../ir/trace-class.js';
import { integerOf } from './auto-map-clocks.js';
import {
  metadataError,
  SCOPE_ORDER,
  type DraftEvent,
  type DraftStream,
  type DraftTrace,
  type FieldRef,
  type Mutable,
  type ScopeName,
  type ScopeRoot,
  eventScopes,
} from './draft.js';

const TSDL_PREFIXES: ReadonlyArray<readonly [string[], ScopeName]> = [
  [['trace', 'packet', 'header'], 'packet-header'],
  [['stream', 'packet', 'context'], 'packet-context'],
  [['stream', 'event', 'header'], 'event-header'],
  [['stream', 'event', 'context'], 'event-common-context'],
  [['event', 'context'], 'event-specific-context'],
  [['event', 'fields'], 'event-payload'],
];

/** One level of the walk: a compound field class and the index of the child being visited. */
interface Frame {
  readonly fc: FieldClass;
  index: number;
}

interface Found {
  readonly fc: FieldClass;
  /** Child indexes from the scope root (-1 = array/sequence element). */
  readonly path: number[];
  readonly scope: ScopeName;
}

function named(fc: FieldClass): ReadonlyArray<{ originalName: string; fc: FieldClass }> | undefined {
  if (fc.kind === 'struct') return fc.members;
  if (fc.kind === 'variant') return fc.options;
  return undefined;
}

function describe(ref: FieldRef): string {
  return (ref.origin ? `${ref.origin}:` : '') + ref.path.map((p) => p ?? '<parent>').join('.');
}

class Resolver {
  constructor(private readonly tc: DraftTrace) {}

  /** Resolves the refs in `roots[current]` (the other roots are the earlier scopes). */
  resolveScope(roots: ScopeRoot[], current: number): void {
    const root = roots[current]!;
    const stack: Frame[] = [];
    const path: number[] = [];
    const visit = (fc: FieldClass): void => {
      const ref = this.tc.refs.get(fc);
      if (ref && !this.tc.targets.has(fc)) this.resolveOne(fc, ref, roots, current, stack, path);
      const kids: FieldClass[] | undefined =
        fc.kind === 'struct' ? fc.members.map((m) => m.fc)
        : fc.kind === 'variant' ? fc.options.map((o) => o.fc)
        : fc.kind === 'array' || fc.kind === 'sequence' ? [fc.element]
        : fc.kind === 'optional' ? [fc.fc]
        : undefined;
      if (!kids) return;
      const frame: Frame = { fc, index: -1 };
      stack.push(frame);
      const isList = fc.kind === 'array' || fc.kind === 'sequence' || fc.kind === 'optional';
      for (let i = 0; i < kids.length; i++) {
        frame.index = isList ? -1 : i;
        path.push(frame.index);
        visit(kids[i]!);
        path.pop();
      }
      stack.pop();
    };
    visit(root.fc);
  }

  private resolveOne(fc: FieldClass, ref: FieldRef, roots: ScopeRoot[], current: number, stack: Frame[], here: number[]): void {
    const found = this.find(ref, roots, current, stack, here);
    if (!found) throw metadataError(`cannot find the field "${describe(ref)}" that ${what(fc)} refers to`, ref.line);
    const target = found.fc;
    const int = integerOf(target);
    // Validation (babeltrace: ctf-meta-resolve.c).
    if (fc.kind === 'variant' && this.tc.ctfVersion === 1) {
      if (target.kind !== 'enum') throw metadataError(`variant tag "${describe(ref)}" is not an enumeration`, ref.line);
    } else if (fc.kind === 'variant' || fc.kind === 'optional') {
      if (!int && target.kind !== 'bool') throw metadataError(`selector "${describe(ref)}" is not an integer or boolean`, ref.line);
    } else {
      if (!int) throw metadataError(`length "${describe(ref)}" of ${what(fc)} is not an unsigned integer`, ref.line);
      if (int.signed) throw metadataError(`length "${describe(ref)}" of ${what(fc)} is not an unsigned integer`, ref.line);
    }
    if (found.scope === roots[current]!.scope) {
      // Same scope: the target must be decoded first. (babeltrace accepts a target inside an
      // array that does not hold the referrer: the last decoded element's value is used.)
      let i = 0;
      while (i < found.path.length && i < here.length && found.path[i] === here[i]) i++;
      if (i === found.path.length || i === here.length || found.path[i]! >= here[i]!) {
        throw metadataError(`field "${describe(ref)}" is not located before ${what(fc)}`, ref.line);
      }
    }
    const t = target as Mutable<FieldClass> & { storeSlot?: number };
    if (t.storeSlot === undefined) t.storeSlot = this.tc.slotCount++;
    const m = fc as Mutable<FieldClass> & Record<string, unknown>;
    if (fc.kind === 'sequence' || fc.kind === 'string' || fc.kind === 'blob') m['lengthSlot'] = t.storeSlot;
    else if (fc.kind === 'variant') m['tagSlot'] = t.storeSlot;
    else if (fc.kind === 'optional') m['selectorSlot'] = t.storeSlot;
    this.tc.targets.set(fc, target);
  }

  private find(ref: FieldRef, roots: ScopeRoot[], current: number, stack: Frame[], here: number[]): Found | undefined {
    const currentScope = roots[current]!.scope;
    let scope: ScopeName | undefined = ref.origin;
    let words = ref.path as readonly string[]; // TSDL paths have no null items
    if (!scope && this.tc.ctfVersion === 1) {
      for (const [prefix, s] of TSDL_PREFIXES) {
        if (words.length > prefix.length && prefix.every((p, i) => words[i] === p)) {
          scope = s;
          words = words.slice(prefix.length);
          break;
        }
      }
    }
    if (scope) {
      if (SCOPE_ORDER.indexOf(scope) > SCOPE_ORDER.indexOf(currentScope)) {
        throw metadataError(`field "${describe(ref)}" belongs to a scope decoded after the referring field`, ref.line);
      }
      const root = roots.find((r) => r.scope === scope);
      if (!root) return undefined;
      const path: number[] = [];
      const fc = descend(root.fc, words, path);
      return fc ? { fc, path, scope } : undefined;
    }
    if (this.tc.ctfVersion === 2) return this.findCtf2Relative(ref, stack, here, currentScope);
    // TSDL relative: innermost enclosing struct/variant outwards; arrays are skipped.
    for (let level = stack.length - 1; level >= 0; level--) {
      const frame = stack[level]!;
      const list = named(frame.fc);
      if (!list) continue;
      const first = words[0]!;
      const idx = list.findIndex((m) => m.originalName === first);
      if (idx < 0 || idx >= frame.index) continue;
      const path = here.slice(0, level);
      path.push(idx);
      const fc = descend(list[idx]!.fc, words.slice(1), path);
      if (fc) return { fc, path, scope: currentScope };
    }
    return undefined;
  }

  private findCtf2Relative(ref: FieldRef, stack: Frame[], here: number[], scope: ScopeName): Found | undefined {
    // Start at the innermost structure holding the referrer.
    let level = stack.length - 1;
    while (level >= 0 && stack[level]!.fc.kind !== 'struct') level--;
    let i = 0;
    for (; i < ref.path.length && ref.path[i] === null; i++) {
      level--;
      while (level >= 0 && stack[level]!.fc.kind !== 'struct') level--;
    }
    if (level < 0 || i >= ref.path.length) return undefined;
    const frame = stack[level]!;
    const list = named(frame.fc)!;
    const idx = list.findIndex((m) => m.originalName === ref.path[i]);
    if (idx < 0) return undefined;
    const path = here.slice(0, level);
    path.push(idx);
    const fc = descend(list[idx]!.fc, ref.path.slice(i + 1) as string[], path);
    return fc ? { fc, path, scope } : undefined;
  }
}

/** Follows `words` from `fc` by original names; arrays/sequences are crossed (index -1). */
function descend(fc: FieldClass, words: readonly string[], path: number[]): FieldClass | undefined {
  let cur = fc;
  let i = 0;
  for (;;) {
    while (cur.kind === 'array' || cur.kind === 'sequence') {
      if (i === words.length) break;
      path.push(-1);
      cur = cur.element;
    }
    if (i === words.length) return cur;
    const list = named(cur);
    if (!list) return undefined;
    const idx = list.findIndex((m) => m.originalName === words[i]);
    if (idx < 0) return undefined;
    path.push(idx);
    cur = list[idx]!.fc;
    i++;
  }
}

function what(fc: FieldClass): string {
  switch (fc.kind) {
    case 'sequence':
      return 'a sequence';
    case 'variant':
      return 'a variant';
    case 'optional':
      return 'an optional field';
    default:
      return `a dynamic-length ${fc.kind}`;
  }
}

export function resolvePaths(tc: DraftTrace): void {
  const r = new Resolver(tc);
  const noEvent = (sc: DraftStream | undefined, ev: DraftEvent | undefined): ScopeRoot[] =>
    sc ? eventScopes(tc, sc, ev) : tc.packetHeader ? [{ scope: 'packet-header', fc: tc.packetHeader }] : [];
  // Trace packet header once, stream scopes once per stream, event scopes once per event.
  const headerOnly = noEvent(undefined, undefined);
  if (headerOnly.length) r.resolveScope(headerOnly, 0);
  for (const sc of tc.streams) {
    const roots = noEvent(sc, undefined);
    for (let i = 0; i < roots.length; i++) if (roots[i]!.scope !== 'packet-header') r.resolveScope(roots, i);
    for (const ev of sc.events) {
      const all = eventScopes(tc, sc, ev);
      for (let i = 0; i < all.length; i++) {
        const s = all[i]!.scope;
        if (s === 'event-specific-context' || s === 'event-payload') r.resolveScope(all, i);
      }
    }
  }
}
