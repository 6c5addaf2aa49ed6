// Pass: final consistency checks of babeltrace2's ctf-meta-validate.c.
//
// Contract: throws LttError('CTF_METADATA') when a well-known field has the wrong type
// (`magic` not the first 32-bit unsigned member of the packet header, `uuid` not an array of 16
// unsigned 8-bit 8-aligned integers, signed or non-integer `stream_id`, `stream_instance_id`,
// packet context sizes/timestamps/counters or event header `id`), when several stream classes
// exist without a packet header `stream_id`, or several event classes without an event header `id`.
// Every variant must have a tag. CTF 2: several data stream (event record) classes need a
// `data-stream-class-id` (`event-record-class-id`) field.

import { LttError } from '../../errors.js';
import type { StructFieldClass } from '../ir/trace-class.js';
import { integerOf } from './auto-map-clocks.js';
import { allRoots, metadataError, walk, type DraftTrace } from './draft.js';

function member(s: StructFieldClass | undefined, name: string) {
  return s?.members.find((m) => m.name === name);
}

function unsignedInt(s: StructFieldClass | undefined, name: string, where: string): void {
  const m = member(s, name);
  if (!m) return;
  const int = integerOf(m.fc);
  if (!int) throw metadataError(`invalid ${where}: \`${name}\` member is not an integer`);
  if (int.signed) throw metadataError(`invalid ${where}: \`${name}\` member is signed`);
}

export function validate(tc: DraftTrace): void {
  // CTF 1.8 gives meaning to member names; in CTF 2 names mean nothing (roles do).
  if (tc.ctfVersion === 1) validateWellKnownNames(tc);
  else validateRoles(tc);
  for (const root of allRoots(tc)) {
    walk(root, (fc) => {
      if (fc.kind === 'variant' && fc.tagSlot < 0) throw metadataError('variant without a tag');
    });
  }
  // Headers are not part of babeltrace2's trace IR: an enum with a reversed range is only refused elsewhere.
  for (const sc of tc.streams) {
    const roots = [sc.packetContext, sc.eventCommonContext, ...sc.events.flatMap((ev) => [ev.specificContext, ev.payload])];
    for (const root of roots) {
      if (!root) continue;
      walk(root, (fc) => {
        if (fc.kind === 'enum' && fc.reversedRange !== undefined) throw new LttError('CTF_METADATA', fc.reversedRange);
      });
    }
  }
}

function validateWellKnownNames(tc: DraftTrace): void {
  const ph = tc.packetHeader;
  if (ph) {
    const magic = member(ph, 'magic');
    if (magic) {
      if (ph.members[0] !== magic) throw metadataError('invalid packet header: `magic` member is not the first member');
      const int = integerOf(magic.fc);
      if (!int) throw metadataError('invalid packet header: `magic` member is not an integer');
      if (int.signed) throw metadataError('invalid packet header: `magic` member is signed');
      if (int.size !== 32) throw metadataError('invalid packet header: `magic` member is not 32-bit');
    }
    unsignedInt(ph, 'stream_id', 'packet header');
    unsignedInt(ph, 'stream_instance_id', 'packet header');
    const uuid = member(ph, 'uuid');
    if (uuid) {
      const a = uuid.fc;
      if (a.kind !== 'array') throw metadataError('invalid packet header: `uuid` member is not an array');
      if (a.length !== 16) throw metadataError('invalid packet header: `uuid` member is not a 16-element array');
      const el = a.element;
      if (el.kind !== 'int') throw metadataError("invalid packet header: `uuid` member's element is not an integer");
      if (el.signed) throw metadataError("invalid packet header: `uuid` member's element is signed");
      if (el.size !== 8) throw metadataError("invalid packet header: `uuid` member's element is not 8-bit");
      if (el.align !== 8) throw metadataError("invalid packet header: `uuid` member's element alignment is not 8");
    }
  }
  if (tc.streams.length > 1 && !member(ph, 'stream_id')) {
    throw metadataError('invalid packet header: missing `stream_id` member as there is more than one stream class');
  }
  for (const sc of tc.streams) {
    for (const n of ['timestamp_begin', 'timestamp_end', 'events_discarded', 'packet_seq_num', 'packet_size', 'content_size']) {
      unsignedInt(sc.packetContext, n, `packet context of stream class ${sc.id}`);
    }
    if (member(sc.eventHeader, 'id')) unsignedInt(sc.eventHeader, 'id', `event header of stream class ${sc.id}`);
    else if (sc.events.length > 1) {
      throw metadataError(`invalid event header of stream class ${sc.id}: missing \`id\` member as there is more than one event class`);
    }
  }
}

function hasRole(root: StructFieldClass | undefined, role: string): boolean {
  let found = false;
  if (root) {
    walk(root, (fc) => {
      const int = fc.kind === 'varint' ? fc : integerOf(fc);
      if (int?.role === role) found = true;
    });
  }
  return found;
}

/** CTF 2: the decoder must be able to tell data stream classes and event record classes apart. */
function validateRoles(tc: DraftTrace): void {
  if (tc.streams.length > 1 && !hasRole(tc.packetHeader, 'stream-class-id')) {
    throw metadataError('several data stream classes but no `data-stream-class-id` field in the packet header');
  }
  for (const sc of tc.streams) {
    if (sc.events.length > 1 && !hasRole(sc.eventHeader, 'event-class-id')) {
      throw metadataError(`data stream class ${sc.id} has several event record classes but no \`event-record-class-id\` field in its header`);
    }
  }
}
