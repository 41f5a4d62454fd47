import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bullmqJobQueue } from '../../../edge-api/jobs/bullmq-queue.ts';
import { TenantJobLimitError, type JobQueue } from '../../../edge-api/jobs/job-queue.ts';
import { freePort, startRedis, type RedisServer } from '../support/redis.ts';
import { describeJobQueueConformance, waitFor } from './conformance.ts';

let redis: RedisServer;
let admin: Redis;

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
});
afterAll(async () => {
  await admin?.quit();
  await redis?.stop();
});

describeJobQueueConformance('bullmq', async () => {
  // A queue of its own per test: one Redis serves the whole file.
  const queueName = `test-${randomUUID()}`;
  const queues: JobQueue[] = [];
  return {
    open(options) {
      const queue = bullmqJobQueue({ url: redis.url, queueName, ...options });
      queues.push(queue);
      return queue;
    },
    async expireLease(id) {
      // BullMQ's lease is the job's lock key: gone, the job is stalled for every worker.
      await admin.del(`bull:${queueName}:${id}:lock`);
    },
    async dispose() {
      await Promise.all(queues.map((queue) => queue.close()));
    }
  };
});

describe('bullmq ledger', { timeout: 30_000 }, () => {
  const tenant = 'ledger-tenant';
  let queueName: string;
  let queue: JobQueue;
  const ledgerKey = (name: string) => `bull:${queueName}:vision-hub:${name}`;

  beforeEach(() => {
    queueName = `ledger-${randomUUID()}`;
  });
  afterEach(async () => {
    await queue.close();
  });

  it('heals a cap whose active set kept jobs that ended unrecorded (a worker died in between)', async () => {
    queue = bullmqJobQueue({ url: redis.url, queueName, maxQueuedPerTenant: 2 });
    const { job: finished } = await queue.enqueue({ tenant, type: 'echo', input: null });
    const worker = queue.work({ echo: async () => 'ok' }, { concurrency: 1 });
    await waitFor('the job to complete', async () => (await queue.get(tenant, finished.id))?.state === 'completed');
    await worker.close();
    // As if the worker had died after BullMQ recorded the end but before the ledger did, and an
    // API process had died between admitting a job and adding it (long ago: admitted at time 0).
    await admin.zadd(ledgerKey(`active:${tenant}`), 0, finished.id, 0, randomUUID());
    await queue.enqueue({ tenant, type: 'echo', input: 1 });
    await queue.enqueue({ tenant, type: 'echo', input: 2 });
    await expect(queue.enqueue({ tenant, type: 'echo', input: 3 })).rejects.toBeInstanceOf(TenantJobLimitError);
  });

  it("ends cancelled a job held back by its tenant's cap whose cancel came while a worker held it", async () => {
    queue = bullmqJobQueue({ url: redis.url, queueName, maxRunningPerTenant: 1 });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const ran: unknown[] = [];
    const worker = queue.work(
      {
        hold: async (job) => {
          ran.push(job.input);
          await released;
        }
      },
      { concurrency: 2 }
    );
    const { job: first } = await queue.enqueue({ tenant, type: 'hold', input: 'first' });
    const { job: held } = await queue.enqueue({ tenant, type: 'hold', input: 'held' });
    await waitFor('the first job to run', async () => (await queue.get(tenant, first.id))?.state === 'running');
    // What `cancel` leaves when it finds the job in a worker's hands: only the cancel flag.
    await admin.set(ledgerKey(`cancel:${held.id}`), '1');
    await waitFor('it to end cancelled', async () => (await queue.get(tenant, held.id))?.state === 'cancelled');
    expect(await queue.get(tenant, first.id)).toMatchObject({ state: 'running' });
    release();
    await worker.close();
    expect(ran).toEqual(['first']);
  });

  it('sweeps ended runs out of the running sets', async () => {
    queue = bullmqJobQueue({ url: redis.url, queueName, maxRunningPerTenant: 1, retentionMs: 2000 });
    const worker = queue.work({ echo: async () => 'ok' }, { concurrency: 1 });
    const { job } = await queue.enqueue({ tenant, type: 'echo', input: null });
    await waitFor('the job to complete', async () => (await queue.get(tenant, job.id))?.state === 'completed');
    await worker.close();
    await waitFor('its run to be swept', async () => (await admin.exists(ledgerKey(`running:${tenant}`))) === 0);
  });

  it('sweeps purged jobs out of the tenant lists', async () => {
    queue = bullmqJobQueue({ url: redis.url, queueName, retentionMs: 200 });
    const kept = await queue.enqueue({ tenant, type: 'keep', input: null });
    const { job } = await queue.enqueue({ tenant, type: 'echo', input: null });
    await queue.cancel(tenant, job.id);
    await waitFor('the cancelled job to be purged', async () => (await queue.get(tenant, job.id)) === null);
    await waitFor('the list to be swept', async () => (await admin.zcard(ledgerKey(`jobs:${tenant}`))) === 1);
    expect(await admin.zrange(ledgerKey(`jobs:${tenant}`), '0', '-1')).toEqual([kept.job.id]);
    expect(await queue.counts()).toMatchObject({ queued: 1, cancelled: 0 });
  });
});

describe('bullmq queue and a Redis that starts late', { timeout: 40_000 }, () => {
  it('runs jobs once Redis comes up, even when it was unreachable for longer than an enqueue retries', async () => {
    const port = await freePort();
    const queue = bullmqJobQueue({ url: `redis://127.0.0.1:${port}`, queueName: 'late', onError: () => undefined });
    const worker = queue.work({ echo: async () => 'ok' }, { concurrency: 1 });
    // Long enough for a command with a few retries to give up.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const late = await startRedis(port);
    try {
      const { job } = await queue.enqueue({ tenant: 't', type: 'echo', input: null });
      await waitFor('the job to complete', async () => (await queue.get('t', job.id))?.state === 'completed');
      await worker.close();
      await queue.close();
    } finally {
      await late.stop();
    }
  });

  it(
    'closes at once while Redis is still unreachable, with a worker and a follower waiting for it',
    { timeout: 10_000 },
    async () => {
      const queue = bullmqJobQueue({ url: `redis://127.0.0.1:${await freePort()}`, onError: () => undefined });
      const worker = queue.work({ echo: async () => 'ok' }, { concurrency: 1 });
      const unsubscribe = queue.subscribe('t', randomUUID(), () => undefined);
      await new Promise((resolve) => setTimeout(resolve, 500));
      unsubscribe();
      await worker.close();
      await queue.close();
    }
  );
});
