import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunningWorker } from '../../edge-api/jobs/job-queue.ts';
import type { JobView } from '../../src/lib/core/edge-wire.ts';
import { completion, fakeUpstream, type FakeUpstream } from './support/fake-upstream.ts';
import { pngDataUrl } from './support/png.ts';
import { auth, EMBEDDING_MODEL, jsonHeaders, testApp, VISION_MODEL, type TestApp } from './support/test-app.ts';

let upstream: FakeUpstream;
let t: TestApp;
let worker: RunningWorker;
beforeAll(async () => {
  upstream = await fakeUpstream((_call, _req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(completion('fine'));
  });
  t = await testApp({ UPSTREAMS: JSON.stringify([{ model: 'gpu-model', url: upstream.url }]) });
  worker = t.runtime.work(1);
});
afterAll(async () => {
  await worker.close();
  await t.close();
  await upstream.close();
});

const scrape = async () => {
  const res = await t.app.request('/metrics', { headers: auth() });
  expect(res.status).toBe(200);
  return res.text();
};
const post = (path: string, body: unknown) =>
  t.app.request(path, { method: 'POST', headers: jsonHeaders(), body: JSON.stringify(body) });

describe('/metrics', () => {
  it('counts finished jobs and their run time by type and final state', async () => {
    const res = await post('/v1/jobs', {
      type: 'medgemma.analyze',
      input: { images: [{ url: pngDataUrl() }], max_tokens: 2 }
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as JobView;
    await vi.waitFor(
      async () => {
        const job = (await (await t.app.request(`/v1/jobs/${id}`, { headers: auth() })).json()) as JobView;
        expect(job.state).toBe('completed');
      },
      { timeout: 20_000 }
    );
    // The worker reports a job once it is final, a moment after the queue shows it so.
    await vi.waitFor(async () =>
      expect(await scrape()).toMatch(/^jobs_finished_total\{type="medgemma\.analyze",state="completed"\} 1$/m)
    );
    const text = await scrape();
    expect(text).toMatch(/^job_duration_seconds_count\{type="medgemma\.analyze",state="completed"\} 1$/m);
    expect(text).toMatch(/^job_duration_seconds_bucket\{le="\+Inf",type="medgemma\.analyze",state="completed"\} 1$/m);
    expect(text).toMatch(/^jobs\{state="completed"\} 1$/m);
  });

  it('times each call to an upstream model server by backend, model and outcome', async () => {
    const res = await post('/v1/chat/completions', {
      model: 'gpu-model',
      messages: [{ role: 'user', content: 'hi' }]
    });
    expect(res.status).toBe(200);
    const text = await scrape();
    expect(text).toMatch(
      /^backend_request_duration_seconds_count\{backend="[^"]+",model="gpu-model",outcome="ok"\} 1$/m
    );
    expect(text).toMatch(
      /^backend_request_duration_seconds_sum\{backend="[^"]+",model="gpu-model",outcome="ok"\} 0\.\d+/m
    );
  });

  it('times calls to the local backend too, a refused one as an error, never under a made-up model name', async () => {
    expect((await post('/v1/embeddings', { model: EMBEDDING_MODEL, input: ['a cup'] })).status).toBe(200);
    const broken = await post('/v1/chat/completions', {
      model: VISION_MODEL,
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }]
    });
    expect(broken.status).toBe(400);
    const madeUp = await post('/v1/chat/completions', {
      model: 'made-up',
      messages: [{ role: 'user', content: 'hi' }]
    });
    expect(madeUp.status).toBe(404);
    const text = await scrape();
    expect(text).toMatch(
      new RegExp(
        `^backend_request_duration_seconds_count\\{backend="local",model="${EMBEDDING_MODEL}",outcome="ok"\\} 1$`,
        'm'
      )
    );
    expect(text).toMatch(
      new RegExp(
        `^backend_request_duration_seconds_count\\{backend="local",model="${VISION_MODEL}",outcome="error"\\} 1$`,
        'm'
      )
    );
    expect(text).not.toContain('made-up');
  });
});
