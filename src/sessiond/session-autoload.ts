// The sessions a daemon loads before it serves (lttng-sessiond's --load and autoload): --load PATH (a file or a
// folder, which must exist), else every session of the autoload folders (session-config/saved-sessions.ts:
// autoloadPlaces). Sessions are created through the daemon's own control socket, with the commands `ltt load`
// sends, replacing any of the same name. A session that cannot be loaded is an error: the daemon does not start,
// as lttng-sessiond; domains ltt does not trace are skipped with one logged line.

import { existsSync } from 'node:fs';
import { ControlClient } from '../control/client.js';
import { LttError } from '../errors.js';
import { autoloadPlaces, findSavedSessions, recreateSession, skippedDomainsWarning } from '../session-config/saved-sessions.js';

export async function loadSessionsAtStart(options: {
  rundir: string;
  home: string;
  /** --load PATH; undefined: the autoload folders. */
  path: string | undefined;
  log: (line: string) => void;
}): Promise<void> {
  if (options.path !== undefined && !existsSync(options.path)) {
    throw new LttError('LOAD_INVALID', `Session configuration path ${options.path} does not exist`);
  }
  const places = options.path !== undefined ? [options.path] : autoloadPlaces(options.home);
  const found = findSavedSessions(places);
  if (found.sessions.size === 0) return;
  const sessions = [...found.sessions.values()];
  const skipped = skippedDomainsWarning(sessions);
  if (skipped) options.log(skipped);
  const client = await ControlClient.connect(options.rundir);
  try {
    for (const s of sessions) {
      await recreateSession(client, s, true);
      options.log(`Session ${s.name} loaded`);
    }
  } finally {
    client.close();
  }
}
