import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { jsonLogger } from '../../edge-api/http/logger.ts';
import type { RunningWorker } from '../../edge-api/jobs/job-queue.ts';
import type { JobView } from '../../src/lib/core/edge-wire.ts';
import { pngDataUrl } from './support/png.ts';
import { auth, jsonHeaders, TENANTS, testApp, VISION_MODEL, type TestApp } from './support/test-app.ts';

/** Every line the app logged, parsed: what a log collector would receive. */
let lines: Record<string, unknown>[] = [];
let raw: string[] = [];
let t: TestApp;
let worker: RunningWorker;
beforeAll(async () => {
  t = await testApp(
    {},
    jsonLogger('debug', (line) => {
      raw.push(line);
      lines.push(JSON.parse(line) as Record<string, unknown>);
    })
  );
  worker = t.runtime.work(1);
});
afterEach(() => {
  vi.restoreAllMocks();
  lines = [];
  raw = [];
});
afterAll(async () => {
  await worker.close();
  await t.close();
});

const post = (path: string, body: unknown, headers: Record<string, string> = jsonHeaders()) =>
  t.app.request(path, { method: 'POST', headers, body: JSON.stringify(body) });

const image = pngDataUrl();
const payload = image.slice(image.indexOf(',') + 1);
const visionChat = {
  model: VISION_MODEL,
  messages: [
    {
      role: 'user',
      content: [
        { type: 'image_url', image_url: { url: image } },
        { type: 'text', text: 'What is this?' }
      ]
    }
  ],
  max_tokens: 2
};
const analyzeJob = { type: 'medgemma.analyze', input: { images: [{ url: image }], max_tokens: 2 } };

/** Whether any log line holds a piece of `secret` long enough to matter (lines are cut at 1,000 characters). */
const logsContain = (secret: string) =>
  [secret.slice(0, 24), secret.slice(-24), secret.slice(secret.length / 2, secret.length / 2 + 24)].some((piece) =>
    raw.some((line) => line.includes(piece))
  );

describe('request logs', () => {
  it('carry the request id each response names, one line per request', async () => {
    const answers = [
      await t.app.request('/health'),
      await t.app.request('/v1/models', { headers: auth() }),
      await t.app.request('/v1/models'),
      await t.app.request('/v1/jobs/missing', { headers: auth() }),
      await post('/v1/embeddings', { model: 'tiny-bert', input: 42 }),
      await t.app.request('/v1/models', { headers: { ...auth(), 'x-request-id': 'client-trace-1' } })
    ];
    const ids = answers.map((res) => res.headers.get('x-request-id'));
    expect(ids.at(-1)).toBe('client-trace-1');
    expect(new Set(ids).size).toBe(answers.length);
    const requests = lines.filter((line) => line.message === 'request');
    expect(requests.map((line) => [line.request_id, line.status])).toEqual(
      answers.map((res) => [res.headers.get('x-request-id'), res.status])
    );
    expect(requests.map((line) => line.level)).toEqual(['info', 'info', 'warn', 'warn', 'warn', 'info']);
    expect(requests[1]).toMatchObject({ method: 'GET', path: '/v1/models', tenant: 'alpha' });
  });

  it('never hold an API key or bearer token, valid or not', async () => {
    const wrongKey = `${TENANTS.alpha.slice(0, -6)}XXXXXX`;
    const token = 'eyJhbGciOiJIUzI1NiJ9.eyJ0ZW5hbnQiOiJtYWxsb3J5In0.c2lnbmF0dXJlLXRoYXQtZG9lcy1ub3QtbWF0Y2g';
    const statuses = [
      (await t.app.request('/v1/models', { headers: auth() })).status,
      (await t.app.request('/v1/models', { headers: { authorization: `Bearer ${wrongKey}` } })).status,
      (await t.app.request('/v1/models', { headers: { authorization: `Bearer ${token}` } })).status,
      (await t.app.request('/v1/models', { headers: { authorization: `Basic ${TENANTS.beta}` } })).status,
      (await t.app.request(`/v1/models?api_key=${TENANTS.beta}`)).status
    ];
    expect(statuses).toEqual([200, 401, 401, 401, 401]);
    expect(lines.filter((line) => line.message === 'request')).toHaveLength(statuses.length);
    for (const secret of [TENANTS.alpha, TENANTS.beta, wrongKey, token]) {
      expect(logsContain(secret), secret).toBe(false);
    }
  });

  it('never hold an image sent as a data: URL, in chat or in a job', async () => {
    expect((await post('/v1/chat/completions', visionChat)).status).toBe(200);
    expect((await post('/v1/chat/completions', { ...visionChat, model: 'no-such-model' })).status).toBe(404);
    const submitted = await post('/v1/jobs', analyzeJob);
    expect(submitted.status).toBe(202);
    const { id } = (await submitted.json()) as JobView;
    await vi.waitFor(
      () => expect(lines).toContainEqual(expect.objectContaining({ message: 'job finished', job_id: id })),
      {
        timeout: 20_000
      }
    );
    // An unexpected error that quotes the request must not carry the image into the log either.
    vi.spyOn(t.runtime.queue, 'enqueue').mockRejectedValue(new Error(`cannot store ${JSON.stringify(analyzeJob)}`));
    expect((await post('/v1/jobs', analyzeJob)).status).toBe(500);
    expect(lines).toContainEqual(expect.objectContaining({ message: 'unhandled error', detail: expect.any(String) }));

    expect(raw.length).toBeGreaterThan(4);
    expect(logsContain(payload)).toBe(false);
  });
});

describe('an unexpected error', () => {
  it('answers the generic OpenAI 500, never its detail or stack, and logs the detail with the request id', async () => {
    vi.spyOn(t.runtime.queue, 'get').mockRejectedValue(new Error('secret internal detail'));
    const res = await t.app.request('/v1/jobs/some-job', { headers: auth() });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      error: { message: 'Internal server error', type: 'server_error', param: null, code: 'internal_error' }
    });
    expect(text).not.toContain('secret internal detail');
    expect(text).not.toMatch(/\bat\b|\.ts\b/);

    const requestId = res.headers.get('x-request-id');
    expect(requestId).toBeTruthy();
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'error',
        message: 'unhandled error',
        request_id: requestId,
        error: 'Error',
        detail: 'secret internal detail',
        stack: expect.stringContaining('logging.test.ts')
      }),
      expect.objectContaining({ level: 'error', message: 'request', request_id: requestId, status: 500 })
    ]);
  });
});
