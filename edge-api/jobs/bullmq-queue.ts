import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { BullmqFeed } from './bullmq-feed.ts';
import { BullmqLedger } from './bullmq-ledger.ts';
import {
  toBullPriority,
  toJobRecord,
  toJobState,
  toWaitingRecord,
  type BullJob,
  type JobData
} from './bullmq-records.ts';
import { TenantSlots } from './bullmq-slots.ts';
import { BullmqWorker } from './bullmq-worker.ts';
import { TenantJobLimitError, type JobQueue, type JobQueueOptions, type JobRecord } from './job-queue.ts';
import { decodeCursor, encodeCursor } from './list-cursor.ts';
import { checkPageLimit, queueSettings, validRequest } from './queue-settings.ts';
import { isFinalJobState } from '../../src/lib/core/edge-wire.ts';
import { QueueWorkers } from './queue-workers.ts';

/** Options of `bullmqJobQueue`. */
export interface BullmqJobQueueOptions extends JobQueueOptions {
  /** `redis://` or `rediss://` URL. In production: `maxmemory-policy noeviction` and AOF on. */
  url: string;
  /** Default `vision-hub-jobs`. */
  queueName?: string;
  /** BullMQ's key prefix. Default `bull`. */
  prefix?: string;
  /**
   * How long a job held back by its tenant's cap on running jobs waits at most before a worker
   * looks at it again. It is promoted as soon as a run of its tenant ends, so this only matters
   * when that promotion is lost (a worker died in between). Default 30 s.
   */
  heldRecheckMs?: number;
}

// Job ids are UUIDs; anything else could name one of the queue's other Redis keys.
const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CLEAN_BATCH = 1000;
// BullMQ's states of a job that has yet to run (again).
const QUEUED = ['waiting', 'prioritized', 'delayed', 'waiting-children'] as const;
// A held job waits this long only when its promotion was lost (a worker died between two steps):
// about as long as that worker's own jobs take to come back (the default lease). Each recheck
// costs a job held for longer one more hand-over to a worker.
const HELD_RECHECK_MS = 30_000;

/**
 * The job queue on Redis with BullMQ, for several API and worker nodes. BullMQ brings leases
 * (locks), stalled-job recovery, priorities, retries and the event stream; tenants, caps,
 * idempotency, cancels and per-tenant lists live in a small ledger of our own keys beside it.
 */
