// Starting a session daemon for `ltt create` when none answers (LTTng: `lttng-sessiond --daemonize`). The
// daemon binary is --sessiond-path, else $LTT_SESSIOND_PATH (run with --daemonize), else the ltt-sessiond module
// of this very installation run by this Node (so CLI and daemon are always the same version), whose serving
// copy this process starts and waits for itself (daemon-start.ts detach(), what --daemonize does). Either
// returns once the daemon serves; we then still wait for the socket to answer, because a concurrent `create`
// may have won the race and started the daemon we are about to talk to.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlClient } from '../control/client.js';
import { daemonEntry, detach } from '../daemon-start.js';
import { CliError } from './cli-error.js';
import { ExitCode } from './exit-codes.js';

/** What runs this installation's ltt-sessiond: bin/ltt-sessiond in a build (its bundle), else its module. */
function sessiondEntry(): string {
  const js = new URL('../sessiond/main.js', import.meta.url);
  return existsSync(js) ? daemonEntry(js.href, 'ltt-sessiond') : fileURLToPath(new URL('../sessiond/main.ts', import.meta.url));
}

/** Runs `file args --daemonize --rundir R --group G` and waits for it to return; its exit status and stderr. */
async function daemonizeWith(file: string, args: readonly string[], rundir: string, group: string): Promise<{ status: number; stderr: string }> {
  const stderr: string[] = [];
  const status = await new Promise<number>((resolve) => {
    const child = spawn(file, [...args, '--daemonize', '--rundir', rundir, '--group', group], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => stderr.push(chunk));
    child.on('error', (error) => {
      stderr.push(`cannot run ${file}: ${error.message}`);
      resolve(1);
    });
    child.on('exit', (code) => resolve(code ?? 1));
  });
  return { status, stderr: stderr.join('') };
}

export async function spawnSessiond(options: {
  rundir: string;
  group: string;
  sessiondPath: string | undefined;
}): Promise<ControlClient> {
  const explicit = options.sessiondPath ?? process.env.LTT_SESSIOND_PATH;
  const rundir = resolve(options.rundir);
  let status: number;
  let stderr: string;
  if (explicit) ({ status, stderr } = await daemonizeWith(explicit, [], rundir, options.group));
  else {
    // This installation's daemon: its serving copy started here, as `ltt-sessiond --daemonize` would start it
    // (the same arguments, the same wait for "ready"), without that command's own Node process in between.
    const reason = await detach(sessiondEntry(), ['--rundir', rundir, '--group', options.group], {});
    status = reason === undefined ? 0 : 1;
    stderr = reason ?? '';
  }
  const deadline = Date.now() + 5000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      return await ControlClient.connect(options.rundir, { connectTimeoutMs: 2000 });
    } catch (error) {
      lastError = error;
      // A daemon that could not start gives up at once, unless it lost a race to another starting daemon.
      if (status !== 0 && !stderr.includes('already running')) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const reason = stderr.replace(/^Error:\s*/, '').trim();
  throw new CliError(
    'NO_SESSIOND',
    `Unable to start the session daemon${reason ? `: ${reason}` : ''}`,
    ExitCode.ERROR,
    { cause: lastError },
  );
}
