/**
 * The guard on BullMQ's private data: the adapter's Lua scripts (edge-api/jobs/lua/) and readers
 * rely on key names, hash fields and event stream entries BullMQ does not document as API. Each
 * is checked here against a real BullMQ on a real Redis, so that an upgrade that changes one fails
 * in this file, naming it, instead of silently breaking the per-tenant caps.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  DelayedError,
  ErrorCode,
  Queue,
  QueueEvents,
  UnrecoverableError,
  Worker,
  type Job,
  type Processor,
  type WorkerOptions
} from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HINTS } from '../../../edge-api/jobs/bullmq-feed.ts';
import { CANCELLED_REASON, toJobState } from '../../../edge-api/jobs/bullmq-records.ts';
import { useRedis } from '../support/redis.ts';
import { waitFor } from './conformance.ts';

const PREFIX = 'bull';
const LEASE_MS = 5000;

const redis = useRedis();
let queueName: string;
let queue: Queue;
let workers: Worker[];

beforeEach(() => {
  queueName = `internals-${randomUUID()}`;
  queue = new Queue(queueName, { connection: { url: redis.url }, prefix: PREFIX });
  workers = [];
});
afterEach(async () => {
  await Promise.all(workers.map((worker) => worker.close(true)));
  await queue.close();
});

/** A key of this test's queue, as the adapter builds them: `<prefix>:<queue>:<suffix>`. */
const key = (suffix: string) => `${PREFIX}:${queueName}:${suffix}`;

function startWorker(processor: Processor, options: Partial<WorkerOptions> = {}): Worker {
  const worker = new Worker(queueName, processor, {
    connection: { url: redis.url },
    prefix: PREFIX,
    lockDuration: LEASE_MS,
    ...options
  });
  workers.push(worker);
  return worker;
}

/** Adds a job as the adapter does: a UUID for its id, always a priority. */
async function addJob(attempts = 1): Promise<string> {
  const id = randomUUID();
  await queue.add(
    'guard',
    { tenant: 't' },
    { jobId: id, priority: 5, attempts, backoff: { type: 'fixed', delay: 50 } }
  );
  return id;
}

