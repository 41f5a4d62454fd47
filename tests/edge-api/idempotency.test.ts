import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { completion, fakeUpstream, type FakeUpstream } from './support/fake-upstream.ts';
import { pngDataUrl } from './support/png.ts';
import { jsonHeaders, testApp, type TestApp } from './support/test-app.ts';

let upstream: FakeUpstream;
/** The upstream answers each chat call once this settles: a test holds it to keep a request in flight. */
let gate: Promise<void> = Promise.resolve();
let t: TestApp;
beforeAll(async () => {
  upstream = await fakeUpstream(async (call, _req, res) => {
    await gate;
    res.writeHead(200, { 'content-type': 'application/json' }).end(completion(`answer ${call}`));
  });
  t = await testApp({ UPSTREAMS: JSON.stringify([{ model: 'gpu-model', url: upstream.url }]) });
});
afterAll(async () => {
  await t.close();
  await upstream.close();
});

const chat = { model: 'gpu-model', messages: [{ role: 'user', content: 'hi' }] };
const post = (path: string, body: unknown, key: string, tenant: 'alpha' | 'beta' = 'alpha') =>
  t.app.request(path, {
    method: 'POST',
    headers: { ...jsonHeaders(tenant), 'idempotency-key': key },
    body: JSON.stringify(body)
  });

describe('Idempotency-Key', () => {
  it('answers a retry that arrives while the first request runs with 409, then replays the first answer', async () => {
    let release!: () => void;
    gate = new Promise((resolve) => (release = resolve));
    onTestFinished(() => release());
    const callsBefore = upstream.calls;
    const first = post('/v1/chat/completions', chat, 'in-flight');
    await vi.waitFor(() => expect(upstream.calls).toBe(callsBefore + 1));

    const retry = await post('/v1/chat/completions', chat, 'in-flight');
    expect(retry.status).toBe(409);
    expect(await retry.json()).toEqual({
      error: {
        message: expect.any(String),
        type: 'conflict_error',
        param: null,
        code: 'idempotency_key_in_use'
      }
    });

    release();
    const answered = await first;
    expect(answered.status).toBe(200);
    const replayed = await post('/v1/chat/completions', chat, 'in-flight');
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(await replayed.text()).toBe(await answered.text());
    expect(upstream.calls).toBe(callsBefore + 1);
  });

  it('forgets the key of a request that failed, so the client may retry it', async () => {
    const unknownModel = { model: 'no-such-model', input: 'hello' };
    expect((await post('/v1/embeddings', unknownModel, 'failed-once')).status).toBe(404);
    const retry = await post('/v1/embeddings', unknownModel, 'failed-once');
    expect(retry.status).toBe(404);
    expect(await retry.json()).toMatchObject({ error: { type: 'not_found_error' } });
  });

  it('keeps each tenant’s keys apart: another tenant’s same key runs its own request', async () => {
    const callsBefore = upstream.calls;
    expect((await post('/v1/chat/completions', chat, 'shared-name', 'alpha')).status).toBe(200);
    const other = await post('/v1/chat/completions', chat, 'shared-name', 'beta');
    expect(other.status).toBe(200);
    expect(other.headers.get('idempotent-replayed')).toBeNull();
    expect(upstream.calls).toBe(callsBefore + 2);
  });

  it.each([
    ['/v1/chat/completions', chat, 'has space'],
    ['/v1/embeddings', { model: 'tiny-bert', input: 'hello' }, 'x'.repeat(256)],
    ['/v1/jobs', { type: 'medgemma.analyze', input: { images: [{ url: pngDataUrl() }] } }, 'é'],
    ['/api/v1/state/query', { op: 'list' }, '']
  ])('refuses a malformed key on %s with 400 before doing anything', async (path, body, key) => {
    const callsBefore = upstream.calls;
    const { queued } = await t.runtime.queue.counts();
    const res = await post(path, body, key);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: {
        message: 'Idempotency-Key must be 1-255 printable ASCII characters',
        type: 'invalid_request_error',
        param: 'idempotency-key',
        code: 'invalid_idempotency_key'
      }
    });
    expect(upstream.calls).toBe(callsBefore);
    expect(await t.runtime.queue.counts()).toMatchObject({ queued });
  });
});
