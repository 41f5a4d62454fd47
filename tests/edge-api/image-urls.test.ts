import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gradientPng } from './support/png.ts';
import { jsonHeaders, testApp, VISION_MODEL, type TestApp } from './support/test-app.ts';

const LIMIT_BYTES = 64 * 1024;
const TIMEOUT_MS = 300;

let t: TestApp;
let images: Server;
let internal: Server;
let imagesUrl: string;
/** Requests that reached the "internal" server, which only a followed redirect could reach. */
let internalHits = 0;

async function listen(server: Server): Promise<number> {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  internal = createServer((_req, res) => {
    internalHits += 1;
    res.writeHead(200, { 'content-type': 'image/png' }).end(gradientPng());
  });
  const internalPort = await listen(internal);
  images = createServer((req, res) => {
    if (req.url === '/frame.png') {
      res.writeHead(200, { 'content-type': 'image/png' }).end(gradientPng());
    } else if (req.url === '/moved.png') {
      // `localhost` is not on the allowlist: only following the redirect would get there.
      res.writeHead(302, { location: `http://localhost:${internalPort}/frame.png` }).end();
    } else if (req.url === '/endless.png') {
      // No Content-Length, and more than the limit: only counting the bytes read can stop it.
      res.writeHead(200, { 'content-type': 'image/png' });
      const send = () => res.write(Buffer.alloc(16 * 1024), () => !res.destroyed && setImmediate(send));
      send();
    } else if (req.url === '/declared-huge.png') {
      // Says how large it is, then sends nothing: only the declared length can refuse it in time.
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(LIMIT_BYTES + 1) }).flushHeaders();
    } else if (req.url === '/stalled.png') {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.write(gradientPng().subarray(0, 16));
    } else {
      res.writeHead(404).end();
    }
  });
  imagesUrl = `http://127.0.0.1:${await listen(images)}`;
  t = await testApp({
    IMAGE_URL_HOSTS: '127.0.0.1',
    BODY_LIMIT_MB: String(LIMIT_BYTES / 1024 / 1024),
    IMAGE_FETCH_TIMEOUT_MS: String(TIMEOUT_MS)
  });
});

afterAll(async () => {
  await t.close();
  for (const server of [images, internal]) {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  }
});

const askAbout = (path: string) =>
  t.app.request('/v1/chat/completions', {
    method: 'POST',
    headers: jsonHeaders(),
    body: JSON.stringify({
      model: VISION_MODEL,
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `${imagesUrl}${path}` } }] }],
      max_tokens: 2
    })
  });

/** A 400 `invalid_image` in the OpenAI error shape; returns its message. */
async function invalidImage(res: Response): Promise<string> {
  expect(res.status).toBe(400);
  const body = (await res.json()) as { error: { message: string } };
  expect(body).toEqual({
    error: { message: expect.any(String), type: 'invalid_request_error', param: 'messages', code: 'invalid_image' }
  });
  return body.error.message;
}

describe('images the local backend fetches by URL', () => {
  it('answers about a PNG from an allowed host', async () => {
    const res = await askAbout('/frame.png');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { usage: { prompt_tokens: number } };
    // The image tokens are in the prompt: it was fetched and read, not skipped.
    expect(body.usage.prompt_tokens).toBeGreaterThan(20);
  });

  it('refuses a redirect instead of following it to another host', async () => {
    expect(await invalidImage(await askAbout('/moved.png'))).toMatch(/redirects/);
    expect(internalHits).toBe(0);
  });

  it('stops reading an image past the body limit', async () => {
    expect(await invalidImage(await askAbout('/endless.png'))).toMatch(/larger than/);
  });

  it('refuses an image that declares more than the body limit before reading it', async () => {
    expect(await invalidImage(await askAbout('/declared-huge.png'))).toMatch(/larger than/);
  });

  it('gives up on an image that stalls', async () => {
    expect(await invalidImage(await askAbout('/stalled.png'))).toMatch(/did not download within 0.3 s/);
  });

  it('names an error status of the image server without its address', async () => {
    const message = await invalidImage(await askAbout('/missing.png'));
    expect(message).toMatch(/HTTP 404/);
    expect(message).not.toContain('127.0.0.1');
  });
});
