import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BullmqLedger } from '../../../edge-api/jobs/bullmq-ledger.ts';
import { bullmqJobQueue, type BullmqJobQueueOptions } from '../../../edge-api/jobs/bullmq-queue.ts';
import { toBullPriority } from '../../../edge-api/jobs/bullmq-records.ts';
import { TenantSlots } from '../../../edge-api/jobs/bullmq-slots.ts';
import {
  TenantJobLimitError,
  type JobQueue,
  type JobState,
  type RunningWorker
} from '../../../edge-api/jobs/job-queue.ts';
import { freePort, startRedis, useRedis } from '../support/redis.ts';
import { describeJobQueueConformance, waitFor } from './conformance.ts';

const redis = useRedis();

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
      await redis.client.del(`bull:${queueName}:${id}:lock`);
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
    await redis.client.zadd(ledgerKey(`active:${tenant}`), 0, finished.id, 0, randomUUID());
    await queue.enqueue({ tenant, type: 'echo', input: 1 });
    await queue.enqueue({ tenant, type: 'echo', input: 2 });
    await expect(queue.enqueue({ tenant, type: 'echo', input: 3 })).rejects.toBeInstanceOf(TenantJobLimitError);
  });

  it('sweeps ended runs out of the running sets', async () => {
    queue = bullmqJobQueue({ url: redis.url, queueName, maxRunningPerTenant: 1, retentionMs: 2000 });
    const worker = queue.work({ echo: async () => 'ok' }, { concurrency: 1 });
    const { job } = await queue.enqueue({ tenant, type: 'echo', input: null });
    await waitFor('the job to complete', async () => (await queue.get(tenant, job.id))?.state === 'completed');
    await worker.close();
    await waitFor('its run to be swept', async () => (await redis.client.exists(ledgerKey(`running:${tenant}`))) === 0);
  });

  it('sweeps purged jobs out of the tenant lists', async () => {
    queue = bullmqJobQueue({ url: redis.url, queueName, retentionMs: 200 });
    const kept = await queue.enqueue({ tenant, type: 'keep', input: null });
    const { job } = await queue.enqueue({ tenant, type: 'echo', input: null });
    await queue.cancel(tenant, job.id);
    await waitFor('the cancelled job to be purged', async () => (await queue.get(tenant, job.id)) === null);
    await waitFor('the list to be swept', async () => (await redis.client.zcard(ledgerKey(`jobs:${tenant}`))) === 1);
    expect(await redis.client.zrange(ledgerKey(`jobs:${tenant}`), '0', '-1')).toEqual([kept.job.id]);
    expect(await queue.counts()).toMatchObject({ queued: 1, cancelled: 0 });
  });
});

