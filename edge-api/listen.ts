import { serve, type ServerType, type WebSocketServerLike } from '@hono/node-server';

export interface Listening {
  server: ServerType;
  /** The port it got: the OS picks one for port 0. */
  port: number;
  /** Where it listens, for logs: an IPv6 host (`::`) in brackets. */
  url: string;
}

/**
 * Serves `fetch` on Node and resolves once it is listening; with `websockets`, upgrade requests
 * go through `fetch` too, for routes that call `upgradeWebSocket`.
 */
export function listen(
  fetch: (request: Request) => Response | Promise<Response>,
  port: number,
  hostname: string,
  websockets?: WebSocketServerLike
): Promise<Listening> {
  return new Promise((done) => {
    const host = hostname.includes(':') ? `[${hostname}]` : hostname;
    const websocket = websockets ? { websocket: { server: websockets } } : {};
    const server = serve({ fetch, port, hostname, ...websocket }, (info) =>
      done({ server, port: info.port, url: `http://${host}:${info.port}` })
    );
  });
}
