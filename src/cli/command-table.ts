// The `ltt` commands by name (lttng.cpp's commands[] table). `ltt --list-commands` prints them in this order.
// Each command's module is imported only when that command runs (or its help is asked for): a session command
// such as `ltt list` then loads the control client and its own output code, never the trace engine, the
// analyses, the exports or the web server that other commands sit on (test/cli/startup-modules.test.ts).

import type { CommandEntry, CommandSpec } from './command-spec.js';
import { helpCommand } from './commands/help.js';

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'add-context', summary: 'Add context fields to be recorded', load: async () => (await import('./commands/add-context.js')).addContextCommand },
  { name: 'analyze', summary: "Run one of LTTng's analyses on a trace", load: async () => (await import('./commands/analyze.js')).analyzeCommand },
  { name: 'clear', summary: 'Clear a recording session', load: async () => (await import('./commands/clear.js')).clearCommand },
  { name: 'create', summary: 'Create a recording session', load: async () => (await import('./commands/create.js')).createCommand },
  { name: 'destroy', summary: 'Destroy recording sessions', load: async () => (await import('./commands/destroy.js')).destroyCommand },
  { name: 'disable-channel', summary: 'Disable channels', load: async () => (await import('./commands/disable-channel.js')).disableChannelCommand },
  { name: 'disable-event', summary: 'Disable recording event rules', load: async () => (await import('./commands/disable-event.js')).disableEventCommand },
  {
    name: 'disable-rotation',
    summary: 'Unset a recording session rotation schedule',
    load: async () => (await import('./commands/rotation-schedule.js')).disableRotationCommand,
  },
  { name: 'enable-channel', summary: 'Create or enable a channel', load: async () => (await import('./commands/enable-channel.js')).enableChannelCommand },
  { name: 'enable-event', summary: 'Create or enable recording event rules', load: async () => (await import('./commands/enable-event.js')).enableEventCommand },
  {
    name: 'enable-rotation',
    summary: 'Set a recording session rotation schedule',
    load: async () => (await import('./commands/rotation-schedule.js')).enableRotationCommand,
  },
  {
    name: 'export',
    summary: 'Export a trace as Parquet tables, a Perfetto trace or Trace Event JSON',
    load: async () => (await import('./commands/export.js')).exportCommand,
  },
  { name: 'help', summary: 'Show the help of a command', load: async () => helpCommand(COMMANDS) },
  { name: 'list', summary: 'List recording sessions and instrumentation points', load: async () => (await import('./commands/list.js')).listCommand },
  { name: 'load', summary: 'Load recording session configurations', load: async () => (await import('./commands/load.js')).loadCommand },
  { name: 'query', summary: 'Query a trace with SQL', load: async () => (await import('./commands/query.js')).queryCommand },
  { name: 'regenerate', summary: 'Regenerate specific recording session data', load: async () => (await import('./commands/regenerate.js')).regenerateCommand },
  { name: 'rotate', summary: 'Archive the current trace chunk of a recording session', load: async () => (await import('./commands/rotate.js')).rotateCommand },
  { name: 'save', summary: 'Save recording session configurations', load: async () => (await import('./commands/save.js')).saveCommand },
  { name: 'set-session', summary: 'Set the current recording session', load: async () => (await import('./commands/set-session.js')).setSessionCommand },
  { name: 'snapshot', summary: 'Take a recording session snapshot', load: async () => (await import('./commands/snapshot.js')).snapshotCommand },
  { name: 'start', summary: 'Start a recording session', load: async () => (await import('./commands/start.js')).startCommand },
  { name: 'status', summary: 'Show the status of the current recording session', load: async () => (await import('./commands/status.js')).statusCommand },
  { name: 'stop', summary: 'Stop a recording session', load: async () => (await import('./commands/stop.js')).stopCommand },
  { name: 'track', summary: 'Allow specific processes to record events', load: async () => (await import('./commands/track.js')).trackCommand },
  { name: 'untrack', summary: 'Disallow specific processes to record events', load: async () => (await import('./commands/untrack.js')).untrackCommand },
  { name: 'version', summary: 'Show ltt version information', load: async () => (await import('./commands/version.js')).versionCommand },
  { name: 'view', summary: 'Launch a trace reader', load: async () => (await import('./commands/view.js')).viewCommand },
  { name: 'web', summary: 'Show a trace as a timeline in the browser', load: async () => (await import('./commands/web.js')).webCommand },
];

/** The command called `name`, its module loaded; undefined when ltt has no such command. */
export async function findCommand(name: string): Promise<CommandSpec | undefined> {
  return COMMANDS.find((command) => command.name === name)?.load();
}