describe("bullmq jobs held back by their tenant's cap on running jobs", { timeout: 30_000 }, () => {
  const tenant = 'held-tenant';
  let queueName: string;
  let queue: JobQueue;
  let worker: RunningWorker | undefined;
  let release: (() => void) | undefined;
  const heldSet = () => `bull:${queueName}:vision-hub:held:${tenant}`;

  beforeEach(() => {
    queueName = `held-${randomUUID()}`;
    worker = undefined;
    release = undefined;
  });
  afterEach(async () => {
    release?.();
    await worker?.close();
    await queue.close();
  });

  /** Cap 1: a job that runs until `release()`, and one held back behind it, parked. Their start times by input. */
  async function holdBehindFirst(options: Partial<BullmqJobQueueOptions> = {}) {
    queue = bullmqJobQueue({ url: redis.url, queueName, maxRunningPerTenant: 1, ...options });
    const released = new Promise<void>((resolve) => (release = resolve));
    const started = new Map<unknown, number>();
    worker = queue.work(
      {
        hold: async (job) => {
          started.set(job.input, Date.now());
          if (job.input === 'first') {
            await released;
          }
        }
      },
      { concurrency: 2 }
    );
    const { job: first } = await queue.enqueue({ tenant, type: 'hold', input: 'first' });
    await waitFor('the first job to run', () => started.has('first'));
    const { job: held } = await queue.enqueue({ tenant, type: 'hold', input: 'held' });
    await waitFor('the other job to be held', async () => (await redis.client.zcard(heldSet())) === 1);
    return { first, held, started };
  }

  it("starts a held-back job as soon as its tenant's running job ends, long before its recheck", async () => {
    const { started } = await holdBehindFirst({ heldRecheckMs: 30_000 });
    const releasedAt = Date.now();
    release!();
    await waitFor('the held job to start', () => started.has('held'));
    // Not a timing claim: only far below the recheck delay, so it was promoted, not rechecked.
    expect(started.get('held')! - releasedAt).toBeLessThan(5_000);
  });

  it("leaves a held-back job alone while its tenant's slot stays taken", async () => {
    const { held } = await holdBehindFirst();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const events = await redis.client.xrange(`bull:${queueName}:events`, '-', '+');
    const handedOver = events.filter(([, fields]) => {
      const event = Object.fromEntries(fields.flatMap((field, i) => (i % 2 ? [] : [[field, fields[i + 1]]])));
      return event.event === 'active' && event.jobId === held.id;
    });
    // Once, to be parked: no worker is handed it again until a slot frees.
    expect(handedOver).toHaveLength(1);
  });

  it('still starts a held-back job whose promotion was lost, after its recheck delay', async () => {
    const { started } = await holdBehindFirst({ heldRecheckMs: 1_000 });
    // As if the worker that took it off the held set to promote it had died before it could.
    await redis.client.del(heldSet());
    release!();
    await waitFor('the held job to start', () => started.has('held'));
  });

  it("tells followers when a job takes its tenant's running slot, which BullMQ has no event for", async () => {
    queue = bullmqJobQueue({ url: redis.url, queueName, maxRunningPerTenant: 1 });
    const { job } = await queue.enqueue({ tenant, type: 'hold', input: null });
    const heard: JobState[] = [];
    queue.subscribe(tenant, job.id, (event) => heard.push(event.job.state));
    await waitFor('the follower to hear the job', () => heard.length > 0);
    // A worker handed the job (BullMQ's `active` event), before it takes a slot: still queued to readers.
    const bull = new Worker(queueName, null, { connection: { url: redis.url } });
    expect((await bull.getNextJob('token'))?.id).toBe(job.id);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await new BullmqLedger(redis.client, 'bull', queueName, 60_000).startRun(job.id, tenant, 1)).toBe('run');
    await waitFor('the follower to hear it running', () => heard.includes('running'));
    await bull.close();
    expect(heard).toEqual(['queued', 'running']);
  });

  it('ends cancelled a held-back job whose cancel came while a worker was parking it', async () => {
    const { first, held, started } = await holdBehindFirst();
    const ledger = new BullmqLedger(redis.client, 'bull', queueName, 60_000);
    // A cancel after the job was recorded held takes it off, for the canceller to promote.
    expect(await ledger.requestCancel(held.id, tenant)).toBe(true);
    expect(await redis.client.zcard(heldSet())).toBe(0);
    // A cancel before: recording the job held finds it, and hands the job back to be promoted.
    expect(await ledger.hold(held.id, tenant, 1, toBullPriority(held.priority))).toBe(held.id);
    expect(await redis.client.zcard(heldSet())).toBe(0);
    const bull = new Queue(queueName, { connection: redis.client });
    await new TenantSlots(ledger, bull, 1, 30_000, (error) => expect.fail(String(error))).promoteCancelled(
      tenant,
      held.id
    );
    await bull.close();
    // Promoted, it ends at its next start while the first job still holds the tenant's slot.
    await waitFor('it to end cancelled', async () => (await queue.get(tenant, held.id))?.state === 'cancelled');
    expect(await queue.get(tenant, first.id)).toMatchObject({ state: 'running' });
    expect([...started.keys()]).toEqual(['first']);
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
