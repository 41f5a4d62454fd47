import type { Server } from 'node:http';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { listen } from '../../edge-api/listen.ts';

/** Some containers have no IPv6 loopback; that case is then skipped rather than failed. */
const ipv6 = await new Promise<boolean>((resolve) => {
  const probe = createServer()
    .once('error', () => resolve(false))
    .listen(0, '::1', () => probe.close(() => resolve(true)));
});

/** Listens on `hostname`, checks the URL it names answers, and hands back the URL's host part. */
async function hostOfUrl(hostname: string): Promise<string> {
  const { server, port, url } = await listen(() => new Response('hello'), 0, hostname);
  try {
    expect(await (await fetch(url)).text()).toBe('hello');
    expect(url).toMatch(new RegExp(`:${port}$`));
    return url.slice('http://'.length, -`:${port}`.length);
  } finally {
    await new Promise((closed) => (server as Server).close(closed));
  }
}

describe('listen', () => {
  it('names the address it serves on as a URL', async () => {
    expect(await hostOfUrl('127.0.0.1')).toBe('127.0.0.1');
  });

  // A bare IPv6 host (http://::1:80) makes no URL.
  it.skipIf(!ipv6)('puts an IPv6 host in brackets', async () => {
    expect(await hostOfUrl('::1')).toBe('[::1]');
  });
});
