import { describe, expect, inject, it } from 'vitest';
import type { JobView, MedgemmaAnalyzeRequest } from '#lib/core/edge-wire.ts';
import { EdgeAuthError, EdgeRequestError, EdgeUnavailableError } from '#lib/core/errors.ts';
import { resultOf } from '#lib/core/job-kinds.ts';
import { EdgeClient } from '#lib/services/edge-client.ts';
import { handleError } from '#lib/services/handle-error.ts';
import { analysisRequest } from './edge-helpers.ts';

const baseUrl = inject('edgeUrl');
const client = new EdgeClient({ baseUrl, credential: inject('edgeKeys').client });

describe('edge client against the real edge API', () => {
  it('reads health and the models, MedGemma (the tiny SmolVLM here) with vision', async () => {
    const health = await client.health();
    expect(health.status).toBe('ok');
    expect(health.version).toMatch(/^\d+\.\d+\.\d+/);
    const { data } = await client.models();
    expect(data.find((m) => m.id === 'tiny-smolvlm')?.capabilities).toContain('vision');
  });

  it('submits a job once per Idempotency-Key, follows its events to the findings and reads the report', async () => {
    const request = await analysisRequest('What is in this frame?');
    const key = `test-${crypto.randomUUID()}`;
    const first = await client.submitJob(request, key);
    expect(first.replayed).toBe(false);
    const again = await client.submitJob(request, key);
    expect(again).toMatchObject({ replayed: true, job: { id: first.job.id } });

    const seen: JobView[] = [];
    const final = await client.followJob(first.job.id, (job) => seen.push(job));
    expect(final.state).toBe('completed');
    expect(seen[0]!.id).toBe(first.job.id);
    expect(seen.at(-1)).toEqual(final);
    // Progress arrived as it happened, not only the end.
    expect(seen.some((job) => job.state !== 'completed')).toBe(true);
    const result = resultOf('medgemma.analyze', final);
    expect(result?.model).toBe('tiny-smolvlm');
    expect(result?.findings).toHaveLength(1);
    expect(result?.summary).toBe(result?.findings[0]?.text);

    const report = await client.artifactText(final, 'report.md');
    expect(report).toContain('# MedGemma analysis');
    expect(report).toContain('Question: What is in this frame?');

    const { data } = await client.listJobs({ limit: 100 });
    expect(data.filter((job) => job.id === first.job.id)).toHaveLength(1);
    await expect(client.cancelJob(first.job.id)).rejects.toMatchObject({
      name: 'EdgeRequestError',
      status: 409,
      code: 'job_finished'
    });
  });

  it('turns refusals into errors with the status, the server code and its request id', async () => {
    const unknown = await client.getJob('no-such-job').catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(EdgeRequestError);
    expect(unknown).toMatchObject({ status: 404, code: 'job_not_found' });
    expect((unknown as EdgeRequestError).requestId).toMatch(/\S{8,}/);
    expect(handleError(unknown)?.message).toContain((unknown as EdgeRequestError).requestId);

    const invalid: MedgemmaAnalyzeRequest = { type: 'medgemma.analyze', input: { images: [] } };
    await expect(client.submitJob(invalid, `test-${crypto.randomUUID()}`)).rejects.toMatchObject({
      name: 'EdgeRequestError',
      status: 422,
      code: 'validation_failed'
    });

    const stranger = new EdgeClient({ baseUrl, credential: `vh_${'x'.repeat(43)}` });
    const refused = await stranger.listJobs().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(EdgeAuthError);
    expect(refused).toMatchObject({ status: 401 });
    expect(handleError(refused)).toMatchObject({ action: 'edge-settings' });
  });

  it('another tenant cannot see a job', async () => {
    const { job } = await client.submitJob(await analysisRequest('Mine'), `test-${crypto.randomUUID()}`);
    const other = new EdgeClient({ baseUrl, credential: inject('edgeKeys').outbox });
    await expect(other.getJob(job.id)).rejects.toMatchObject({ status: 404 });
    await client.followJob(job.id, () => undefined);
  });

  it('a server that is not there is "unavailable", after retrying the requests that may be repeated', async () => {
    const calls: string[] = [];
    const closed = new EdgeClient(
      { baseUrl: 'http://127.0.0.1:9', credential: null },
      {
        retries: 2,
        backoff: { baseMs: 1, maxMs: 5 },
        fetch: (input, init) => (calls.push(`${init?.method} ${String(input)}`), fetch(input, init))
      }
    );
    await expect(closed.health()).rejects.toBeInstanceOf(EdgeUnavailableError);
    expect(calls).toHaveLength(3);
    calls.length = 0;
    await expect(closed.cancelJob('job')).rejects.toBeInstanceOf(EdgeUnavailableError);
    expect(calls).toEqual(['POST http://127.0.0.1:9/v1/jobs/job/cancel']);
  });
});
