// Where a trace chunk archive is, as lttng prints it after `rotate` and `destroy` (lttng's
// print_trace_archive_location) and as its MI <location> element: a local path, or a relay's path on
// tcp://HOST/PATH with its ports.

import { group, leaf, type MiNode } from './mi-document.js';

export interface RelayPlace {
  readonly host: string;
  readonly controlPort: number;
  readonly dataPort: number;
}

export function archiveLocationText(session: string, archive: string, relay?: RelayPlace): string {
  const where = relay ? ` on relay tcp://${relay.host}/${archive} [control port ${relay.controlPort}, data port ${relay.dataPort}]` : ` at ${archive}`;
  return `Trace chunk archive for session ${session} is now readable${where}`;
}

export function archiveLocationNode(archive: string, relay?: RelayPlace): MiNode {
  if (relay === undefined) return group('location', [group('local', [leaf('absolute_path', archive)])]);
  return group('location', [
    group('relay', [
      leaf('host', relay.host),
      leaf('control_port', relay.controlPort),
      leaf('data_port', relay.dataPort),
      leaf('protocol', 'TCP'),
      leaf('relative_path', archive),
    ]),
  ]);
}
