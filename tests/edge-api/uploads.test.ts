import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../src/lib/core/edge-wire.ts';
import { gradientPng } from './support/png.ts';
import { auth, jsonHeaders, testServer, type TestServer } from './support/test-app.ts';

type Tenant = 'alpha' | 'beta';
interface UploadView {
  id: string;
  length: number;
  offset: number;
  complete: boolean;
  content_type: string;
  sha256: string | null;
  reference: string;
}

const CHUNK = 'application/offset+octet-stream';
const MAX_UPLOAD = 1024 * 1024;
const BODY_LIMIT = 256 * 1024;

let server: TestServer;
let dataDir: string;
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'uploads-'));
  server = await testServer({ DATA_DIR: dataDir, UPLOAD_MAX_MB: '1', BODY_LIMIT_MB: '0.25' });
});
afterAll(() => server.close());

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const base64 = (text: string) => Buffer.from(text).toString('base64');

async function create(length: number, tenant: Tenant = 'alpha', filetype?: string) {
  return fetch(`${server.url}/v1/uploads`, {
    method: 'POST',
    headers: {
      ...auth(tenant),
      'upload-length': String(length),
      ...(filetype ? { 'upload-metadata': `filename ${base64('x')},filetype ${base64(filetype)}` } : {})
    }
  });
}

async function created(length: number, tenant: Tenant = 'alpha', filetype?: string): Promise<string> {
  const res = await create(length, tenant, filetype);
  expect(res.status).toBe(201);
  return new URL(res.headers.get('location')!, server.url).href;
}

const patch = (url: string, offset: number, bytes: Uint8Array, tenant: Tenant = 'alpha') =>
  fetch(url, {
    method: 'PATCH',
    headers: { ...auth(tenant), 'content-type': CHUNK, 'upload-offset': String(offset) },
    // A copy on its own ArrayBuffer: fetch's types take no view of a possibly shared buffer.
    body: new Uint8Array(bytes)
  });

const head = (url: string, tenant: Tenant = 'alpha') => fetch(url, { method: 'HEAD', headers: auth(tenant) });
const view = async (url: string, tenant: Tenant = 'alpha') =>
  (await (await fetch(url, { headers: auth(tenant) })).json()) as UploadView;

/** Sends all of `bytes` from `offset` in `size`-byte chunks, each answered with the offset it reached. */
async function sendInChunks(url: string, bytes: Uint8Array, offset: number, size: number) {
  for (let at = offset; at < bytes.length; at += size) {
    const res = await patch(url, at, bytes.subarray(at, at + size));
    expect(res.status).toBe(204);
    expect(Number(res.headers.get('upload-offset'))).toBe(Math.min(at + size, bytes.length));
  }
}

