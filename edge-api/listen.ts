import { serve, type ServerType } from '@hono/node-server';

export interface Listening {
  server: ServerType;
  /** The port it got: the OS picks one for port 0. */
  port: number;
  /** Where it listens, for logs: an IPv6 host (`::`) in brackets. */
  url: string;
}

/** Serves `fetch` on Node and resolves once it is listening. */
export function listen(
  fetch: (request: Request) => Response | Promise<Response>,
  port: number,
  hostname: string
): Promise<Listening> {
  return new Promise((done) => {
    const host = hostname.includes(':') ? `[${hostname}]` : hostname;
    const server = serve({ fetch, port, hostname }, (info) =>
      done({ server, port: info.port, url: `http://${host}:${info.port}` })
    );
  });
}
