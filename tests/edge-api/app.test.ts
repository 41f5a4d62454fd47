import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, jsonHeaders, testApp, type TestApp } from './support/test-app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await testApp({ CORS_ORIGINS: 'https://pwa.example', BODY_LIMIT_MB: '0.01', RATE_LIMIT_BURST: '1000' });
});
afterAll(() => t.close());

const errorShape = {
  error: { message: expect.any(String), type: expect.any(String), code: expect.any(String) }
};

describe('health (public)', () => {
  it('answers /health, /health/live and /health/ready without credentials', async () => {
    const health = await t.app.request('/health');
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', version: expect.any(String) });
    expect((await t.app.request('/health/live')).status).toBe(200);
    const ready = await t.app.request('/health/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', queue: true, unserved_models: [] });
  });

  it('details the queue, storage and each backend with latency and circuit state', async () => {
    const res = await t.app.request('/health/detailed');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      status: 'ok',
      uptime_s: expect.any(Number),
      queue: { adapter: 'sqlite', ok: true, counts: expect.objectContaining({ queued: 0 }) },
      storage: [
        { name: 'data', ok: true },
        { name: 'models', ok: true }
      ],
      backends: [
        expect.objectContaining({
          id: 'local',
          healthy: true,
          circuit: 'closed',
          latency_ms: expect.any(Number),
          models: expect.arrayContaining(['tiny-smolvlm', 'tiny-llama', 'tiny-bert'])
        })
      ]
    });
  });
});

describe('documentation (public)', () => {
  it('serves an OpenAPI 3.1 document covering every API route', async () => {
    const res = await t.app.request('/openapi.json');
    expect(res.status).toBe(200);
    const spec = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(spec.openapi).toBe('3.1.0');
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/v1/chat/completions',
        '/v1/embeddings',
        '/v1/models',
        '/v1/jobs',
        '/v1/jobs/{id}',
        '/v1/jobs/{id}/events',
        '/v1/jobs/{id}/cancel',
        '/v1/jobs/{id}/artifacts/{name}',
        '/api/v1/state/query',
        '/health',
        '/health/ready',
        '/health/detailed',
        '/metrics',
        '/models/{owner}/{name}/resolve/{revision}/{file}'
      ])
    );
    expect(spec.paths['/v1/jobs']).toHaveProperty('post.responses.422');
    // OpenAI-compatible routes refuse a malformed request with 400, as OpenAI does.
    expect(spec.paths['/v1/chat/completions']).toHaveProperty('post.responses.400');
    expect(spec.paths['/v1/chat/completions']).not.toHaveProperty('post.responses.422');
  });

  it('renders a readable reference page from the same document', async () => {
    const res = await t.app.request('/docs');
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    expect(html).toContain('<code>/v1/jobs/{id}/events</code>');
    expect(html).not.toContain('<script');
  });
});

describe('authentication', () => {
  it('refuses the API without credentials (401, OpenAI error shape, WWW-Authenticate)', async () => {
    const res = await t.app.request('/v1/models');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await res.json()).toMatchObject(errorShape);
  });

  it('refuses the metrics and the state query without credentials too', async () => {
    expect((await t.app.request('/metrics')).status).toBe(401);
    const res = await t.app.request('/api/v1/state/query', { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
  });

  it('lists the models to a client with an API key', async () => {
    const res = await t.app.request('/v1/models', { headers: auth() });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { id: string; capabilities: string[] }[] };
    expect(body.data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: 'tiny-smolvlm', capabilities: ['chat', 'vision'] }),
        expect.objectContaining({ id: 'tiny-bert', capabilities: ['embeddings'] })
      ])
    );
  });
});

describe('request hygiene', () => {
  it('gives every response a request id, keeping a well-formed one the client sent', async () => {
    expect((await t.app.request('/health')).headers.get('x-request-id')).toMatch(/\S{8,}/);
    const res = await t.app.request('/v1/nothing', { headers: { ...auth(), 'x-request-id': 'trace-123' } });
    expect(res.headers.get('x-request-id')).toBe('trace-123');
  });

  it('sets secure headers on API answers, without the document-only ones', async () => {
    const res = await t.app.request('/health');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('strict-transport-security')).toMatch(/^max-age=\d+/);
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(res.headers.get('cross-origin-embedder-policy')).toBeNull();
  });

  it('answers CORS preflights for the allowed origin only', async () => {
    const preflight = (origin: string) =>
      t.app.request('/v1/jobs', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' }
      });
    const allowed = await preflight('https://pwa.example');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://pwa.example');
    expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers an unknown route with a JSON 404, not an HTML page', async () => {
    const res = await t.app.request('/v1/nothing-here', { headers: auth() });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'route_not_found', type: 'not_found_error' } });
  });

  it('refuses a body over the limit with 413', async () => {
    const res = await t.app.request('/v1/embeddings', {
      method: 'POST',
      headers: jsonHeaders(),
      body: JSON.stringify({ model: 'tiny-bert', input: 'x'.repeat(20_000) })
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  it('refuses a body that is not JSON with 415', async () => {
    const res = await t.app.request('/v1/embeddings', {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'text/plain' },
      body: 'hello'
    });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ error: { code: 'unsupported_media_type' } });
  });

  it('refuses malformed JSON, and on OpenAI routes a schema violation, with 400 naming the field', async () => {
    const malformed = await t.app.request('/v1/embeddings', {
      method: 'POST',
      headers: jsonHeaders(),
      body: '{"model":'
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject(errorShape);
    const invalid = await t.app.request('/v1/embeddings', {
      method: 'POST',
      headers: jsonHeaders(),
      body: JSON.stringify({ model: 'tiny-bert', input: 42 })
    });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({
      error: { type: 'invalid_request_error', code: 'validation_failed', param: 'input' }
    });
  });

  it('never leaks a stack trace', async () => {
    const res = await t.app.request('/v1/jobs/%E0%A4%A', { headers: auth() });
    expect(res.status).toBeLessThan(500);
    expect(await res.text()).not.toMatch(/at .+\.ts:\d+/);
  });
});

describe('metrics', () => {
  it('counts requests by route pattern and status, and reports job counts', async () => {
    await t.app.request('/v1/jobs/some-id', { headers: auth() });
    const res = await t.app.request('/metrics', { headers: auth() });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/v1\/jobs\/:id",status="404"\} [1-9]/);
    expect(text).toContain('http_request_duration_seconds_bucket');
    expect(text).toMatch(/jobs\{state="queued"\} 0/);
    expect(text).not.toContain('some-id');
  });
});
