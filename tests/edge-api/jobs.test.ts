import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSse } from '../../src/lib/core/sse.ts';
import type { RunningWorker } from '../../edge-api/jobs/job-queue.ts';
import type { JobList, JobView, MedgemmaAnalyzeResult } from '../../src/lib/core/edge-wire.ts';
import { pngDataUrl } from './support/png.ts';
import { auth, jsonHeaders, testApp, type TestApp } from './support/test-app.ts';

let t: TestApp;
let worker: RunningWorker | null = null;
beforeAll(async () => {
  t = await testApp({ JOB_MAX_QUEUED_PER_TENANT: '3' });
});
afterAll(async () => {
  await worker?.close();
  await t.close();
});

const startWorker = () => (worker ??= t.runtime.work(1));
const stopWorker = async () => {
  await worker?.close();
  worker = null;
};

const analyze = (images = 1, extra: object = {}) => ({
  type: 'medgemma.analyze',
  input: {
    images: Array.from({ length: images }, (_, i) => ({ url: pngDataUrl(24 + i, 24), timestamp_ms: i * 500 })),
    prompt: 'Describe the findings.',
    max_tokens: 4,
    ...extra
  }
});

async function submit(body: unknown, tenant: 'alpha' | 'beta' = 'alpha', headers: Record<string, string> = {}) {
  return t.app.request('/v1/jobs', {
    method: 'POST',
    headers: { ...jsonHeaders(tenant), ...headers },
    body: JSON.stringify(body)
  });
}

async function follow(id: string, tenant: 'alpha' | 'beta' = 'alpha') {
  const res = await t.app.request(`/v1/jobs/${id}/events`, { headers: auth(tenant) });
  expect(res.status).toBe(200);
  const seen: JobView[] = [];
  for await (const { data: data } of readSse(res.body!)) {
    seen.push(JSON.parse(data) as JobView);
  }
  return seen;
}

describe('POST /v1/jobs', () => {
  it('accepts a MedGemma analysis (202, Location), runs it with live progress and keeps the result', async () => {
    startWorker();
    const res = await submit(analyze(2));
    expect(res.status).toBe(202);
    const job = (await res.json()) as JobView;
    expect(res.headers.get('location')).toBe(`/v1/jobs/${job.id}`);
    expect(job).toMatchObject({ object: 'job', type: 'medgemma.analyze', state: 'queued', attempts: 0 });

    const seen = await follow(job.id);
    const final = seen.at(-1)!;
    expect(final.state, JSON.stringify(final.error)).toBe('completed');
    // Progress was reported on the way (two images and a summary), not only at the end.
    const fractions = seen.map((view) => view.progress.fraction);
    expect(fractions.some((fraction) => fraction > 0 && fraction < 1)).toBe(true);
    const result = final.result as MedgemmaAnalyzeResult;
    expect(result.model).toBe('tiny-smolvlm');
    expect(result.findings.map((finding) => finding.timestamp_ms)).toEqual([0, 500]);
    expect(typeof result.summary).toBe('string');
    expect(final.artifacts).toEqual([
      expect.objectContaining({ name: 'report.md', content_type: 'text/markdown; charset=utf-8' })
    ]);

    const report = await t.app.request(final.artifacts[0]!.url, { headers: auth() });
    expect(report.status).toBe(200);
    expect(report.headers.get('content-disposition')).toContain('attachment');
    expect(report.headers.get('content-security-policy')).toBe('sandbox');
    expect(await report.text()).toContain('# MedGemma analysis');

    const again = (await (await t.app.request(`/v1/jobs/${job.id}`, { headers: auth() })).json()) as JobView;
    expect(again).toEqual(final);
  });

  it('returns the first job for a repeated Idempotency-Key, and refuses the key for another request', async () => {
    const key = { 'idempotency-key': `analysis-${Date.now()}` };
    const first = await submit(analyze(), 'alpha', key);
    expect(first.status).toBe(202);
    const repeat = await submit(analyze(), 'alpha', key);
    expect(repeat.status).toBe(200);
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    expect(((await repeat.json()) as JobView).id).toBe(((await first.json()) as JobView).id);
    const other = await submit(analyze(2), 'alpha', key);
    expect(other.status).toBe(422);
    expect(await other.json()).toMatchObject({ error: { code: 'idempotency_key_reused' } });
    // Another tenant's identical key is theirs alone.
    expect((await submit(analyze(), 'beta', key)).status).toBe(202);
  });

  it('refuses an unknown type, bad input and a model nobody serves with 422 naming the field', async () => {
    const unknown = await submit({ type: 'nope', input: {} });
    expect(unknown.status).toBe(422);
    expect(await unknown.json()).toMatchObject({ error: { code: 'unknown_job_type', param: 'type' } });

    const noImages = await submit({ type: 'medgemma.analyze', input: { images: [] } });
    expect(noImages.status).toBe(422);
    expect(await noImages.json()).toMatchObject({ error: { param: 'input.images' } });

    const badImage = await submit({ type: 'medgemma.analyze', input: { images: [{ url: 'file:///etc/passwd' }] } });
    expect(badImage.status).toBe(422);
    expect(await badImage.json()).toMatchObject({ error: { param: 'input.images.0.url' } });

    const model = await submit(analyze(1, { model: 'google/medgemma-27b-it' }));
    expect(model.status).toBe(422);
    expect(await model.json()).toMatchObject({ error: { code: 'model_not_found', param: 'input.model' } });
  });

  it('caps the jobs a tenant has queued or running (429 with Retry-After), other tenants unaffected', async () => {
    await stopWorker();
    const accepted: string[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 10 && !refused; i++) {
      const res = await submit(analyze(), 'beta');
      if (res.status === 429) {
        refused = res;
      } else {
        expect(res.status).toBe(202);
        accepted.push(((await res.json()) as JobView).id);
      }
    }
    expect(refused).toBeDefined();
    expect(refused!.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await refused!.json()).toMatchObject({ error: { code: 'too_many_active_jobs', type: 'rate_limit_error' } });
    expect(accepted.length).toBeLessThanOrEqual(3);
    expect((await submit(analyze(), 'alpha')).status).toBe(202);

    // Cancelling a queued job frees its place at once.
    const cancelled = await t.app.request(`/v1/jobs/${accepted[0]}/cancel`, { method: 'POST', headers: auth('beta') });
    expect(((await cancelled.json()) as JobView).state).toBe('cancelled');
    expect((await submit(analyze(), 'beta')).status).toBe(202);
  });
});