export function bullmqJobQueue(options: BullmqJobQueueOptions): JobQueue {
  const settings = queueSettings(options);
  const queueName = options.queueName ?? 'vision-hub-jobs';
  const prefix = options.prefix ?? 'bull';
  // Few retries: while Redis is unreachable an enqueue fails in seconds rather than hanging its
  // request. No auto-pipelining: it delays each command to the next tick, halving an awaited
  // enqueue's rate, while concurrent commands on one connection are pipelined anyway.
  const client = new Redis(options.url, { maxRetriesPerRequest: 3 });
  client.on('error', settings.onError);
  const queue = new Queue<JobData, unknown>(queueName, { connection: client, prefix });
  queue.on('error', settings.onError);
  const ledger = new BullmqLedger(client, prefix, queueName, settings.retentionMs);
  const slots =
    settings.maxRunningPerTenant === null
      ? undefined
      : new TenantSlots(
          ledger,
          queue,
          settings.maxRunningPerTenant,
          options.heldRecheckMs ?? HELD_RECHECK_MS,
          settings.onError
        );
  const workers = new QueueWorkers<BullmqWorker>();
  const retentionS = settings.retentionMs / 1000;

  /**
   * Whether an active job runs: under a cap on running jobs, BullMQ hands jobs to workers that
   * may give them back at once (their tenant is at its cap), so only one holding a slot has started.
   */
  async function holdsSlot(tenant: string, id: string): Promise<boolean> {
    return settings.maxRunningPerTenant === null || ledger.isRunning(tenant, id);
  }

  /** The tenant's job as it is now, or null. */
  async function read(tenant: string, id: string): Promise<JobRecord | null> {
    if (!JOB_ID.test(id)) {
      return null;
    }
    // The job and its state are two reads: a job that moved in between is read again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const [job, state, cancelRequested] = await Promise.all([
        queue.getJob(id) as Promise<BullJob | undefined>,
        queue.getJobState(id),
        ledger.cancelRequested(id)
      ]);
      if (!job) {
        break;
      }
      if (job.data.tenant !== tenant) {
        return null;
      }
      const mapped = toJobState(state, job.failedReason);
      if (mapped && isFinalJobState(mapped) === (job.finishedOn !== undefined)) {
        return mapped === 'running' && !(await holdsSlot(tenant, id))
          ? toWaitingRecord(job, cancelRequested)
          : toJobRecord(job, mapped, cancelRequested);
      }
    }
    const cancelled = await ledger.cancelledRecord(id);
    return cancelled?.tenant === tenant ? cancelled : null;
  }

  /** A job another request admitted under the same idempotency key, which it may still be adding. */
  async function readAdmitted(tenant: string, id: string): Promise<JobRecord> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const job = await read(tenant, id);
      if (job) {
        return job;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`Job ${id} was admitted but never added`);
  }

  const feed = new BullmqFeed(read, openEvents, settings.onError);

  // One subscriber per process: cancels for its handlers, cancels and starts as change hints for
  // its followers. It waits for Redis however long it takes (a process may start before Redis
  // does): workers start once it listens, so giving up after a few retries, as enqueues do, would
  // leave them idle for good.
  let subscriber: { connection: Redis; listening: Promise<void> } | undefined;
  const listen = () => {
    if (!subscriber) {
      const connection = client.duplicate({ maxRetriesPerRequest: null });
      connection.on('error', settings.onError);
      connection.on('message', (channel: string, id: string) => {
        if (channel === ledger.cancelChannel) {
          workers.abort(id, 'cancelled');
        }
        feed.hint(id);
      });
      const channels = connection.subscribe(ledger.cancelChannel, ledger.startChannel);
      subscriber = { connection, listening: channels.then(() => undefined) };
    }
    return subscriber.listening;
  };

  async function openEvents(): Promise<QueueEvents> {
    await listen();
    // From the stream's current end, so that no event falls between this and a follower's first read.
    const [last] = await client.xrevrange(queue.keys.events!, '+', '-', 'COUNT', 1);
    const events = new QueueEvents(queueName, {
      connection: { url: options.url },
      prefix,
      lastEventId: last?.[0] ?? '0-0'
    });
    events.on('error', settings.onError);
    await events.waitUntilReady();
    return events;
  }

  async function purge(): Promise<void> {
    // BullMQ's own age-based removal only runs when another job finishes.
    for (const state of ['completed', 'failed'] as const) {
      while ((await queue.clean(settings.retentionMs, CLEAN_BATCH, state)).length === CLEAN_BATCH) {
        // Cleaned a full batch: there may be more.
      }
    }
    await ledger.sweep();
  }
  const purger = setInterval(() => void purge().catch(settings.onError), settings.purgeEveryMs).unref();

  const jobQueue: JobQueue = {
    adapter: 'bullmq',
    async enqueue(request) {
      const valid = validRequest(request);
      const { tenant, idempotencyKey } = valid;
      const id = randomUUID();
      const admission = await ledger.admit(id, tenant, idempotencyKey, settings.maxQueuedPerTenant);
      if (admission.kind === 'refused') {
        throw new TenantJobLimitError(tenant, settings.maxQueuedPerTenant);
      }
      if (admission.kind === 'existing') {
        return { job: await readAdmitted(tenant, admission.id), created: false };
      }
      const data: JobData = {
        tenant,
        input: valid.input ?? null,
        priority: valid.priority,
        maxAttempts: valid.maxAttempts,
        ...(idempotencyKey !== undefined && { idempotencyKey })
      };
      try {
        const job = await queue.add(valid.type, data, {
          jobId: id,
          priority: toBullPriority(valid.priority),
          attempts: valid.maxAttempts,
          backoff: { type: 'custom' },
          removeOnComplete: { age: retentionS },
          removeOnFail: { age: retentionS }
        });
        return { job: toJobRecord(job, 'queued', false), created: true };
      } catch (error) {
        await ledger.rollback(id, tenant, idempotencyKey).catch(settings.onError);
        throw error;
      }
    },

    get: read,

    async list(tenant, { limit, cursor, state }) {
      checkPageLimit(limit);
      const found: { job: JobRecord; position: number }[] = [];
      let before = cursor === undefined ? Number.MAX_SAFE_INTEGER : decodeCursor(cursor);
      // One more than a page tells whether there is a next one; filtering by state reads ahead.
      const batch = state ? Math.max(limit + 1, 100) : limit + 1;
      while (found.length <= limit) {
        const ids = await ledger.page(tenant, before, batch);
        const jobs = await Promise.all(ids.map(({ id }) => read(tenant, id)));
        ids.forEach(({ position }, i) => {
          const job = jobs[i];
          if (job && (!state || job.state === state)) {
            found.push({ job, position });
          }
        });
        if (ids.length < batch) {
          break;
        }
        before = ids.at(-1)!.position;
      }
      const page = found.slice(0, limit);
      return {
        jobs: page.map(({ job }) => job),
        next: found.length > limit ? encodeCursor(page.at(-1)!.position) : null
      };
    },

    async cancel(tenant, id) {
      let job = await read(tenant, id);
      if (job?.state === 'queued') {
        const cancelled: JobRecord = { ...job, state: 'cancelled', finishedAt: Date.now() };
        // Kept before BullMQ forgets the job, so that no reader finds neither.
        await ledger.keepCancelled(cancelled);
        if ((await queue.remove(id)) === 1) {
          await ledger.settle(cancelled);
          // It may have been promoted to take a free slot, which a held job may take now.
          await slots?.freed(tenant);
          feed.hint(id);
          return cancelled;
        }
        // A worker holds it: it started meanwhile, or its tenant is at its cap and the worker is
        // parking it (then its next start ends it). Cancelled as a running job either way.
        await ledger.forgetCancelled(id);
        job = await read(tenant, id);
      }
      if (!job || isFinalJobState(job.state) || job.cancelRequested) {
        return job;
      }
      if (await ledger.requestCancel(id, tenant)) {
        // Parked since: it would wait for a free slot before its next start ends it.
        await slots?.promoteCancelled(tenant, id);
      }
      return { ...job, cancelRequested: true };
    },

    subscribe: (tenant, id, listener) => feed.follow(tenant, id, listener),

    work(handlers, workerOptions) {
      const worker = new BullmqWorker(
        { url: options.url, queueName, prefix, settings, ledger, slots, listening: listen() },
        handlers,
        workerOptions
      );
      return workers.add(worker);
    },

    async counts() {
      const [bull, cancelled] = await Promise.all([
        queue.getJobCounts(...QUEUED, 'active', 'completed', 'failed'),
        ledger.cancelledCount(Date.now())
      ]);
      return {
        queued: QUEUED.reduce((sum, type) => sum + (bull[type] ?? 0), 0),
        running: bull.active ?? 0,
        completed: bull.completed ?? 0,
        failed: bull.failed ?? 0,
        cancelled
      };
    },

    async close() {
      await workers.closeAll();
      clearInterval(purger);
      await feed.close();
      // Not awaited: a subscribe still waiting for Redis would wait on after the disconnect.
      subscriber?.connection.disconnect();
      await queue.close();
      await client.quit();
    }
  };
  return jobQueue;
}
