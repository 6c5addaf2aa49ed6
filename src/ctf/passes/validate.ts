// Pass: final consistency checks of babeltrace2's ctf-meta-validate.c.
//
// Contract: throws LttError('CTF_METADATA') when a well-known field has the wrong type
// (`magic` not the first 32-bit unsigned member of the packet header, `uuid` not an array of 16
// unsigned 8-bit 8-aligned integers, signed or non-integer `stream_id`, `stream_instance_id`,
// packet context sizes/timestamps/counters or event header `id`), when several stream classes
// exist without a packet header `stream_id`, or several event classes without an event header `id`.
// Every variant must have a tag.

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
    if (uuid && tc.ctfVersion === 1) {
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
  if (tc.streams.length > 1 && !member(ph, 'stream_id') && tc.ctfVersion === 1) {
    throw metadataError('invalid packet header: missing `stream_id` member as there is more than one stream class');
  }
  for (const sc of tc.streams) {
    for (const n of ['timestamp_begin', 'timestamp_end', 'events_discarded', 'packet_seq_num', 'packet_size', 'content_size']) {
      unsignedInt(sc.packetContext, n, `packet context of stream class ${sc.id}`);
    }
    if (tc.ctfVersion === 1) {
      if (member(sc.eventHeader, 'id')) unsignedInt(sc.eventHeader, 'id', `event header of stream class ${sc.id}`);
      else if (sc.events.length > 1) {
        throw metadataError(`invalid event header of stream class ${sc.id}: missing \`id\` member as there is more than one event class`);
      }
    }
  }
  for (const root of allRoots(tc)) {
    walk(root, (fc) => {
      if (fc.kind === 'variant' && fc.tagSlot < 0) throw metadataError('variant without a tag');
    });
  }
}
