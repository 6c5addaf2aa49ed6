// The relay's three listeners (control, data, live) over one RelayState. Every connection is handled on this
// thread: packets are written as they arrive, so control and data of one stream are seen in arrival order
// without locks.

import { createServer, type Server, type Socket } from 'node:net';
import { ControlConnection } from './control-connection.js';
import { DataConnection } from './data-connection.js';
import { LiveConnection } from './live-connection.js';
import type { ListenUrl } from './relay-options.js';
import { RelayState, type RelayOptions } from './relay-sessions.js';

export interface RelayListen {
  readonly control: ListenUrl;
  readonly data: ListenUrl;
  readonly live: ListenUrl;
}

function listen(url: ListenUrl, what: string, onSocket: (socket: Socket, peer: string) => void): Promise<Server> {
  const server = createServer({ noDelay: true }, (socket) => onSocket(socket, `${socket.remoteAddress}:${socket.remotePort}`));
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(new Error(`cannot listen on the ${what} port tcp://${url.host}:${url.port}: ${error.code ?? error.message}`)));
    server.listen({ host: url.host, port: url.port }, () => resolve(server));
  });
}

export class RelayDaemon {
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly state: RelayState,
    private readonly servers: Server[],
  ) {}

  static async start(listenOn: RelayListen, options: RelayOptions): Promise<RelayDaemon> {
    const state = new RelayState(options);
    const servers: Server[] = [];
    let daemon: RelayDaemon | undefined;
    const track = (socket: Socket): void => {
      daemon?.sockets.add(socket);
      socket.on('close', () => daemon?.sockets.delete(socket));
    };
    try {
      servers.push(
        await listen(listenOn.control, 'control', (s, peer) => {
          track(s);
          new ControlConnection(s, state, peer);
        }),
        await listen(listenOn.data, 'data', (s, peer) => {
          track(s);
          new DataConnection(s, state, peer);
        }),
        await listen(listenOn.live, 'live', (s, peer) => {
          track(s);
          new LiveConnection(s, state, peer);
        }),
      );
    } catch (error) {
      for (const s of servers) s.close();
      throw error;
    }
    daemon = new RelayDaemon(state, servers);
    return daemon;
  }

  /** Stops listening and ends every connection (their sessions close with what they received). */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}
