// The viewer side of LTTng's live protocol 2.4, as far as `ltt view -i lttng-live net://HOST[:PORT]` uses it:
// connect and list the relay's sessions (what babeltrace2 prints for a URL without /host/HOST/SESSION).

import { connect } from 'node:net';
import { LttError } from '../errors.js';
import { ByteQueue } from './byte-queue.js';
import { VIEWER_CLIENT_COMMAND, VIEWER_HOST_NAME_MAX, VIEWER_NAME_MAX, VIEWER_SESSION_SIZE, ViewerCommand } from './live-protocol.js';
import { RELAY_MAJOR } from './relay-protocol.js';

export const DEFAULT_LIVE_PORT = 5344;

export interface LiveSessionInfo {
  readonly id: bigint;
  readonly liveTimerUs: number;
  readonly clients: number;
  readonly streams: number;
  readonly hostname: string;
  readonly name: string;
}

export interface LiveUrl {
  readonly host: string;
  /** As written in the URL (babeltrace2 repeats it only then). */
  readonly port: number | undefined;
  readonly target?: { readonly hostname: string; readonly session: string };
}

/** net://HOST[:PORT][/host/HOSTNAME/SESSION] (also net4://, and [IPv6] hosts), babeltrace2's lttng-live URL. */
export function parseLiveUrl(url: string): LiveUrl {
  const m = /^net[46]?:\/\/(\[[^\]]+\]|[^/:]+)(?::(\d+))?(?:\/host\/([^/]+)\/([^/]+))?\/?$/.exec(url);
  if (m === null || (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535))) {
    throw new LttError('LIVE_URL', `Invalid LTTng live URL "${url}" (expected net://HOST[:PORT][/host/HOSTNAME/SESSION])`);
  }
  return {
    host: m[1]!.replace(/^\[|\]$/g, ''),
    port: m[2] === undefined ? undefined : Number(m[2]),
    ...(m[3] !== undefined ? { target: { hostname: m[3], session: m[4]! } } : {}),
  };
}

function cString(b: Buffer): string {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString('utf8');
}

/** CONNECT then LIST_SESSIONS on the relay's live port. */
export function listLiveSessions(host: string, port: number): Promise<LiveSessionInfo[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const queue = new ByteQueue();
    const fail = (why: string): void => {
      socket.destroy();
      reject(new LttError('LIVE_RELAY', `Cannot list the sessions of the relay at ${host}:${port}: ${why}`));
    };
    const request = (cmd: ViewerCommand, payload: Buffer): Buffer => {
      const h = Buffer.alloc(16);
      h.writeBigUInt64BE(BigInt(payload.length), 0);
      h.writeUInt32BE(cmd, 8);
      return Buffer.concat([h, payload]);
    };
    socket.once('connect', () => {
      const hello = Buffer.alloc(20);
      hello.writeBigInt64BE(-1n, 0);
      hello.writeUInt32BE(RELAY_MAJOR, 8);
      hello.writeUInt32BE(4, 12);
      hello.writeUInt32BE(VIEWER_CLIENT_COMMAND, 16);
      socket.write(Buffer.concat([request(ViewerCommand.CONNECT, hello), request(ViewerCommand.LIST_SESSIONS, Buffer.alloc(0))]));
    });
    socket.on('data', (chunk: Buffer) => {
      queue.push(chunk);
      if (queue.length < 24) return;
      const head = queue.peek(24);
      if (head.readUInt32BE(8) !== RELAY_MAJOR) return fail(`relay protocol ${head.readUInt32BE(8)}.x`);
      const count = head.readUInt32BE(20);
      if (queue.length < 24 + count * VIEWER_SESSION_SIZE) return;
      queue.take(24);
      const sessions: LiveSessionInfo[] = [];
      for (let i = 0; i < count; i++) {
        const s = queue.take(VIEWER_SESSION_SIZE);
        sessions.push({
          id: s.readBigUInt64BE(0),
          liveTimerUs: s.readUInt32BE(8),
          clients: s.readUInt32BE(12),
          streams: s.readUInt32BE(16),
          hostname: cString(s.subarray(20, 20 + VIEWER_HOST_NAME_MAX)),
          name: cString(s.subarray(20 + VIEWER_HOST_NAME_MAX, 20 + VIEWER_HOST_NAME_MAX + VIEWER_NAME_MAX)),
        });
      }
      socket.end();
      resolve(sessions);
    });
    socket.on('error', (e: NodeJS.ErrnoException) => fail(e.code ?? e.message));
    socket.on('close', () => fail('the relay closed the connection'));
  });
}
