// `create --live` without a URL streams to 127.0.0.1; as lttng does, a relay daemon is started first when
// nothing listens on the local live port (5344). ltt starts it daemonized (-d: it returns once the copy
// listens), so the session daemon's first connection finds it. The binary is --relayd-path, else
// $LTT_RELAYD_PATH, else this installation's ltt-relayd run by this Node.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { DEFAULT_LIVE_PORT } from '../relay/live-client.js';
import { CliError } from './cli-error.js';

/** lttng's check_relayd(): does anything accept connections on 127.0.0.1:5344? */
function liveRelayListens(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port: DEFAULT_LIVE_PORT });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Starts a relay daemon unless one listens; true when one was started ("Spawning a relayd daemon"). */
export async function ensureLocalRelay(relaydPath: string | undefined, say: (line: string) => void): Promise<void> {
  if (await liveRelayListens()) return;
  say('Spawning a relayd daemon');
  const explicit = relaydPath ?? process.env.LTT_RELAYD_PATH;
  const main = fileURLToPath(new URL('../relay/main.js', import.meta.url));
  const [file, args] = explicit ? [explicit, []] : [process.execPath, [existsSync(main) ? main : fileURLToPath(new URL('../relay/main.ts', import.meta.url))]];
  const stderr: string[] = [];
  const status = await new Promise<number>((resolve) => {
    const child = spawn(file, [...args, '-L', `tcp://localhost:${DEFAULT_LIVE_PORT}`, '-d'], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.setEncoding('utf8').on('data', (t: string) => stderr.push(t));
    child.on('error', (error) => {
      stderr.push(error.message);
      resolve(1);
    });
    child.on('exit', (code) => resolve(code ?? 1));
  });
  if (status !== 0) {
    const why = stderr.join('').replace(/^Error:\s*/, '').trim().split('\n')[0];
    throw new CliError('RELAYD_SPAWN', `Cannot start a relay daemon (${file})${why ? `: ${why}` : ''}`);
  }
}
