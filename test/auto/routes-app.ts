// examples/auto-routes.mjs under `node --import ltt/auto`, as the ltt/auto, `analyze requests` and `ltt web` tests
// run it, and the session `analyze requests` needs (the kernel's scheduling and system calls, ltt/auto's events
// with the thread contexts).

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../repo-paths.js';

const AUTO = pathToFileURL(join(REPO_ROOT, 'dist', 'src', 'auto', 'index.js')).href;
const APP = join(REPO_ROOT, 'examples', 'auto-routes.mjs');

export interface RoutesApp {
  app: ChildProcess;
  port: number;
  exited: Promise<number | null>;
}

/** Starts the routes app with `env` (behind `prefix`, e.g. taskset); resolves with its port once it listens. */
export function startRoutesApp(env: NodeJS.ProcessEnv, prefix: readonly string[] = []): Promise<RoutesApp> {
  const cmd = [...prefix, process.execPath, '--import', AUTO, APP];
  const app = spawn(cmd[0]!, cmd.slice(1), { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => app.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => (app.kill('SIGKILL'), reject(new Error('the app did not listen'))), 60_000);
    app.stdout!.on('data', (d: Buffer) => {
      const m = /listening (\d+)/.exec((text += d.toString()));
      if (m) {
        clearTimeout(timer);
        resolve({ app, port: Number(m[1]), exited });
      }
    });
  });
}

/** In the current session: the kernel channel and the ltt/auto channel `analyze requests` reads. */
export async function enableRequestEvents(ltt: (...args: string[]) => Promise<unknown>): Promise<void> {
  await ltt('enable-channel', '-k', '--subbuf-size=8M', 'chan1');
  await ltt('enable-event', '-k', '-c', 'chan1', 'sched_switch,sched_waking,sched_wakeup,sched_process_fork,sched_process_exit,lttng_statedump_process_state');
  await ltt('enable-event', '-k', '-c', 'chan1', '--syscall', '-a');
  await ltt('enable-channel', '-u', '--subbuf-size=1M', 'uchan');
  await ltt('enable-event', '-u', '-c', 'uchan', 'node:*');
  await ltt('add-context', '-u', '-c', 'uchan', '-t', 'vpid', '-t', 'vtid');
}
