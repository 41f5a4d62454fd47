import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, testApp, testServer, type TestApp, type TestServer } from './support/test-app.ts';

/** A stand-in build folder as `vite build` leaves it: pages, hashed assets, precompressed copies. */
const build = mkdtempSync(join(tmpdir(), 'build-'));
const SCRIPT = `export const answer = "${'forty-two '.repeat(200)}";`;
const write = (path: string, content: string | Buffer, compressed = false) => {
  mkdirSync(join(build, path, '..'), { recursive: true });
  writeFileSync(join(build, path), content);
  if (compressed) {
    writeFileSync(join(build, `${path}.br`), brotliCompressSync(content));
    writeFileSync(join(build, `${path}.gz`), gzipSync(content));
  }
};
write('index.html', '<!doctype html><title>home</title>', true);
write('models.html', '<!doctype html><title>models page</title>', true);
write('200.html', '<!doctype html><title>spa shell</title>', true);
write('manifest.webmanifest', '{"name":"Vision Hub"}', true);
write('service-worker.js', 'self.addEventListener("fetch", () => {});', true);
write('_app/start.js', 'export {};');
write('_app/immutable/chunks/app.Ab12Cd.js', SCRIPT, true);
write('icons/icon-192.png', Buffer.from([0x89, 0x50, 0x4e, 0x47]));

