// Starting a session daemon for `ltt create` when none answers (LTTng: `lttng-sessiond --daemonize`). The
// daemon binary is --sessiond-path, else $LTT_SESSIOND_PATH, else the ltt-sessiond module of this very
// installation run by this Node (so CLI and daemon are always the same version). The daemonizing parent
// returns once the daemon serves; we then still wait for the socket to answer, because a concurrent `create`
// may have won the race and started the daemon we are about to talk to.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ControlClient } from '../control/client.js';
import { CliError } from './cli-error.js';
import { ExitCode } from './exit-codes.js';

function sessiondCommand(sessiondPath: string | undefined): { file: string; args: string[] } {
  const explicit = sessiondPath ?? process.env.LTT_SESSIOND_PATH;
  if (explicit) return { file: explicit, args: [] };
  const js = fileURLToPath(new URL('../sessiond/main.js', import.meta.url));
  const ts = fileURLToPath(new URL('../sessiond/main.ts', import.meta.url));
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--test') && !a.startsWith('--inspect'));
  return { file: process.execPath, args: [...execArgv, existsSync(js) ? js : ts] };
}

export async function spawnSessiond(options: {
  rundir: string;
  group: string;
  sessiondPath: string | undefined;
}): Promise<ControlClient> {
  const { file, args } = sessiondCommand(options.sessiondPath);
  const stderr: string[] = [];
  const status = await new Promise<number>((resolve) => {
    const child = spawn(file, [...args, '--daemonize', '--rundir', options.rundir, '--group', options.group], {
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
  const deadline = Date.now() + 5000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      return await ControlClient.connect(options.rundir, { connectTimeoutMs: 2000 });
    } catch (error) {
      lastError = error;
      // A daemon that could not start gives up at once, unless it lost a race to another starting daemon.
      if (status !== 0 && !stderr.join('').includes('already running')) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const reason = stderr.join('').replace(/^Error:\s*/, '').trim();
  throw new CliError(
    'NO_SESSIOND',
    `Unable to start the session daemon${reason ? `: ${reason}` : ''}`,
    ExitCode.ERROR,
    { cause: lastError },
  );
}
