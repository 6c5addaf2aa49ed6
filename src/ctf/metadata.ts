// Entry point of the CTF metadata front ends: `metadata` file bytes -> TraceClass.
//
// Contract: `parseMetadata(bytes, { path })` reads plain-text or packetized TSDL (CTF 1.8) or a
// CTF 2 JSON text sequence, runs the passes and returns the finished TraceClass and the metadata
// text. Any problem in the metadata throws LttError('CTF_METADATA') with a one-line message
// (prefixed with `path` when given; TSDL messages name the line). The result is never mutated
// afterwards. Cost is linear in the metadata size (live readers re-parse growing metadata).

import { LttError } from '../errors.js';
import { parseCtf2 } from './ctf2/parse.js';
import type { TraceClass } from './ir/trace-class.js';
import { readMetadataStream } from './metadata-stream.js';
import { updateAlignments } from './passes/alignments.js';
import { autoMapClocks } from './passes/auto-map-clocks.js';
import { buildTraceClass } from './passes/build-trace-class.js';
import { setDefaultClocks } from './passes/default-clocks.js';
import { finish, type DraftTrace } from './passes/draft.js';
import { resolvePaths } from './passes/resolve-paths.js';
import { setHidden } from './passes/set-hidden.js';
import { setRoles } from './passes/set-roles.js';
import { markTextArrays } from './passes/text-arrays.js';
import { validate } from './passes/validate.js';
import { setVariantRanges } from './passes/variant-ranges.js';
import { parseTsdl } from './tsdl/parser.js';

const utf8 = new TextDecoder('utf-8');

/** TSDL passes in babeltrace2's order. */
function tsdlToDraft(text: Uint8Array): DraftTrace {
  const draft = buildTraceClass(parseTsdl(text));
  autoMapClocks(draft);
  setDefaultClocks(draft);
  setRoles(draft);
  markTextArrays(draft);
  updateAlignments(draft);
  resolvePaths(draft);
  setVariantRanges(draft);
  setHidden(draft);
  validate(draft);
  return draft;
}

export function parseMetadata(bytes: Uint8Array, opts: { path?: string } = {}): { tc: TraceClass; text: string } {
  try {
    const stream = readMetadataStream(bytes);
    const text = utf8.decode(stream.bytes);
    if (stream.ctfVersion === 2) return { tc: parseCtf2(text), text };
    return { tc: finish(tsdlToDraft(stream.bytes)), text };
  } catch (err) {
    if (err instanceof LttError) {
      throw opts.path ? new LttError(err.code, `${opts.path}: ${err.message}`, { cause: err }) : err;
    }
    // Pathologically deep nesting can exhaust the stack: still the metadata's fault.
    if (err instanceof RangeError) {
      throw new LttError('CTF_METADATA', `${opts.path ? opts.path + ': ' : ''}metadata: types nested too deeply (${err.message})`, { cause: err });
    }
    throw err;
  }
}