let t: TestApp;
let server: TestServer;
beforeAll(async () => {
  [t, server] = await Promise.all([testApp({ STATIC_DIR: build }), testServer({ STATIC_DIR: build })]);
});
afterAll(async () => {
  await Promise.all([t.close(), server.close()]);
  rmSync(build, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Over real HTTP with node:http, which neither decodes nor asks for codings on its own (unlike fetch). */
function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${server.url}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const page = async (path: string) => {
  const res = await t.app.request(path);
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    csp: res.headers.get('content-security-policy'),
    isolated:
      res.headers.get('cross-origin-opener-policy') === 'same-origin' &&
      res.headers.get('cross-origin-embedder-policy') === 'require-corp',
    text: await res.text()
  };
};

it('serves prerendered pages by their link, cross-origin isolated, with their own CSP (meta tag), not the API’s', async () => {
  expect(await page('/')).toMatchObject({ status: 200, isolated: true, text: expect.stringContaining('home') });
  const models = await page('/models');
  expect(models).toMatchObject({ status: 200, type: expect.stringContaining('text/html'), csp: null, isolated: true });
  expect(models.text).toContain('models page');
});

it('serves the SPA shell for client-side routes, scripts with the asset CSP', async () => {
  expect((await page('/knowledge/some/deep/link')).text).toContain('spa shell');
  const script = await page('/_app/start.js');
  expect(script).toMatchObject({ status: 200, isolated: true });
  expect(script.csp).toContain("script-src 'self'");
});

it('keeps JSON 404s for API paths, the model mirror included', async () => {
  for (const path of ['/v1/nothing', '/models/org/none/resolve/main/config.json', '/health/nothing']) {
    const res = await t.app.request(path, { headers: auth() });
    expect(res.status, path).toBe(404);
    expect(res.headers.get('content-type'), path).toContain('application/json');
  }
});

describe('over HTTP', () => {
  const HASHED = '/_app/immutable/chunks/app.Ab12Cd.js';

  it('sends brotli before gzip, by q-value, with the right type, length and Vary', async () => {
    const br = await get(HASHED, { 'accept-encoding': 'gzip, deflate, br, zstd' });
    expect(br.headers).toMatchObject({
      'content-encoding': 'br',
      'content-type': expect.stringContaining('text/javascript'),
      'content-length': String(br.body.length),
      vary: expect.stringMatching(/accept-encoding/i)
    });
    expect(br.body.length).toBeLessThan(SCRIPT.length);
    expect(brotliDecompressSync(br.body).toString()).toBe(SCRIPT);

    const gzip = await get(HASHED, { 'accept-encoding': 'br;q=0.5, gzip;q=0.9' });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gzip.body).toString()).toBe(SCRIPT);
    expect((await get(HASHED, { 'accept-encoding': 'br;q=0, *' })).headers['content-encoding']).toBe('gzip');
  });

  it('sends the file itself when no coding is accepted', async () => {
    for (const accept of [undefined, 'identity', 'br;q=0, gzip;q=0', 'deflate']) {
      const res = await get(HASHED, accept === undefined ? {} : { 'accept-encoding': accept });
      expect(res.headers['content-encoding'], accept).toBeUndefined();
      expect(res.body.toString(), accept).toBe(SCRIPT);
      expect(res.headers['content-length'], accept).toBe(String(SCRIPT.length));
    }
  });

  it('caches hashed assets for a year, and revalidates pages, the manifest and the service worker', async () => {
    expect((await get(HASHED)).headers['cache-control']).toBe('public, max-age=31536000, immutable');
    for (const path of [
      '/',
      '/models',
      '/knowledge/deep/link',
      '/manifest.webmanifest',
      '/service-worker.js',
      '/_app/start.js'
    ]) {
      const res = await get(path, { 'accept-encoding': 'br' });
      expect(res.headers['cache-control'], path).toBe('no-cache');
      expect(res.headers.etag, path).toMatch(/^"[\w-]+"$/);
    }
    expect((await get('/manifest.webmanifest')).headers['content-type']).toBe('application/manifest+json');
  });

  it('answers 304 to a matching ETag, with one ETag per coding', async () => {
    const br = await get('/', { 'accept-encoding': 'br' });
    const plain = await get('/');
    expect(br.headers.etag).not.toBe(plain.headers.etag);
    const again = await get('/', { 'accept-encoding': 'br', 'if-none-match': `"other", ${br.headers.etag}` });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    // A cache merges these into the stored page: it must still read as HTML, without the file CSP.
    expect(again.headers).toMatchObject({
      etag: br.headers.etag,
      'content-type': expect.stringContaining('text/html')
    });
    expect(again.headers['content-security-policy']).toBeUndefined();
    expect((await get('/', { 'if-none-match': br.headers.etag as string })).status).toBe(200);
    expect((await get('/', { 'if-none-match': plain.headers.etag as string })).status).toBe(304);
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const head = await get(HASHED, { 'accept-encoding': 'br' }, 'HEAD');
    const full = await get(HASHED, { 'accept-encoding': 'br' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers['content-length']).toBe(full.headers['content-length']);
    expect(head.headers['content-encoding']).toBe('br');
  });

  it('serves byte ranges of the file itself, never of a compressed copy', async () => {
    const part = await get(HASHED, { 'accept-encoding': 'br, gzip', range: 'bytes=7-12' });
    expect(part.status).toBe(206);
    expect(part.headers['content-encoding']).toBeUndefined();
    expect(part.headers['content-range']).toBe(`bytes 7-12/${SCRIPT.length}`);
    expect(part.body.toString()).toBe(SCRIPT.slice(7, 13));
    expect((await get(HASHED, { range: `bytes=${SCRIPT.length}-` })).status).toBe(416);
    // If-Range with another representation's tag: the whole file, as RFC 9110 asks.
    const br = await get(HASHED, { 'accept-encoding': 'br' });
    const stale = await get(HASHED, { range: 'bytes=0-3', 'if-range': br.headers.etag as string });
    expect(stale.status).toBe(200);
  });

  it('leaves files that do not shrink uncompressed, and 404s missing files instead of the SPA shell', async () => {
    const icon = await get('/icons/icon-192.png', { 'accept-encoding': 'br' });
    expect(icon.headers).toMatchObject({ 'content-type': 'image/png', 'content-length': '4' });
    expect(icon.headers['content-encoding']).toBeUndefined();
    expect(icon.headers.vary ?? '').not.toMatch(/accept-encoding/i);
    for (const path of ['/_app/immutable/chunks/gone.js', '/ort/gone.wasm', '/gone.png', '/models/org/none/x.json']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(res.headers['content-type'], path).not.toContain('text/html');
    }
    // Dot segments resolve inside the URL (to /etc/passwd, a page route here), never on disk.
    expect((await get('/_app/%2e%2e/%2e%2e/etc/passwd')).body.toString()).not.toContain('root:');
    const spa = await get('/knowledge/some/deep/link', { 'accept-encoding': 'gzip' });
    expect(spa.status).toBe(200);
    expect(gunzipSync(spa.body).toString()).toContain('spa shell');
  });
});
