import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { JobQueue, JobRecord } from '../../../edge-api/jobs/job-queue.ts';
import { waitFor } from './conformance.ts';
import { startChild, type Child } from './support/child.ts';
import { openQueue, type CrashWorkerConfig, type QueueLocation } from './support/crash-worker.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';

// Short, so that a killed worker's job is recovered within seconds.
const LEASE_MS = 1000;

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const adapters: { name: string; location: (dir: string) => QueueLocation }[] = [
  { name: 'sqlite', location: (dir) => ({ adapter: 'sqlite', path: join(dir, 'jobs.sqlite') }) },
  { name: 'bullmq', location: () => ({ adapter: 'bullmq', url: redis.url, queueName: `crash-${randomUUID()}` }) }
];

describe.each(adapters)('crash recovery: $name', { timeout: 90_000 }, ({ location: locate }) => {
  let dir: string;
  let location: QueueLocation;
  let queue: JobQueue;
  let children: Child[];
  const child = (config: CrashWorkerConfig) => {
    const started = startChild(config);
    children.push(started);
    return started;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crash-'));
    location = locate(dir);
    queue = openQueue(location, LEASE_MS, 20);
    children = [];
  });
  afterEach(async () => {
    await Promise.all(children.map((c) => c.kill()));
    await queue.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('re-runs a job whose worker process was killed mid-run, and completes it exactly once', async () => {
    const log = join(dir, 'handler.log');
    const { job } = await queue.enqueue({ tenant: 'crash', type: 'crash', input: 'survive' });
    const doomed = child({ ...location, leaseMs: LEASE_MS, mode: 'work', log, hang: true });
    await doomed.waitForLine(`progress ${job.id}`);
    await doomed.kill();

    const rescuer = child({ ...location, leaseMs: LEASE_MS, mode: 'work', log, hang: false });
    const done = await waitFor('the job to complete', async () => {
      const current = await queue.get('crash', job.id);
      return current?.state === 'completed' ? current : null;
    });
    await rescuer.kill();

    expect(done).toMatchObject({ attempts: 2, result: { pid: rescuer.pid } });
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toEqual([`started ${job.id} 1`, `started ${job.id} 2`, `completed ${job.id}`]);
    expect(await queue.get('crash', job.id)).toEqual(done);
  });

  it('keeps every job whose enqueue was answered before its process was killed', async () => {
    const producer = child({ ...location, leaseMs: LEASE_MS, mode: 'enqueue' });
    await waitFor('jobs to be accepted', () => producer.lines.length >= 50);
    // Killed while it is enqueueing the next ones.
    await producer.kill();
    const accepted = producer.lines.map((line) => line.replace(/^accepted /, ''));
    expect(accepted.length).toBeGreaterThanOrEqual(50);

    for (const id of accepted) {
      expect((await queue.get('crash', id))?.state).toBe('queued');
    }
    const finished: JobRecord[] = [];
    const worker = queue.work(
      { crash: async (job) => job.input },
      { concurrency: 8, onFinished: (job) => finished.push(job) }
    );
    await waitFor('every accepted job to complete', () => accepted.every((id) => finished.some((j) => j.id === id)));
    await worker.close();
    for (const id of accepted) {
      expect((await queue.get('crash', id))?.state).toBe('completed');
    }
  });
});