describe('tenant isolation', () => {
  it('answers 404 to another tenant for every way of reaching a job', async () => {
    const job = (await (await submit(analyze())).json()) as JobView;
    const asBeta = (path: string, method = 'GET') => t.app.request(path, { method, headers: auth('beta') });
    for (const res of [
      await asBeta(`/v1/jobs/${job.id}`),
      await asBeta(`/v1/jobs/${job.id}/events`),
      await asBeta(`/v1/jobs/${job.id}/cancel`, 'POST'),
      await asBeta(`/v1/jobs/${job.id}/artifacts/report.md`)
    ]) {
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: 'job_not_found' } });
    }
    const list = (await (await asBeta('/v1/jobs?limit=100')).json()) as JobList;
    expect(list.data.map((view) => view.id)).not.toContain(job.id);
  });
});

describe('GET /v1/jobs', () => {
  it('pages through the caller’s own jobs, newest first, without repeats', async () => {
    await stopWorker();
    const ids = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await t.app.request(`/v1/jobs?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, {
        headers: auth()
      });
      expect(res.status).toBe(200);
      const page = (await res.json()) as JobList;
      expect(page.data.length).toBeLessThanOrEqual(2);
      const created = page.data.map((view) => view.created_at);
      expect(created).toEqual([...created].sort((a, b) => b - a));
      for (const view of page.data) {
        expect(ids.has(view.id)).toBe(false);
        ids.add(view.id);
      }
      cursor = page.next_cursor;
      pages += 1;
    } while (cursor && pages < 50);
    const all = (await (await t.app.request('/v1/jobs?limit=100', { headers: auth() })).json()) as JobList;
    expect(ids.size).toBe(all.data.length);
    expect(pages).toBeGreaterThan(1);
  });

  it('filters by state and validates the query (422)', async () => {
    const completed = (await (await t.app.request('/v1/jobs?state=completed', { headers: auth() })).json()) as JobList;
    expect(completed.data.every((view) => view.state === 'completed')).toBe(true);
    expect((await t.app.request('/v1/jobs?limit=0', { headers: auth() })).status).toBe(422);
    expect((await t.app.request('/v1/jobs?state=lost', { headers: auth() })).status).toBe(422);
  });
});

describe('POST /v1/jobs/:id/cancel', () => {
  it('cancels a queued job at once and refuses to cancel a finished one (409)', async () => {
    await stopWorker();
    const job = (await (await submit(analyze())).json()) as JobView;
    const res = await t.app.request(`/v1/jobs/${job.id}/cancel`, { method: 'POST', headers: auth() });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ state: 'cancelled' });
    const events = await follow(job.id);
    expect(events.map((view) => view.state)).toEqual(['cancelled']);

    const done = (await (
      await t.app.request('/v1/jobs?state=completed&limit=1', { headers: auth() })
    ).json()) as JobList;
    const finished = done.data[0]!;
    const again = await t.app.request(`/v1/jobs/${finished.id}/cancel`, { method: 'POST', headers: auth() });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: { code: 'job_finished' } });
  });

  it('answers 404 for an unknown job and its artifacts', async () => {
    expect((await t.app.request('/v1/jobs/unknown/cancel', { method: 'POST', headers: auth() })).status).toBe(404);
    const done = (await (
      await t.app.request('/v1/jobs?state=completed&limit=1', { headers: auth() })
    ).json()) as JobList;
    const missing = await t.app.request(`/v1/jobs/${done.data[0]!.id}/artifacts/other.md`, { headers: auth() });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'artifact_not_found' } });
  });
});
