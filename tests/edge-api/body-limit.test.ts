import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonHeaders, testServer, type TestServer } from './support/test-app.ts';

/** 10 KiB, so a few tens of KiB are over it. */
const LIMIT_BYTES = 10_240;
let server: TestServer;
beforeAll(async () => {
  server = await testServer({ BODY_LIMIT_MB: String(LIMIT_BYTES / 1024 / 1024) });
});
afterAll(() => server.close());

interface Answer {
  status: number;
  body: unknown;
}

/**
 * POSTs `parts` over real HTTP: with `Content-Length` declared, or chunked when it is not (what a
 * streaming client sends). `app.request()` cannot show either: its Request carries no such header.
 */
function post(path: string, parts: string[], declareLength: boolean): Promise<Answer> {
  const bytes = parts.reduce((sum, part) => sum + Buffer.byteLength(part), 0);
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}${path}`,
      {
        method: 'POST',
        headers: { ...jsonHeaders(), ...(declareLength && { 'content-length': String(bytes) }) }
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as unknown }));
      }
    );
    req.on('error', reject);
    for (const part of parts) {
      req.write(part);
    }
    req.end();
  });
}

const embeddingBody = (textBytes: number) => [
  '{"model":"tiny-bert","input":"',
  ...Array.from({ length: textBytes / 1024 }, () => 'x'.repeat(1024)),
  '"}'
];

const tooLarge = {
  error: {
    message: `The request body is larger than ${LIMIT_BYTES} bytes`,
    type: 'invalid_request_error',
    param: null,
    code: 'payload_too_large'
  }
};

describe('request body limit over HTTP', () => {
  it('refuses a declared Content-Length over the limit with 413', async () => {
    expect(await post('/v1/embeddings', embeddingBody(4 * LIMIT_BYTES), true)).toEqual({ status: 413, body: tooLarge });
  });

  it('refuses a chunked body that grows past the limit with 413', async () => {
    expect(await post('/v1/embeddings', embeddingBody(4 * LIMIT_BYTES), false)).toEqual({
      status: 413,
      body: tooLarge
    });
  });

  it('accepts a body under the limit either way', async () => {
    for (const declareLength of [true, false]) {
      const { status } = await post('/v1/embeddings', embeddingBody(LIMIT_BYTES / 2), declareLength);
      expect(status, `Content-Length declared: ${declareLength}`).toBe(200);
    }
  });
});
