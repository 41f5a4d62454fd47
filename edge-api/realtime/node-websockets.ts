import { WebSocketServer, type WebSocket } from 'ws';
import { CLOSE } from './messages.ts';

/** Mobile networks and proxies commonly drop connections idle for 60 s; a ping keeps them open. */
const HEARTBEAT_MS = 30_000;

export interface NodeWebSockets {
  /** For `serve({ websocket: { server } })`. */
  server: WebSocketServer;
  /**
   * Shutdown: every client is told 1001 (going away) so it reconnects and resumes elsewhere;
   * those that have not closed after `graceMs` are cut.
   */
  close(graceMs: number): Promise<void>;
}

/**
 * The `ws` server behind `/ws` on Node: messages above `maxPayloadBytes` close the connection
 * with 1009 (ws checks as it reads, before buffering the whole message), and a ping every
 * `heartbeatMs` finds dead peers: one that has not answered the previous ping is cut, so a phone
 * that lost its network does not hold a session's connection count up forever.
 */
export function nodeWebSockets(options: { maxPayloadBytes: number; heartbeatMs?: number }): NodeWebSockets {
  const server = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes });
  const answered = new WeakSet<WebSocket>();
  server.on('connection', (socket) => {
    answered.add(socket);
    socket.on('pong', () => answered.add(socket));
  });
  const heartbeat = setInterval(() => {
    for (const socket of server.clients) {
      if (!answered.has(socket)) {
        socket.terminate();
        continue;
      }
      answered.delete(socket);
      socket.ping();
    }
  }, options.heartbeatMs ?? HEARTBEAT_MS);
  heartbeat.unref();

  return {
    server,
    async close(graceMs) {
      clearInterval(heartbeat);
      const sockets = [...server.clients];
      const closed = sockets.map((socket) => new Promise<void>((done) => socket.once('close', () => done())));
      for (const socket of sockets) {
        socket.close(CLOSE.goingAway, 'Server shutting down');
      }
      const cut = setTimeout(() => sockets.forEach((socket) => socket.terminate()), graceMs);
      await Promise.all(closed);
      clearTimeout(cut);
    }
  };
}
