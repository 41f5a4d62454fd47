import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readSse } from '../../src/lib/core/sse.ts';
import type { RunningWorker } from '../../edge-api/jobs/job-queue.ts';
import type { JobView } from '../../src/lib/core/edge-wire.ts';
import { pngDataUrl } from './support/png.ts';
import { startRedis, type RedisServer } from './support/redis.ts';
import { auth, jsonHeaders, testApp, type TestApp } from './support/test-app.ts';

/** Two API nodes sharing one Redis, as `REDIS_URL` deploys them: what one accepts, the other sees. */
let redis: RedisServer;
let nodeA: TestApp;
let nodeB: TestApp;
let workerB: RunningWorker;

beforeAll(async () => {
  redis = await startRedis();
  // Artifacts live in DATA_DIR: nodes share it (a network volume in production).
  const env = {
    REDIS_URL: redis.url,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'scale-out-')),
    RATE_LIMIT_BURST: '6',
    RATE_LIMIT_PER_SECOND: '0.001'
  };
  nodeA = await testApp(env);
  nodeB = await testApp(env);
  workerB = nodeB.runtime.work(1);
});
afterAll(async () => {
  await workerB.close();
  await nodeA.close();
  await nodeB.close();
  await redis.stop();
});

it('shares jobs, idempotent answers and rate limits between nodes', { timeout: 60_000 }, async () => {
  const health = (await (await nodeA.app.request('/health/detailed')).json()) as { queue: { adapter: string } };
  expect(health.queue.adapter).toBe('bullmq');

  // Node A accepts the job (it runs no worker); node B's worker runs it; A's event stream follows it.
  const submitted = await nodeA.app.request('/v1/jobs', {
    method: 'POST',
    headers: jsonHeaders('beta'),
    body: JSON.stringify({ type: 'medgemma.analyze', input: { images: [{ url: pngDataUrl() }], max_tokens: 2 } })
  });
  expect(submitted.status).toBe(202);
  const { id } = (await submitted.json()) as JobView;
  let last: JobView | undefined;
  for await (const { data: data } of readSse(
    (await nodeA.app.request(`/v1/jobs/${id}/events`, { headers: auth('beta') })).body!
  )) {
    last = JSON.parse(data) as JobView;
  }
  expect(last?.state).toBe('completed');
  const report = await nodeA.app.request(`/v1/jobs/${id}/artifacts/report.md`, { headers: auth('beta') });
  expect(report.status).toBe(200);

  // An answer node A gave is replayed by node B for the same Idempotency-Key.
  const embed = (node: TestApp) =>
    node.app.request('/v1/embeddings', {
      method: 'POST',
      headers: { ...jsonHeaders(), 'idempotency-key': 'shared-key' },
      body: JSON.stringify({ model: 'tiny-bert', input: 'a passage' })
    });
  const first = await embed(nodeA);
  const replay = await embed(nodeB);
  expect(replay.headers.get('idempotent-replayed')).toBe('true');
  expect(await replay.text()).toBe(await first.text());

  // Tenant alpha has spent 2 of its 6 tokens above; the rest go across both nodes, then 429 on either.
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) {
    const node = i % 2 === 0 ? nodeA : nodeB;
    statuses.push((await node.app.request('/v1/models', { headers: auth() })).status);
  }
  expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
});