/** A promise the test settles: processors wait on it to stay active. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as Record<string, unknown>;
}

describe('BullMQ internals the job queue adapter relies on', { timeout: 30_000 }, () => {
  it('is the exact bullmq version package.json pins', () => {
    const pinned = (readJson('../../../package.json').dependencies as Record<string, string>).bullmq;
    const installed = readJson('../../../node_modules/bullmq/package.json').version;
    expect(pinned, 'package.json must pin bullmq to one exact version: the adapter relies on its internals').toMatch(
      /^\d+\.\d+\.\d+$/
    );
    expect(installed, 'the installed bullmq must be the pinned one (run npm ci)').toBe(pinned);
  });

  it('keeps a job as the hash <prefix>:<queue>:<id>, its fields mapped onto the Job the adapter reads', async () => {
    const id = await addJob();
    expect(queue.toKey(id), 'job key: <prefix>:<queue>:<id>').toBe(key(id));
    expect(await redis.client.type(key(id)), 'job key <prefix>:<queue>:<id> is a hash').toBe('hash');
    expect(queue.keys.delayed, 'delayed set key: <prefix>:<queue>:delayed').toBe(key('delayed'));
    expect(queue.keys.events, 'event stream key: <prefix>:<queue>:events').toBe(key('events'));
    expect(
      Object.keys(queue.keys).filter((name) => name.startsWith('vision-hub')),
      "BullMQ's own keys stay out of the ledger's <prefix>:<queue>:vision-hub:* namespace"
    ).toEqual([]);
    expect(await queue.getJobState(id), 'a job added with a priority is prioritized').toBe('prioritized');
    expect((await queue.getJob(id))?.progress, 'a new job starts at progress 0').toBe(0);

    await redis.client.hset(key(id), { ats: 4, atm: 2, processedOn: 1234, finishedOn: 5678, failedReason: 'x: y' });
    const job = (await queue.getJob(id))!;
    expect(job.attemptsStarted, 'job hash field ats is Job.attemptsStarted').toBe(4);
    expect(job.attemptsMade, 'job hash field atm is Job.attemptsMade').toBe(2);
    expect(job.processedOn, 'job hash field processedOn is Job.processedOn').toBe(1234);
    expect(job.finishedOn, 'job hash field finishedOn is Job.finishedOn').toBe(5678);
    expect(job.failedReason, 'job hash field failedReason is Job.failedReason').toBe('x: y');
    await redis.client.hdel(key(id), 'processedOn');
    expect((await queue.getJob(id))?.processedOn, 'a job hash without processedOn has no Job.processedOn').toBe(
      undefined
    );
  });

  it('marks an active job (processedOn, ats, a lock <job key>:lock holding the token for the lease) and clears the lock as it ends', async () => {
    const id = await addJob();
    const release = gate();
    let token: string | undefined;
    const before = Date.now();
    const worker = startWorker(async (_job, workerToken) => {
      token = workerToken;
      await release.opened;
    });
    const completed = new Promise<void>((resolve) => worker.on('completed', () => resolve()));
    await waitFor('the job to be active', () => token);

    const hash = await redis.client.hgetall(key(id));
    expect(Number(hash.processedOn), 'job hash field processedOn: set as a job becomes active').toBeGreaterThanOrEqual(
      before
    );
    expect(hash.ats, 'job hash field ats: runs started, counted as a job becomes active').toBe('1');
    expect(hash.finishedOn, 'job hash field finishedOn: unset while a job runs').toBeUndefined();
    expect(await redis.client.get(key(`${id}:lock`)), "lock key <job key>:lock holds the worker's token").toBe(token);
    const ttl = await redis.client.pttl(key(`${id}:lock`));
    expect(ttl, 'lock key <job key>:lock expires with the lease (lockDuration)').toBeGreaterThan(0);
    expect(ttl, 'lock key <job key>:lock expires with the lease (lockDuration)').toBeLessThanOrEqual(LEASE_MS);
    expect(await queue.getJobState(id)).toBe('active');

    release.open();
    await completed;
    expect(await redis.client.hexists(key(id), 'finishedOn'), 'job hash field finishedOn: set on completion').toBe(1);
    expect(await redis.client.exists(key(`${id}:lock`)), 'lock key <job key>:lock: removed when a job ends').toBe(0);
    expect(await queue.getJobState(id)).toBe('completed');
  });

  it('sets finishedOn only on the last failure, not on one that will be retried', async () => {
    const id = await addJob(2);
    const worker = startWorker(() => Promise.reject(new Error('boom')));
    const failures: (number | undefined)[] = [];
    worker.on('failed', (job) => failures.push(job?.finishedOn));
    await waitFor('both runs to fail', () => failures.length === 2);
    expect(failures[0], "a failed event's job has no finishedOn while a retry is due").toBeUndefined();
    expect(failures[1], "a failed event's job has finishedOn once it failed for good").toBeTypeOf('number');
    expect(
      await redis.client.hexists(key(id), 'finishedOn'),
      'job hash field finishedOn: set on the last failure'
    ).toBe(1);
  });

  it('parks a job with moveToDelayed: lock gone, in <prefix>:<queue>:delayed, its start still counted; promote brings it back', async () => {
    const id = await addJob();
    const worker = startWorker(async (job: Job, token) => {
      await job.moveToDelayed(Date.now() + 60_000, token);
      throw new DelayedError();
    });
    await waitFor('the job to be parked', async () => (await redis.client.zscore(key('delayed'), id)) !== null);
    await worker.close();
    expect(await redis.client.exists(key(`${id}:lock`)), 'lock key <job key>:lock: removed when a job is parked').toBe(
      0
    );
    const hash = await redis.client.hgetall(key(id));
    expect(
      hash.ats,
      'job hash field ats: moveToDelayed keeps the start counted (the ledger gives it back itself)'
    ).toBe('1');
    expect(hash.processedOn, 'job hash field processedOn: moveToDelayed keeps it (the ledger clears it)').toBeDefined();
    expect(Number(hash.atm ?? 0), 'job hash field atm: moveToDelayed from a processor makes no attempt').toBe(0);
    expect(await queue.getJobState(id)).toBe('delayed');

    await queue.getBackend().promote(id);
    expect(await queue.getJobState(id), 'a promoted job is queued again').toBe('prioritized');
    await expect(
      queue.getBackend().promote(id),
      'promoting a job that is not delayed fails with ErrorCode.JobNotInState'
    ).rejects.toMatchObject({ code: ErrorCode.JobNotInState });
  });

  it("keeps the cancel mark as the job's failedReason, without a retry", async () => {
    const id = await addJob(3);
    const worker = startWorker(() => Promise.reject(new UnrecoverableError(CANCELLED_REASON)));
    const failed = new Promise<Job | undefined>((resolve) => worker.on('failed', resolve));
    const job = (await failed)!;
    expect(job.failedReason, "an UnrecoverableError's message is the job's failedReason").toBe(CANCELLED_REASON);
    expect(await redis.client.hget(key(id), 'failedReason'), 'job hash field failedReason: the message as thrown').toBe(
      CANCELLED_REASON
    );
    expect(job.attemptsMade, 'an UnrecoverableError is not retried').toBe(1);
    expect(job.finishedOn, 'an UnrecoverableError fails the job for good').toBeTypeOf('number');
    expect(await queue.getJobState(id)).toBe('failed');
    expect(toJobState('failed', job.failedReason), 'the adapter reads the mark as a cancel').toBe('cancelled');
  });

  it('writes every event the feed follows into the stream <prefix>:<queue>:events, each entry with its jobId', async () => {
    const parked = await addJob();
    const failing = await addJob();
    const stalling = await addJob();
    const removed = await addJob();
    const release = gate();
    const started = new Set<string>();
    const worker = startWorker(
      async (job: Job, token) => {
        started.add(job.id!);
        if (job.id === parked && job.attemptsStarted === 1) {
          await job.updateProgress(0.5);
          await job.moveToDelayed(Date.now() + 60_000, token);
          throw new DelayedError();
        }
        if (job.id === failing) {
          throw new UnrecoverableError('boom');
        }
        if (job.id === stalling) {
          await release.opened;
        }
      },
      { concurrency: 3, stalledInterval: 100 }
    );
    // The stalled run, released once BullMQ took the job back, may record nothing: expected.
    worker.on('error', (error) => expect(error.message).toMatch(/^(Lock mismatch|Missing lock) for job /));
    await queue.remove(removed);
    await waitFor('the job to be parked', async () => (await redis.client.zscore(key('delayed'), parked)) !== null);
    await queue.getBackend().promote(parked);
    await waitFor('the stalling job to start', () => started.has(stalling));
    // Its lease gone, as when its worker died: BullMQ's stall check takes it back.
    await redis.client.del(key(`${stalling}:lock`));
    const entries = () => redis.client.xrange(key('events'), '-', '+');
    await waitFor('the stall to be noticed', async () =>
      (await entries()).some(([, fields]) => fields.join() === `event,stalled,jobId,${stalling}`)
    );
    release.open();

    expect(await redis.client.type(key('events')), 'event stream key <prefix>:<queue>:events is a stream').toBe(
      'stream'
    );
    const events = (await entries()).map(([, fields]) => {
      const entry = new Map<string, string>();
      for (let i = 0; i < fields.length; i += 2) {
        entry.set(fields[i]!, fields[i + 1]!);
      }
      return entry;
    });
    for (const name of HINTS) {
      expect(
        events.some((entry) => entry.get('event') === name && entry.get('jobId') !== undefined),
        `the event stream has a "${name}" entry with its jobId`
      ).toBe(true);
    }
  });

  it('resumes QueueEvents after a stream entry id read off the end of <prefix>:<queue>:events', async () => {
    const earlier = await addJob();
    const [last] = await redis.client.xrevrange(key('events'), '+', '-', 'COUNT', 1);
    expect(last, 'adding a job writes to the event stream').toBeDefined();
    const events = new QueueEvents(queueName, {
      connection: { url: redis.url },
      prefix: PREFIX,
      lastEventId: last![0]
    });
    try {
      const heard: string[] = [];
      events.on('waiting', ({ jobId }) => heard.push(jobId));
      await events.waitUntilReady();
      const later = await addJob();
      await waitFor('the later job to be heard', () => heard.includes(later));
      expect(heard, 'QueueEvents from lastEventId hears only later entries').not.toContain(earlier);
    } finally {
      await events.close();
    }
  });
});
