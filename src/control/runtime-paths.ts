// Where the control plane lives on disk, shared by the CLI and the daemon so both always agree:
//   root's daemon:  /run/ltt   (socket dir 0750 root:tracing, socket 0660 root:tracing)
//   a user's daemon: $LTT_HOME/.ltt  (LTT_HOME defaults to $HOME, like LTTNG_HOME)
// LTT_RUNDIR (or --rundir) overrides both, so tests and containers run a private daemon. Which daemon the CLI
// talks to follows LTTng: root -> root's; a member of the tracing group -> root's, then its own; others -> own.

import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const ROOT_RUNDIR = '/run/ltt';
export const DEFAULT_TRACING_GROUP = 'tracing';
export const SOCKET_NAME = 'client-ltt-sessiond';
export const PID_FILE_NAME = 'ltt-sessiond.pid';
export const LOG_FILE_NAME = 'ltt-sessiond.log';

export function lttHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.LTT_HOME || env.HOME || homedir();
}

export function userRundir(env: NodeJS.ProcessEnv = process.env): string {
  return join(lttHome(env), '.ltt');
}

export function socketPath(rundir: string): string {
  return join(rundir, SOCKET_NAME);
}

export function pidFilePath(rundir: string): string {
  return join(rundir, PID_FILE_NAME);
}

/**
 * Where clients of a root daemon create their credential files (sticky, writable by root and the tracing group
 * only): Node has no SO_PEERCRED, so a file the client creates is how the daemon learns the client's uid/gid.
 */
export function authDirPath(rundir: string): string {
  return join(rundir, 'auth');
}

export function logFilePath(rundir: string): string {
  return join(rundir, LOG_FILE_NAME);
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** The daemon's own runtime directory. */
export function daemonRundir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return flag;
  if (env.LTT_RUNDIR) return env.LTT_RUNDIR;
  return isRoot() ? ROOT_RUNDIR : userRundir(env);
}

/** Runtime directories the CLI tries, in order. The first one whose daemon answers wins. */
export function clientRundirs(
  flag: string | undefined,
  group: string = DEFAULT_TRACING_GROUP,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  if (flag) return [flag];
  if (env.LTT_RUNDIR) return [env.LTT_RUNDIR];
  if (isRoot()) return [ROOT_RUNDIR];
  const gid = groupId(group);
  const member = gid !== undefined && typeof process.getgroups === 'function' && process.getgroups().includes(gid);
  return member ? [ROOT_RUNDIR, userRundir(env)] : [userRundir(env)];
}

/** The gid of a Unix group from /etc/group, or undefined when it does not exist. */
export function groupId(name: string): number | undefined {
  let text: string;
  try {
    text = readFileSync('/etc/group', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [groupName, , gid] = line.split(':');
    if (groupName === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}
