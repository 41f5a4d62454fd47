import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { bullmqJobQueue } from '../../../edge-api/jobs/bullmq-queue.ts';
import type { JobQueue } from '../../../edge-api/jobs/job-queue.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';
import { describeJobQueueConformance } from './conformance.ts';

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
