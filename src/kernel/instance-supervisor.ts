// The kernel domain's supervisor. LTTng's kernel sessions end with the session daemon's file descriptors;
// tracefs instances do not: a daemon killed with SIGKILL would leave its instances recording (and taxing every
// traced event on the machine) until a daemon starts again and reclaims them. So a root daemon starts this small
// process with its first kernel session, detached, reading a pipe whose other end only the daemon holds (close-on-exec: no other child
// inherits it). The pipe ends when the daemon exits, however it exits; the supervisor then removes what the owner
// records of that daemon's pid still list (instance-owners.ts: instances stopped and removed, probes removed) and
// exits. A daemon that shut down cleanly has removed its records already: nothing is left to do.
//
//   node instance-supervisor.js DAEMON_PID      (stdin: the pipe)

import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { reclaimOwner } from './instance-owners.js';

/** Starts the supervisor of this process's tracefs instances; returns its pid (undefined if it could not start). */
export function startInstanceSupervisor(): number | undefined {
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--test') && !a.startsWith('--inspect'));
  const child = spawn(process.execPath, [...execArgv, fileURLToPath(import.meta.url), String(process.pid)], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  child.on('error', () => undefined);
  // Held open for the daemon's whole life, without keeping its event loop alive.
  const pipe = child.stdin as unknown as { unref?: () => void; on: (e: string, f: () => void) => void };
  pipe.on('error', () => undefined);
  pipe.unref?.();
  child.unref();
  return child.pid;
}

/** Waits for the daemon's end of the pipe to close, then reclaims, retrying briefly while readers let go. */
function supervise(daemonPid: number): void {
  process.on('SIGINT', () => undefined);
  process.on('SIGHUP', () => undefined);
  process.stdin.on('error', () => undefined);
  process.stdin.on('data', () => undefined);
  process.stdin.on('close', () => {
    // An instance stays busy while the kernel still closes the dead daemon's readers: a few more tries, then
    // the next daemon's reclaim takes over.
    let attempts = 0;
    const attempt = () => {
      if (reclaimOwner(daemonPid) || ++attempts >= 50) process.exit(0);
      setTimeout(attempt, 100);
    };
    attempt();
  });
}

const invokedPath = process.argv[1];
if (invokedPath && import.meta.url === pathToFileURL(realpathSync(invokedPath)).href) {
  const pid = Number(process.argv[2]);
  if (Number.isSafeInteger(pid) && pid > 0) supervise(pid);
}
