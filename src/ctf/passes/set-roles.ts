// Pass: give CTF 1.8 well-known fields their roles (babeltrace2's "meanings").
//
// Contract: by display name, integer/enum direct members of the packet header (`magic`,
// `stream_id`, `stream_instance_id`) and packet context (`timestamp_begin`, `timestamp_end`,
// `content_size`, `packet_size`, `events_discarded`, `packet_seq_num`), and every struct member
// named `id` anywhere in an event header get their role. `timestamp_end` loses its clock mapping
// (its value must not move the clock while decoding; the decoder reads it as the packet end
// time). Other clock-mapped integers get role 'default-clock-timestamp' (what CTF 2 calls them),
// which only documents them: the decoder updates clocks from `mappedClock`. For an enum, role and
// clock live on its container integer.

import type { FieldClass, FieldRole, StructFieldClass } from '../ir/trace-class.js';
import { integerOf } from './auto-map-clocks.js';
import { allRoots, walk, type DraftTrace } from './draft.js';

const HEADER_ROLES: Record<string, FieldRole> = {
  magic: 'packet-magic',
  stream_id: 'stream-class-id',
  stream_instance_id: 'stream-instance-id',
};

const PACKET_CONTEXT_ROLES: Record<string, FieldRole> = {
  timestamp_begin: 'packet-begin-ts',
  timestamp_end: 'packet-end-ts',
  events_discarded: 'discarded-events',
  packet_seq_num: 'packet-seq-num',
  packet_size: 'packet-total-size',
  content_size: 'packet-content-size',
};

function setDirect(root: StructFieldClass | undefined, roles: Record<string, FieldRole>): void {
  if (!root) return;
  for (const m of root.members) {
    const role = Object.hasOwn(roles, m.name) ? roles[m.name] : undefined;
    const int = integerOf(m.fc);
    if (!role || !int) continue;
    int.role = role;
    if (role === 'packet-end-ts') delete int.mappedClock;
  }
}

function setEventClassIds(fc: FieldClass): void {
  if (fc.kind === 'struct') {
    for (const m of fc.members) {
      const int = integerOf(m.fc);
      if (int && m.name === 'id') int.role = 'event-class-id';
      setEventClassIds(m.fc);
    }
  } else if (fc.kind === 'variant') {
    for (const o of fc.options) setEventClassIds(o.fc);
  } else if (fc.kind === 'array' || fc.kind === 'sequence') {
    setEventClassIds(fc.element);
  }
}

export function setRoles(tc: DraftTrace): void {
  setDirect(tc.packetHeader, HEADER_ROLES);
  for (const sc of tc.streams) {
    setDirect(sc.packetContext, PACKET_CONTEXT_ROLES);
    if (sc.eventHeader) setEventClassIds(sc.eventHeader);
  }
  for (const root of allRoots(tc)) {
    walk(root, (fc) => {
      const int = integerOf(fc);
      if (int && int.mappedClock && !int.role) int.role = 'default-clock-timestamp';
    });
  }
}
