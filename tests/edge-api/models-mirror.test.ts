import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRange } from '../../edge-api/http/serve-blob.ts';
import { testApp, type TestApp } from './support/test-app.ts';

const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
let t: TestApp;
let app: TestApp['app'];
const url = '/models/org/tiny/resolve/main/onnx/model.onnx';

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mirror-'));
  mkdirSync(join(dir, 'org/tiny/onnx'), { recursive: true });
  writeFileSync(join(dir, 'org/tiny/onnx/model.onnx'), bytes);
  writeFileSync(join(dir, 'org/tiny/config.json'), '{"a":1}');
  writeFileSync(join(dir, 'secret.txt'), 'nope');
  // Public: tablets download models before anyone has signed in.
  t = await testApp({ MODELS_DIR: dir, LOCAL_MODELS: 'none' });
  app = t.app;
});
afterAll(() => t.close());

describe('model mirror', () => {
  it('serves a file in the Hugging Face layout with validators and isolation headers', async () => {
    const res = await app.request(url);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self' 'wasm-unsafe-eval'");
  });

  it('answers a byte range with 206 and Content-Range (resumable downloads)', async () => {
    const res = await app.request(url, { headers: { range: 'bytes=100-199' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 100-199/1000');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes.slice(100, 200));
  });

  it('resumes with If-Range only while the ETag matches; a changed file comes whole', async () => {
    const etag = (await app.request(url)).headers.get('etag')!;
    const same = await app.request(url, { headers: { range: 'bytes=100-199', 'if-range': etag } });
    expect(same.status).toBe(206);
    expect(new Uint8Array(await same.arrayBuffer())).toEqual(bytes.slice(100, 200));
    const changed = await app.request(url, { headers: { range: 'bytes=100-199', 'if-range': '"0-0"' } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('content-range')).toBeNull();
    expect(new Uint8Array(await changed.arrayBuffer())).toEqual(bytes);
  });

  it('answers an open-ended range to the end of the file', async () => {
    const res = await app.request(url, { headers: { range: 'bytes=900-' } });
    expect(res.status).toBe(206);
    expect((await res.arrayBuffer()).byteLength).toBe(100);
  });

  it('answers 416 for a range past the end', async () => {
    const res = await app.request(url, { headers: { range: 'bytes=5000-' } });
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe('bytes */1000');
  });

  it('answers 304 when the ETag still matches', async () => {
    const etag = (await app.request(url)).headers.get('etag')!;
    expect((await app.request(url, { headers: { 'if-none-match': etag } })).status).toBe(304);
  });

  it('answers a missing file with a JSON 404, never an HTML page', async () => {
    const res = await app.request('/models/org/tiny/resolve/main/onnx/missing.onnx');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toMatchObject({ error: { code: 'model_file_not_found' } });
  });

  it('does not let a path escape the models folder', async () => {
    const res = await app.request('/models/org/tiny/resolve/main/..%2F..%2Fsecret.txt');
    expect(res.status).toBe(404);
    const dotted = await app.request('/models/org/tiny/resolve/main/../../../secret.txt');
    expect(dotted.status).toBe(404);
  });

  it('serves JSON files with a JSON content type', async () => {
    const res = await app.request('/models/org/tiny/resolve/abc123/config.json');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ a: 1 });
  });
});

describe('parseRange', () => {
  it.each([
    ['bytes=0-9', [0, 9]],
    ['bytes=-10', [990, 999]],
    ['bytes=995-2000', [995, 999]],
    ['bytes=10-5', 'invalid'],
    ['bytes=-', 'invalid'],
    ['items=0-1', null],
    [undefined, null]
  ] as const)('%s → %j', (header, expected) => {
    expect(parseRange(header, 1000)).toEqual(expected);
  });
});
