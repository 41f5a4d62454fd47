import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { undiciHttp } from '../../edge-api/backends/undici-http.ts';
import { fetchHttp, UpstreamTimeoutError, type UpstreamHttp } from '../../edge-api/backends/upstream-http.ts';

/** What the server saw of the last request. */
let seen: { method?: string; url?: string; headers: IncomingMessage['headers']; body: string };
/** Answers by path; each test adds the behaviour it needs. */
const routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>([
  ['/echo', (_req, res) => res.writeHead(201, { 'content-type': 'application/json' }).end('{"ok":true}')],
  ['/refused', (_req, res) => res.writeHead(422).end('no such model')],
  ['/silent', () => undefined],
  [
    '/slow-body',
    (_req, res) => {
      res.writeHead(200).write('first ');
      setTimeout(() => res.end('second'), 300);
    }
  ],
  [
    '/held',
    (_req, res) => {
      res.writeHead(200).write('data: one\n\n');
      release.push(() => res.end('data: two\n\n'));
    }
  ]
]);
let release: (() => void)[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() };
      routes.get(new URL(req.url!, 'http://x').pathname)?.(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  release.forEach((end) => end());
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const undici = undiciHttp();
afterAll(() => undici.close());

const post = (body?: string) => ({
  method: 'POST' as const,
  headers: { 'content-type': 'application/json', authorization: 'Bearer upstream-key' },
  body,
  signal: new AbortController().signal,
  timeoutMs: 5_000
});

async function firstChunk(body: AsyncIterable<Uint8Array>): Promise<string> {
  for await (const chunk of body) {
    return new TextDecoder().decode(chunk);
  }
  return '';
}

// One contract, both adapters of the port: `fetch` (any Hono runtime) and undici (the server on Node).
describe.each<[string, UpstreamHttp]>([
  ['fetch', fetchHttp],
  ['undici', undici.http]
])('UpstreamHttp over %s', (_name, http) => {
  it('sends method, path with query, headers and body, and hands back status and text', async () => {
    const reply = await http(`${base}/echo?x=1`, post('{"model":"m"}'));
    expect(reply.status).toBe(201);
    expect(await reply.text()).toBe('{"ok":true}');
    expect(seen).toMatchObject({
      method: 'POST',
      url: '/echo?x=1',
      body: '{"model":"m"}',
      headers: { 'content-type': 'application/json', authorization: 'Bearer upstream-key' }
    });
  });

  it('hands back an error status with its body, without throwing', async () => {
    const reply = await http(`${base}/refused`, post('{}'));
    expect(reply.status).toBe(422);
    expect(await reply.text()).toBe('no such model');
  });

  it('streams the body as it arrives, not once it has ended', async () => {
    release = [];
    const reply = await http(`${base}/held`, post('{}'));
    // The server holds the rest back until it is released: this chunk came on its own.
    expect(await firstChunk(reply.body)).toBe('data: one\n\n');
    expect(release).toHaveLength(1);
    reply.discard();
    release.forEach((end) => end());
  });

  it('times out waiting for the response head, with UpstreamTimeoutError', async () => {
    // The server never answers: without the timeout this would hang until the test's own limit.
    await expect(http(`${base}/silent`, { ...post('{}'), timeoutMs: 300 })).rejects.toBeInstanceOf(
      UpstreamTimeoutError
    );
  });

  it('does not time out a body that keeps arriving after the head', async () => {
    const reply = await http(`${base}/slow-body`, { ...post('{}'), timeoutMs: 200 });
    expect(await reply.text()).toBe('first second');
  });

  it('stops when the caller aborts, before the head and while reading the body', async () => {
    const early = new AbortController();
    const pending = http(`${base}/silent`, { ...post('{}'), signal: early.signal });
    setTimeout(() => early.abort(new Error('client went away')), 50);
    await expect(pending).rejects.toThrow();

    release = [];
    const late = new AbortController();
    const reply = await http(`${base}/held`, { ...post('{}'), signal: late.signal });
    const reading = (async () => {
      for await (const _chunk of reply.body) {
        late.abort(new Error('client went away'));
      }
    })();
    await expect(reading).rejects.toThrow();
    release.forEach((end) => end());
  });

  it('discards an unread body without an unhandled error, and the next call still works', async () => {
    release = [];
    (await http(`${base}/held`, post('{}'))).discard();
    release.forEach((end) => end());
    const reply = await http(`${base}/echo`, { ...post(), method: 'GET' });
    expect(reply.status).toBe(201);
    await reply.text();
  });

  it('rejects when nothing listens, and not as a timeout', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const failure = await http(`http://127.0.0.1:${port}/echo`, post('{}')).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(UpstreamTimeoutError);
  });
});
