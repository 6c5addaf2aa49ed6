// ltt-relayd's command line, lttng-relayd's options and defaults (man lttng-relayd.8): control on
// tcp://0.0.0.0:5342, data on tcp://0.0.0.0:5343, live on tcp://localhost:5344, output $LTT_HOME/ltt-traces.

import { join, resolve } from 'node:path';
import { lttHome } from '../control/runtime-paths.js';
import { daemonOptions } from '../daemon-start.js';
import { LttError } from '../errors.js';

export const DEFAULT_CONTROL_PORT = 5342;
export const DEFAULT_DATA_PORT = 5343;
export const DEFAULT_LIVE_PORT = 5344;

export interface ListenUrl {
  readonly host: string;
  readonly port: number;
}

export interface RelayArgs {
  control: ListenUrl;
  data: ListenUrl;
  live: ListenUrl;
  output: string;
  daemonize: boolean;
  group: string;
  allowClear: boolean;
  verbose: boolean;
  readyFd: number | undefined;
  help: boolean;
  version: boolean;
}

export const USAGE = `Usage: ltt-relayd [OPTIONS]
  -C, --control-port URL     control port (default tcp://0.0.0.0:${DEFAULT_CONTROL_PORT})
  -D, --data-port URL        data port (default tcp://0.0.0.0:${DEFAULT_DATA_PORT})
  -L, --live-port URL        live viewer port (default tcp://localhost:${DEFAULT_LIVE_PORT})
  -o, --output DIR           trace output root (default $LTT_HOME/ltt-traces)
  -d, --daemonize            run in the background, return once listening
  -b, --background           same as --daemonize
  -g, --group GROUP          tracing group (accepted as lttng-relayd's; ltt-relayd has no health socket)
  -x, --disallow-clear       refuse clear operations (env LTTNG_RELAYD_DISALLOW_CLEAR)
  -v, --verbose              log to stderr
  -V, --version              print the version
  -h, --help                 this help
URL: tcp://HOST:PORT or tcp6://[ADDR]:PORT (IPv6 addresses in brackets).
`;

/** `tcp://HOST:PORT` as lttng-relayd takes it; the port may be left out (then `port`). */
export function parseListenUrl(text: string, port: number): ListenUrl {
  const m = /^tcp6?:\/\/(\[[0-9A-Fa-f:.]+\]|[^/:[\]]+)(?::(\d+))?\/?$/.exec(text);
  if (m === null) throw new LttError('RELAY_USAGE', `Invalid URL "${text}" (expected tcp://HOST:PORT)`);
  const p = m[2] === undefined ? port : Number(m[2]);
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new LttError('RELAY_USAGE', `Invalid port in "${text}"`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: p };
}

export function parseRelayArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): RelayArgs {
  const args: RelayArgs = {
    control: { host: '0.0.0.0', port: DEFAULT_CONTROL_PORT },
    data: { host: '0.0.0.0', port: DEFAULT_DATA_PORT },
    live: { host: 'localhost', port: DEFAULT_LIVE_PORT },
    output: join(lttHome(env), 'ltt-traces'),
    daemonize: false,
    group: 'tracing',
    allowClear: env.LTTNG_RELAYD_DISALLOW_CLEAR === undefined,
    verbose: false,
    readyFd: undefined,
    help: false,
    version: false,
  };
  for (const { flag, word, value } of daemonOptions(argv, 'CDLogw', (message) => new LttError('RELAY_USAGE', message))) {
    switch (flag) {
      case '-C':
      case '--control-port':
        args.control = parseListenUrl(value(), DEFAULT_CONTROL_PORT);
        break;
      case '-D':
      case '--data-port':
        args.data = parseListenUrl(value(), DEFAULT_DATA_PORT);
        break;
      case '-L':
      case '--live-port':
        args.live = parseListenUrl(value(), DEFAULT_LIVE_PORT);
        break;
      case '-o':
      case '--output':
        args.output = resolve(value());
        break;
      case '-d':
      case '--daemonize':
      case '-b':
      case '--background':
        args.daemonize = true;
        break;
      case '-g':
      case '--group':
        args.group = value();
        break;
      case '-x':
      case '--disallow-clear':
        args.allowClear = false;
        break;
      case '-v':
      case '--verbose':
        args.verbose = true;
        break;
      case '--ready-fd':
        args.readyFd = Number(value());
        break;
      case '-h':
      case '--help':
        args.help = true;
        break;
      case '-V':
      case '--version':
        args.version = true;
        break;
      default:
        throw new LttError('RELAY_USAGE', `Unknown option ${word}`);
    }
  }
  return args;
}
