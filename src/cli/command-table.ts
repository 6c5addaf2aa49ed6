// The `ltt` commands by name (lttng.cpp's commands[] table). `ltt --list-commands` prints them in this order.

import type { CommandSpec } from './command-spec.js';
import { addContextCommand } from './commands/add-context.js';
import { analyzeCommand } from './commands/analyze.js';
import { clearCommand } from './commands/clear.js';
import { createCommand } from './commands/create.js';
import { destroyCommand } from './commands/destroy.js';
import { disableRotationCommand, enableRotationCommand } from './commands/rotation-schedule.js';
import { disableChannelCommand } from './commands/disable-channel.js';
import { disableEventCommand } from './commands/disable-event.js';
import { enableChannelCommand } from './commands/enable-channel.js';
import { enableEventCommand } from './commands/enable-event.js';
import { exportCommand } from './commands/export.js';
import { helpCommand, helpRegistry } from './commands/help.js';
import { listCommand } from './commands/list.js';
import { loadCommand } from './commands/load.js';
import { queryCommand } from './commands/query.js';
import { regenerateCommand } from './commands/regenerate.js';
import { rotateCommand } from './commands/rotate.js';
import { saveCommand } from './commands/save.js';
import { setSessionCommand } from './commands/set-session.js';
import { snapshotCommand } from './commands/snapshot.js';
import { startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';
import { stopCommand } from './commands/stop.js';
import { trackCommand } from './commands/track.js';
import { untrackCommand } from './commands/untrack.js';
import { versionCommand } from './commands/version.js';
import { viewCommand } from './commands/view.js';
import { webCommand } from './commands/web.js';

export const COMMANDS: readonly CommandSpec[] = [
  addContextCommand,
  analyzeCommand,
  clearCommand,
  createCommand,
  destroyCommand,
  disableChannelCommand,
  disableEventCommand,
  disableRotationCommand,
  enableChannelCommand,
  enableEventCommand,
  enableRotationCommand,
  exportCommand,
  helpCommand,
  listCommand,
  loadCommand,
  queryCommand,
  regenerateCommand,
  rotateCommand,
  saveCommand,
  setSessionCommand,
  snapshotCommand,
  startCommand,
  statusCommand,
  stopCommand,
  trackCommand,
  untrackCommand,
  versionCommand,
  viewCommand,
  webCommand,
];

helpRegistry.commands = [...COMMANDS];

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((command) => command.name === name);
}