const until = async (check: () => boolean | Promise<boolean>, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error('timed out');
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('resumable uploads (/v1/uploads, after tus 1.0)', () => {
  it('creates an upload, takes it in chunks, tells the offset and the SHA-256 once complete', async () => {
    const bytes = randomBytes(300_000);
    const res = await create(bytes.length, 'alpha', 'video/mp4');
    expect(res.status).toBe(201);
    expect(res.headers.get('tus-resumable')).toBe('1.0.0');
    expect(res.headers.get('upload-offset')).toBe('0');
    expect(Date.parse(res.headers.get('upload-expires')!)).toBeGreaterThan(Date.now());
    const url = new URL(res.headers.get('location')!, server.url).href;

    await sendInChunks(url, bytes, 0, 100_000);
    const asked = await head(url);
    expect(asked.status).toBe(200);
    expect(asked.headers.get('upload-offset')).toBe(String(bytes.length));
    expect(asked.headers.get('upload-length')).toBe(String(bytes.length));
    expect(asked.headers.get('cache-control')).toBe('no-store');
    expect(await view(url)).toMatchObject({
      offset: bytes.length,
      complete: true,
      content_type: 'video/mp4',
      sha256: sha256(bytes)
    });
  });

  it('keeps what arrived before a dropped connection and resumes from there to the same SHA-256', async () => {
    const bytes = randomBytes(600_000);
    const url = await created(bytes.length);
    const { id } = await view(url);
    const sent = 150_000;
    // One PATCH declaring the whole rest, cut off (socket destroyed) once part of it is stored.
    const cut = httpRequest(url, {
      method: 'PATCH',
      headers: { ...auth(), 'content-type': CHUNK, 'upload-offset': '0', 'content-length': String(BODY_LIMIT) }
    });
    cut.on('error', () => undefined);
    cut.write(bytes.subarray(0, sent));
    const stored = join(dataDir, 'artifacts/uploads/alpha', id, 'data');
    await until(() => statSync(stored).size === sent);
    cut.destroy();

    const asked = await head(url);
    expect(asked.headers.get('upload-offset')).toBe(String(sent));
    await sendInChunks(url, bytes, sent, 200_000);
    expect(await view(url)).toMatchObject({ complete: true, sha256: sha256(bytes) });
  });

  it('refuses a chunk at the wrong offset with 409 and the offset to resume from', async () => {
    const url = await created(10);
    expect((await patch(url, 0, new Uint8Array(4))).status).toBe(204);
    const wrong = await patch(url, 2, new Uint8Array(4));
    expect(wrong.status).toBe(409);
    expect(wrong.headers.get('upload-offset')).toBe('4');
    expect(await wrong.json()).toMatchObject({ error: { code: 'upload_offset_mismatch', type: 'conflict_error' } });
    expect((await head(url)).headers.get('upload-offset')).toBe('4');
  });

  it('refuses an upload over UPLOAD_MAX_MB, a chunk past its length and one over the body limit (413)', async () => {
    const tooBig = await create(MAX_UPLOAD + 1);
    expect(tooBig.status).toBe(413);
    expect(await tooBig.json()).toMatchObject({ error: { code: 'upload_too_large' } });

    const url = await created(100);
    const past = await patch(url, 0, new Uint8Array(101));
    expect(past.status).toBe(413);
    expect(await past.json()).toMatchObject({ error: { code: 'upload_too_large' } });
    expect((await head(url)).headers.get('upload-offset')).toBe('0');

    const big = await created(MAX_UPLOAD);
    const chunk = await patch(big, 0, new Uint8Array(BODY_LIMIT + 1));
    expect(chunk.status).toBe(413);
    expect(await chunk.json()).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  it('refuses a chunk that is not application/offset+octet-stream (415)', async () => {
    const url = await created(4);
    const res = await fetch(url, {
      method: 'PATCH',
      headers: { ...auth(), 'content-type': 'application/json', 'upload-offset': '0' },
      body: '{}'
    });
    expect(res.status).toBe(415);
  });

  it('keeps each tenant to its own uploads: another tenant’s is a 404, and unusable in its jobs', async () => {
    const url = await created(4);
    expect((await head(url, 'beta')).status).toBe(404);
    const asBeta = await fetch(url, { headers: auth('beta') });
    expect(asBeta.status).toBe(404);
    expect(await asBeta.json()).toMatchObject({ error: { code: 'upload_not_found', type: 'not_found_error' } });
    expect((await patch(url, 0, new Uint8Array(4), 'beta')).status).toBe(404);
    // Untouched by the refused chunk.
    expect((await head(url)).headers.get('upload-offset')).toBe('0');
  });

  it('needs credentials when keys are configured (401)', async () => {
    const url = await created(4);
    const anonymous = [
      await fetch(`${server.url}/v1/uploads`, { method: 'POST', headers: { 'upload-length': '4' } }),
      await fetch(url, { method: 'HEAD' }),
      await fetch(url, { method: 'PATCH', headers: { 'content-type': CHUNK, 'upload-offset': '0' }, body: 'abcd' })
    ];
    expect(anonymous.map((res) => res.status)).toEqual([401, 401, 401]);
  });

  it('serves as a job input by its `upload:` reference, once complete and only to its tenant', async () => {
    const png = gradientPng(24, 24);
    const url = await created(png.length, 'alpha', 'image/png');
    const { reference } = await view(url);
    const submit = (tenant: Tenant) =>
      fetch(`${server.url}/v1/jobs`, {
        method: 'POST',
        headers: jsonHeaders(tenant),
        body: JSON.stringify({ type: 'medgemma.analyze', input: { images: [{ url: reference }], max_tokens: 2 } })
      });

    const early = await submit('alpha');
    expect(early.status).toBe(422);
    expect(await early.json()).toMatchObject({ error: { code: 'upload_incomplete', param: 'input.images.0.url' } });

    expect((await patch(url, 0, png)).status).toBe(204);
    const stranger = await submit('beta');
    expect(stranger.status).toBe(422);
    expect(await stranger.json()).toMatchObject({ error: { code: 'upload_not_found', param: 'input.images.0.url' } });

    const accepted = await submit('alpha');
    expect(accepted.status).toBe(202);
    const { id } = (await accepted.json()) as JobView;
    let job!: JobView;
    await until(async () => {
      job = (await (await fetch(`${server.url}/v1/jobs/${id}`, { headers: auth() })).json()) as JobView;
      return job.state !== 'queued' && job.state !== 'running';
    }, 60_000);
    expect(job).toMatchObject({ state: 'completed', result: { findings: [{ index: 0 }] } });
  }, 90_000);

  it('lists the upload routes in the OpenAPI document', async () => {
    const spec = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(spec.paths['/v1/uploads'] ?? {})).toContain('post');
    expect(Object.keys(spec.paths['/v1/uploads/{id}'] ?? {})).toEqual(expect.arrayContaining(['get', 'patch']));
  });
});

describe('upload retention', () => {
  it('removes uploads once JOB_RETENTION_HOURS have passed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uploads-retention-'));
    // 1.5 s: the sweep runs as often as the retention when it is under an hour.
    const short = await testServer({ DATA_DIR: dir, JOB_RETENTION_HOURS: String(1.5 / 3600) });
    try {
      const res = await fetch(`${short.url}/v1/uploads`, {
        method: 'POST',
        headers: { ...auth(), 'upload-length': '4' }
      });
      const url = new URL(res.headers.get('location')!, short.url).href;
      const { id } = (await (await fetch(url, { headers: auth() })).json()) as UploadView;
      const folder = join(dir, 'artifacts/uploads/alpha', id);
      expect(existsSync(folder)).toBe(true);
      await until(() => !existsSync(folder));
      expect((await fetch(url, { method: 'HEAD', headers: auth() })).status).toBe(404);
    } finally {
      await short.close();
    }
  });
});
