import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  InvalidCursorError,
  PermanentJobError,
  TenantJobLimitError,
  type JobContext,
  type JobEvent,
  type JobQueue,
  type JobQueueOptions,
  type JobRecord,
  type JobState
} from '../../../edge-api/jobs/job-queue.ts';

/** One adapter's backing store for one test, opened as often as a test needs processes. */
export interface QueueHarness {
  /** A queue on the shared store, as one more process would open it; `dispose` closes it. */
  open(options?: JobQueueOptions): JobQueue;
  /** Makes a running job's lease expire now, as if its worker had stopped heartbeating. */
  expireLease(id: string): Promise<void>;
  dispose(): Promise<void>;
}

const T1 = 'tenant-1';
const T2 = 'tenant-2';
// Generous: the suite runs on a busy 2-core machine; nothing here asserts how fast anything is.
const TIMEOUT_MS = 20_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// Long enough for a free worker slot to take a job it may run: a job still waiting after it is
// held back.
const HELD_BACK_MS = 600;

/** Polls `probe` until it gives something truthy. */
export async function waitFor<T>(what: string, probe: () => T | Promise<T>): Promise<NonNullable<T>> {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const value = await probe();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting for ${what}`);
    }
    await sleep(20);
  }
}

/** A promise the test settles: handlers wait on it to stay running. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

const aborted = (signal: AbortSignal) =>
  new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));

async function waitForState(queue: JobQueue, job: JobRecord, state: JobState): Promise<JobRecord> {
  return waitFor(`job ${job.id} to be ${state}`, async () => {
    const current = await queue.get(job.tenant, job.id);
    return current?.state === state ? current : null;
  });
}

/**
 * The behaviour every `JobQueue` adapter must share, run against each of them. "Processes" are
 * separate queue handles on one store (`harness.open()`), so cross-process paths (cancel,
 * events, leases) are exercised too; the crash tests use real processes.
 */
export function describeJobQueueConformance(name: string, createHarness: () => Promise<QueueHarness>): void {
  describe(`JobQueue conformance: ${name}`, { timeout: 60_000 }, () => {
    let harness: QueueHarness;
    let errors: unknown[];
    // Workers that lose a lease report it (BullMQ: every failed lock renewal); no other test may.
    let expectWorkerErrors: boolean;
    const open = (options: JobQueueOptions = {}) =>
      harness.open({ retryDelayMs: 10, onError: (error) => errors.push(error), ...options });

    beforeEach(async () => {
      harness = await createHarness();
      errors = [];
      expectWorkerErrors = false;
    });
    afterEach(async () => {
      await harness.dispose();
      if (!expectWorkerErrors) {
        expect(errors).toEqual([]);
      }
    });

    it('accepts a job and returns it to its tenant', async () => {
      const queue = open();
      const { job, created } = await queue.enqueue({ tenant: T1, type: 'echo', input: { n: 1 } });
      expect(created).toBe(true);
      expect(job).toMatchObject({
        tenant: T1,
        type: 'echo',
        state: 'queued',
        priority: 0,
        input: { n: 1 },
        progress: { fraction: 0 },
        attempts: 0,
        maxAttempts: 3,
        cancelRequested: false
      });
      expect(job.createdAt).toBeGreaterThan(0);
      expect(await queue.get(T1, job.id)).toEqual(job);
      expect(await open().get(T1, job.id)).toEqual(job);
      expect(await queue.get(T1, 'no-such-job')).toBeNull();
      expect(await queue.cancel(T1, 'no-such-job')).toBeNull();
    });

    it('refuses malformed requests', async () => {
      const queue = open();
      await expect(queue.enqueue({ tenant: T1, type: 'echo', input: 1, priority: 1.5 })).rejects.toThrow(RangeError);
      await expect(queue.enqueue({ tenant: T1, type: 'echo', input: 1, priority: 10_000_000 })).rejects.toThrow(
        RangeError
      );
      await expect(queue.enqueue({ tenant: T1, type: 'echo', input: 1, maxAttempts: 0 })).rejects.toThrow(RangeError);
    });

    it("never shows, cancels or lists another tenant's job", async () => {
      const queue = open();
      const { job } = await queue.enqueue({ tenant: T1, type: 'echo', input: null });
      await queue.enqueue({ tenant: T2, type: 'echo', input: null });
      expect(await queue.get(T2, job.id)).toBeNull();
      expect(await queue.cancel(T2, job.id)).toBeNull();
      expect((await queue.get(T1, job.id))?.state).toBe('queued');
      const { jobs } = await queue.list(T2, { limit: 10 });
      expect(jobs.map((j) => j.tenant)).toEqual([T2]);
    });

    it('runs higher priorities first', async () => {
      const queue = open();
      for (const priority of [0, 5, -3, 10, 5]) {
        await queue.enqueue({ tenant: T1, type: 'order', input: priority, priority });
      }
      const ran: unknown[] = [];
      const worker = queue.work({ order: async (job) => void ran.push(job.input) }, { concurrency: 1 });
      await waitFor('all five jobs to run', () => ran.length === 5);
      await worker.close();
      expect(ran).toEqual([10, 5, 5, 0, -3]);
    });

    it('runs jobs of one priority in the order they came', async () => {
      const queue = open();
      for (let i = 0; i < 6; i++) {
        await queue.enqueue({ tenant: i % 2 ? T1 : T2, type: 'order', input: i, priority: 2 });
      }
      const ran: unknown[] = [];
      const worker = open().work({ order: async (job) => void ran.push(job.input) }, { concurrency: 1 });
      await waitFor('all six jobs to run', () => ran.length === 6);
      await worker.close();
      expect(ran).toEqual([0, 1, 2, 3, 4, 5]);
    });

    it('tells followers in this and other processes of progress and state changes', async () => {
      const api = open();
      const workers = open();
      const { job } = await api.enqueue({ tenant: T1, type: 'steps', input: null });
      const remote: JobEvent[] = [];
      const local: JobEvent[] = [];
      const stopRemote = api.subscribe(T1, job.id, (event) => remote.push(event));
      workers.subscribe(T1, job.id, (event) => local.push(event));
      expect(local).toEqual([]);
      // Each follower first hears the job as it is.
      for (const events of [remote, local]) {
        await waitFor('the first event', () => events.length > 0);
        expect(events).toEqual([{ kind: 'state', job: expect.objectContaining({ id: job.id, state: 'queued' }) }]);
      }
      const steps = [gate(), gate()];
      const worker = workers.work(
        {
          steps: async (_job, context) => {
            await context.progress(0.25, 'first');
            await steps[0]!.opened;
            await context.progress(0.5, 'second');
            await steps[1]!.opened;
            return 'done';
          }
        },
        { concurrency: 1 }
      );
      const seen = (events: JobEvent[], check: (event: JobEvent) => boolean) => () => events.some(check);
      for (const events of [remote, local]) {
        await waitFor(
          'first progress',
          seen(events, (e) => e.job.progress.fraction === 0.25)
        );
      }
      steps[0]!.open();
      for (const events of [remote, local]) {
        await waitFor(
          'second progress',
          seen(
            events,
            (e) => e.kind === 'progress' && e.job.progress.fraction === 0.5 && e.job.progress.message === 'second'
          )
        );
      }
      steps[1]!.open();
      for (const events of [remote, local]) {
        await waitFor(
          'completion',
          seen(events, (e) => e.kind === 'state' && e.job.state === 'completed')
        );
        expect(events.every((e) => e.job.id === job.id && e.job.tenant === T1)).toBe(true);
        expect(events.at(-1)?.job.result).toBe('done');
      }
      // Unsubscribed: hears nothing more, while the other follower still does.
      stopRemote();
      const heardBefore = remote.length;
      const { job: second } = await api.enqueue({ tenant: T1, type: 'steps', input: null });
      const followers: JobEvent[] = [];
      api.subscribe(T2, second.id, (event) => followers.push(event));
      const owner: JobEvent[] = [];
      api.subscribe(T1, second.id, (event) => owner.push(event));
      steps[0] = gate();
      steps[1] = gate();
      steps[0].open();
      steps[1].open();
      await waitFor(
        'the second job to complete',
        seen(owner, (e) => e.job.state === 'completed')
      );
      await worker.close();
      expect(remote.length).toBe(heardBefore);
      expect(followers).toEqual([]);
    });

    it('records a completed job with its result and reports it finished once', async () => {
      const queue = open();
      const finished: JobRecord[] = [];
      const worker = queue.work(
        { echo: async (job) => ({ echoed: job.input }) },
        { concurrency: 2, onFinished: (job) => finished.push(job) }
      );
      const { job } = await queue.enqueue({ tenant: T1, type: 'echo', input: 'hello' });
      const done = await waitForState(queue, job, 'completed');
      expect(done.result).toEqual({ echoed: 'hello' });
      expect(done.attempts).toBe(1);
      expect(done.error).toBeUndefined();
      expect(done.startedAt).toBeGreaterThanOrEqual(done.createdAt);
      expect(done.finishedAt).toBeGreaterThanOrEqual(done.startedAt!);
      await worker.close();
      expect(finished.map((j) => [j.id, j.state])).toEqual([[job.id, 'completed']]);
    });

    it('retries a job whose handler threw, counting its attempts', async () => {
      const queue = open();
      const attempts: number[] = [];
      const worker = queue.work(
        {
          flaky: async (_job, context: JobContext) => {
            attempts.push(context.attempt);
            if (context.attempt < 2) {
              throw new Error('glitch');
            }
            return 'ok';
          }
        },
        { concurrency: 1 }
      );
      const { job } = await queue.enqueue({ tenant: T1, type: 'flaky', input: null });
      const done = await waitForState(queue, job, 'completed');
      await worker.close();
      expect(attempts).toEqual([1, 2]);
      expect(done).toMatchObject({ attempts: 2, result: 'ok' });
    });

    it('waits before each retry, at least half the retry delay, doubling per attempt (backoff, equal jitter)', async () => {
      const retryDelayMs = 300;
      const queue = open({ retryDelayMs });
      const started: number[] = [];
      const failed: number[] = [];
      const worker = queue.work(
        {
          flaky: async (_job, { attempt }) => {
            started.push(Date.now());
            if (attempt < 3) {
              failed.push(Date.now());
              throw new Error('glitch');
            }
            return 'ok';
          }
        },
        { concurrency: 1 }
      );
      const { job } = await queue.enqueue({ tenant: T1, type: 'flaky', input: null });
      await waitForState(queue, job, 'completed');
      await worker.close();
      expect(started).toHaveLength(3);
      expect(started[1]! - failed[0]!).toBeGreaterThanOrEqual(retryDelayMs / 2);
      expect(started[2]! - failed[1]!).toBeGreaterThanOrEqual(retryDelayMs);
    });

    it('fails a job at once on PermanentJobError', async () => {
      const queue = open();
      let calls = 0;
      const finished: JobRecord[] = [];
      const worker = queue.work(
        {
          strict: async () => {
            calls++;
            throw new PermanentJobError('The image is not a scan', 'bad_image');
          }
        },
        { concurrency: 1, onFinished: (job) => finished.push(job) }
      );
      const { job } = await queue.enqueue({ tenant: T1, type: 'strict', input: null, maxAttempts: 5 });
      const failed = await waitForState(queue, job, 'failed');
      await worker.close();
      expect(calls).toBe(1);
      expect(failed.attempts).toBe(1);
      expect(failed.error).toEqual({ code: 'bad_image', message: 'The image is not a scan' });
      expect(finished.map((j) => j.state)).toEqual(['failed']);
    });

    it('fails a job once its attempts are exhausted', async () => {
      const queue = open();
      let calls = 0;
      const worker = queue.work(
        {
          broken: async () => {
            calls++;
            throw new Error('still down');
          }
        },
        { concurrency: 1 }
      );
      const { job } = await queue.enqueue({ tenant: T1, type: 'broken', input: null, maxAttempts: 2 });
      const failed = await waitForState(queue, job, 'failed');
      await worker.close();
      expect(calls).toBe(2);
      expect(failed.attempts).toBe(2);
      expect(failed.error).toEqual({ code: 'job_failed', message: 'still down' });
    });

    it('cancels a queued job at once, and it never runs', async () => {
      const queue = open();
      const { job } = await queue.enqueue({ tenant: T1, type: 'echo', input: 'cancelled' });
      const cancelled = await queue.cancel(T1, job.id);
      expect(cancelled).toMatchObject({ id: job.id, state: 'cancelled' });
      expect((await open().get(T1, job.id))?.state).toBe('cancelled');
      // Cancelling a finished job changes nothing.
      expect(await queue.cancel(T1, job.id)).toMatchObject({ state: 'cancelled' });
      const { job: next } = await queue.enqueue({ tenant: T1, type: 'echo', input: 'next' });
      const ran: unknown[] = [];
      const worker = queue.work({ echo: async (j) => void ran.push(j.input) }, { concurrency: 1 });
      await waitForState(queue, next, 'completed');
      await worker.close();
      expect(ran).toEqual(['next']);
    });

    it('cancels a running job from another process: its handler is aborted and it ends cancelled', async () => {
      const api = open();
      const workers = open();
      let sawAbort = false;
      const finished: JobRecord[] = [];
      const worker = workers.work(
        {
          long: async (_job, { signal }) => {
            await aborted(signal);
            sawAbort = true;
            throw signal.reason;
          }
        },
        { concurrency: 1, onFinished: (job) => finished.push(job) }
      );
      const { job } = await api.enqueue({ tenant: T1, type: 'long', input: null });
      await waitForState(api, job, 'running');
      const flagged = await api.cancel(T1, job.id);
      expect(flagged).toMatchObject({ state: 'running', cancelRequested: true });
      const cancelled = await waitForState(api, job, 'cancelled');
      expect(sawAbort).toBe(true);
      expect(cancelled.error).toBeUndefined();
      await worker.close();
      expect(finished.map((j) => j.state)).toEqual(['cancelled']);
    });

    it('answers a replayed idempotency key with the first job', async () => {
      const queue = open();
      const first = await queue.enqueue({ tenant: T1, type: 'echo', input: 1, idempotencyKey: 'k1' });
      const replay = await open().enqueue({ tenant: T1, type: 'echo', input: 2, idempotencyKey: 'k1' });
      expect(replay.created).toBe(false);
      expect(replay.job).toEqual(first.job);
      const otherTenant = await queue.enqueue({ tenant: T2, type: 'echo', input: 1, idempotencyKey: 'k1' });
      const otherKey = await queue.enqueue({ tenant: T1, type: 'echo', input: 1, idempotencyKey: 'k2' });
      expect(otherTenant.created && otherKey.created).toBe(true);
      expect(new Set([first.job.id, otherTenant.job.id, otherKey.job.id]).size).toBe(3);
      expect((await queue.list(T1, { limit: 10 })).jobs).toHaveLength(2);
    });

    it('refuses a job from a tenant at its cap of queued and running jobs', async () => {
      const queue = open({ maxQueuedPerTenant: 2 });
      const first = await queue.enqueue({ tenant: T1, type: 'echo', input: 1, idempotencyKey: 'first' });
      await queue.enqueue({ tenant: T1, type: 'echo', input: 2 });
      const refused = queue.enqueue({ tenant: T1, type: 'echo', input: 3 });
      await expect(refused).rejects.toBeInstanceOf(TenantJobLimitError);
      await expect(refused).rejects.toMatchObject({ name: 'TenantJobLimitError', code: 'too_many_active_jobs' });
      // A replay is answered even at the cap; other tenants are not affected.
      expect((await queue.enqueue({ tenant: T1, type: 'echo', input: 1, idempotencyKey: 'first' })).created).toBe(
        false
      );
      expect((await queue.enqueue({ tenant: T2, type: 'echo', input: 1 })).created).toBe(true);
      // A cancelled job frees its place, and so does a finished one.
      await queue.cancel(T1, first.job.id);
      const third = await queue.enqueue({ tenant: T1, type: 'echo', input: 3 });
      await expect(queue.enqueue({ tenant: T1, type: 'echo', input: 4 })).rejects.toBeInstanceOf(TenantJobLimitError);
      const worker = queue.work({ echo: async () => 'ok' }, { concurrency: 2 });
      await waitForState(queue, third.job, 'completed');
      await waitFor('a free place', async () => {
        const { jobs } = await queue.list(T1, { limit: 10, state: 'completed' });
        return jobs.length === 2;
      });
      await worker.close();
      await queue.enqueue({ tenant: T1, type: 'echo', input: 5 });
      await queue.enqueue({ tenant: T1, type: 'echo', input: 6 });
      await expect(queue.enqueue({ tenant: T1, type: 'echo', input: 7 })).rejects.toBeInstanceOf(TenantJobLimitError);
    });

    it("runs at most maxRunningPerTenant of a tenant's jobs at once, in every process, and other tenants' meanwhile", async () => {
      const options = { maxRunningPerTenant: 1 };
      const api = open(options);
      const gates = { a1: gate(), a2: gate(), b1: gate() };
      const started: string[] = [];
      const hold = async (job: JobRecord) => {
        const name = job.input as keyof typeof gates;
        started.push(name);
        await gates[name].opened;
        return name;
      };
      const enqueue = async (tenant: string, input: string) => (await api.enqueue({ tenant, type: 'hold', input })).job;
      const jobs = { a1: await enqueue(T1, 'a1'), a2: await enqueue(T1, 'a2'), b1: await enqueue(T2, 'b1') };
      const heard = new Map<string, JobEvent[]>();
      for (const { id } of [jobs.a1, jobs.a2]) {
        heard.set(id, []);
        api.subscribe(T1, id, (event) => heard.get(id)!.push(event));
      }
      // Two processes with two slots each: room for all three jobs, but for the cap.
      const workers = [open(options), open(options)].map((queue) => queue.work({ hold }, { concurrency: 2 }));
      await waitFor('a job of each tenant to start', () => started.includes('b1') && started.length >= 2);
      await sleep(HELD_BACK_MS);
      // Which of the tenant's jobs runs first is not asserted: two workers take them at once.
      const [first, ...more] = started.filter((name) => name !== 'b1') as ('a1' | 'a2')[];
      expect(more).toEqual([]);
      const second = first === 'a1' ? 'a2' : 'a1';
      const held = jobs[second];
      expect(await api.get(T1, held.id)).toMatchObject({ state: 'queued', attempts: 0 });
      gates[first!].open();
      await waitFor('the held-back job to start once the first ended', () => started.includes(second));
      gates[second].open();
      gates.b1.open();
      for (const job of Object.values(jobs)) {
        await waitForState(api, job, 'completed');
      }
      const events = heard.get(held.id)!;
      await waitFor('its follower to hear it complete', () => events.some((e) => e.job.state === 'completed'));
      await Promise.all(workers.map((worker) => worker.close()));
      expect((await api.get(T1, held.id))?.attempts).toBe(1);
      // While held back it looked queued and unstarted throughout, however often a worker looked at it.
      const states = events.map((e) => e.job.state).filter((state, i, all) => state !== all[i - 1]);
      expect(states).toEqual(['queued', 'running', 'completed']);
      expect(events.filter((e) => e.job.state === 'queued').every((e) => e.job.attempts === 0)).toBe(true);
    });

    it("frees a tenant's running slot once its run's lease expires (its worker stalled or died)", async () => {
      expectWorkerErrors = true;
      const options = { maxRunningPerTenant: 1, leaseMs: 1000 };
      const staleQueue = open(options);
      const freshQueue = open(options);
      const ran: unknown[] = [];
      const report = async (job: JobRecord, { signal }: JobContext) => {
        if (job.input === 'stalls') {
          await aborted(signal);
          throw signal.reason;
        }
        ran.push(job.input);
      };
      const stale = staleQueue.work({ report }, { concurrency: 1 });
      const { job: stalls } = await freshQueue.enqueue({ tenant: T1, type: 'report', input: 'stalls', maxAttempts: 1 });
      await waitForState(freshQueue, stalls, 'running');
      const { job: next } = await freshQueue.enqueue({ tenant: T1, type: 'report', input: 'next' });
      const fresh = freshQueue.work({ report }, { concurrency: 1 });
      await sleep(HELD_BACK_MS);
      expect(ran).toEqual([]);
      await harness.expireLease(stalls.id);
      await waitForState(freshQueue, next, 'completed');
      await waitForState(freshQueue, stalls, 'failed');
      await stale.close();
      await fresh.close();
      expect(ran).toEqual(['next']);
    });

    it("cancels a job held back by its tenant's cap, and it never runs", async () => {
      const options = { maxRunningPerTenant: 1 };
      const queue = open(options);
      const release = gate();
      const ran: unknown[] = [];
      const worker = open(options).work(
        {
          hold: async (job) => {
            ran.push(job.input);
            await release.opened;
          }
        },
        { concurrency: 2 }
      );
      const { job: first } = await queue.enqueue({ tenant: T1, type: 'hold', input: 'first' });
      const { job: held } = await queue.enqueue({ tenant: T1, type: 'hold', input: 'held' });
      await waitForState(queue, first, 'running');
      await sleep(HELD_BACK_MS);
      await queue.cancel(T1, held.id);
      // At once, or at the next look of a worker that was holding it back just then.
      await waitForState(queue, held, 'cancelled');
      release.open();
      await waitForState(queue, first, 'completed');
      await worker.close();
      expect(ran).toEqual(['first']);
    });

    it("runs a tenant's held-back jobs by priority, then oldest first, as its slots free", async () => {
      const queue = open({ maxRunningPerTenant: 1 });
      const release = gate();
      const ran: unknown[] = [];
      const worker = queue.work(
        {
          hold: async (job) => {
            ran.push(job.input);
            if (job.input === 'first') {
              await release.opened;
            }
          }
        },
        { concurrency: 2 }
      );
      const { job: first } = await queue.enqueue({ tenant: T1, type: 'hold', input: 'first' });
      await waitForState(queue, first, 'running');
      for (const [input, priority] of [
        ['old', 0],
        ['urgent', 5],
        ['new', 0]
      ] as const) {
        await queue.enqueue({ tenant: T1, type: 'hold', input, priority });
      }
      await sleep(HELD_BACK_MS);
      expect(ran).toEqual(['first']);
      release.open();
      await waitFor('the held-back jobs to run', () => ran.length === 4);
      await worker.close();
      expect(ran).toEqual(['first', 'urgent', 'old', 'new']);
    });

    it("pages through a tenant's jobs newest first without duplicates or omissions", async () => {
      const queue = open();
      const ids: string[] = [];
      for (let i = 0; i < 23; i++) {
        ids.push((await queue.enqueue({ tenant: T1, type: 'echo', input: i })).job.id);
        if (i % 4 === 0) {
          await queue.enqueue({ tenant: T2, type: 'echo', input: i });
        }
      }
      const pageThrough = async (state?: JobState) => {
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await queue.list(T1, { limit: 5, cursor, state });
          expect(page.jobs.length).toBeLessThanOrEqual(5);
          seen.push(...page.jobs.map((job) => job.id));
          cursor = page.next ?? undefined;
          pages++;
        } while (cursor && pages < 20);
        return seen;
      };
      expect(await pageThrough()).toEqual(ids.toReversed());
      const cancelled = [ids[2]!, ids[7]!, ids[8]!, ids[20]!];
      for (const id of cancelled) {
        await queue.cancel(T1, id);
      }
      expect(await pageThrough('cancelled')).toEqual(cancelled.toReversed());
      expect(await pageThrough('completed')).toEqual([]);
      await expect(queue.list(T1, { limit: 5, cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(InvalidCursorError);
    });

    it('counts jobs per state', async () => {
      const queue = open();
      const enqueue = (input: string, priority: number) =>
        queue.enqueue({ tenant: T1, type: 'mixed', input, priority });
      // One worker slot, taken in priority order: ok, fail, then block, which holds it.
      const [, , blocking] = [await enqueue('ok', 3), await enqueue('fail', 2), await enqueue('block', 1)];
      const [, last, cancelled] = [await enqueue('wait', 0), await enqueue('wait', 0), await enqueue('cancel', 0)];
      await queue.cancel(T1, cancelled.job.id);
      const block = gate();
      const worker = queue.work(
        {
          mixed: async (job) => {
            if (job.input === 'fail') {
              throw new PermanentJobError('no');
            }
            if (job.input === 'block') {
              await block.opened;
            }
            return job.input;
          }
        },
        { concurrency: 1 }
      );
      await waitForState(queue, blocking.job, 'running');
      expect(await open().counts()).toEqual({ queued: 2, running: 1, completed: 1, failed: 1, cancelled: 1 });
      block.open();
      await waitForState(queue, last.job, 'completed');
      await worker.close();
      expect(await queue.counts()).toEqual({ queued: 0, running: 0, completed: 4, failed: 1, cancelled: 1 });
    });

    it('purges finished jobs after the retention period, never active ones', async () => {
      const queue = open({ retentionMs: 300 });
      const block = gate();
      const worker = queue.work(
        {
          work: async (job) => {
            if (job.input === 'block') {
              await block.opened;
            }
            return 'done';
          }
        },
        { concurrency: 1 }
      );
      const done = await queue.enqueue({ tenant: T1, type: 'work', input: 'done', idempotencyKey: 'k', priority: 2 });
      const running = await queue.enqueue({ tenant: T1, type: 'work', input: 'block', priority: 1 });
      const queued = await queue.enqueue({ tenant: T1, type: 'work', input: 'queued' });
      await waitForState(queue, running.job, 'running');
      await waitFor('the finished job to be purged', async () => (await queue.get(T1, done.job.id)) === null);
      // The active jobs are older than the purged one's finish, so a purge by age alone would have taken them.
      expect((await queue.get(T1, running.job.id))?.state).toBe('running');
      expect((await queue.get(T1, queued.job.id))?.state).toBe('queued');
      expect((await queue.list(T1, { limit: 10 })).jobs.map((j) => j.id)).toEqual([queued.job.id, running.job.id]);
      const again = await queue.enqueue({ tenant: T1, type: 'work', input: 'again', idempotencyKey: 'k' });
      expect(again.created).toBe(true);
      block.open();
      await worker.close();
    });

    it('lets another worker re-run a job whose worker stopped heartbeating', async () => {
      expectWorkerErrors = true;
      const staleQueue = open({ leaseMs: 1000 });
      const freshQueue = open({ leaseMs: 1000 });
      const stale = staleQueue.work(
        {
          report: async (_job, { signal }) => {
            await aborted(signal);
            throw signal.reason;
          }
        },
        { concurrency: 1 }
      );
      const { job } = await freshQueue.enqueue({ tenant: T1, type: 'report', input: null });
      await waitForState(freshQueue, job, 'running');
      await harness.expireLease(job.id);
      const fresh = freshQueue.work({ report: async (_job, { attempt }) => `attempt ${attempt}` }, { concurrency: 1 });
      const done = await waitForState(freshQueue, job, 'completed');
      await stale.close();
      await fresh.close();
      expect(done).toMatchObject({ result: 'attempt 2', attempts: 2 });
    });

    it("ignores the outcome of a worker that finished after losing the job's lease (fencing)", async () => {
      expectWorkerErrors = true;
      // A long lease: the stale worker's own heartbeat is unlikely to tell it of the loss before
      // it finishes, so its completion must be refused by the store itself.
      const staleQueue = open({ leaseMs: 10_000 });
      const freshQueue = open({ leaseMs: 1000 });
      const release = gate();
      const staleFinished: JobRecord[] = [];
      const stale = staleQueue.work(
        { report: () => release.opened.then(() => 'from the stale worker') },
        { concurrency: 1, onFinished: (job) => staleFinished.push(job) }
      );
      const { job } = await freshQueue.enqueue({ tenant: T1, type: 'report', input: null });
      await waitForState(freshQueue, job, 'running');
      await harness.expireLease(job.id);
      const freshFinished: JobRecord[] = [];
      const fresh = freshQueue.work(
        { report: async () => 'from the fresh worker' },
        { concurrency: 1, onFinished: (j) => freshFinished.push(j) }
      );
      await waitForState(freshQueue, job, 'completed');
      release.open();
      await stale.close();
      await fresh.close();
      expect(await freshQueue.get(T1, job.id)).toMatchObject({
        state: 'completed',
        result: 'from the fresh worker',
        attempts: 2
      });
      expect(staleFinished).toEqual([]);
      expect(freshFinished.map((j) => j.id)).toEqual([job.id]);
    });

    it('fails as stalled a job whose worker stopped heartbeating on its last attempt', async () => {
      expectWorkerErrors = true;
      const staleQueue = open({ leaseMs: 1000 });
      const freshQueue = open({ leaseMs: 1000 });
      const release = gate();
      const stale = staleQueue.work({ report: () => release.opened.then(() => 'late') }, { concurrency: 1 });
      const { job } = await freshQueue.enqueue({ tenant: T1, type: 'report', input: null, maxAttempts: 1 });
      await waitForState(freshQueue, job, 'running');
      await harness.expireLease(job.id);
      let freshCalls = 0;
      const fresh = freshQueue.work({ report: async () => void freshCalls++ }, { concurrency: 1 });
      const failed = await waitForState(freshQueue, job, 'failed');
      expect(failed.error?.code).toBe('stalled');
      release.open();
      await stale.close();
      await fresh.close();
      expect(freshCalls).toBe(0);
      expect((await freshQueue.get(T1, job.id))?.state).toBe('failed');
    });

    it('runs at most `concurrency` jobs at once', async () => {
      const queue = open();
      const gates = Array.from({ length: 8 }, gate);
      const runningNow = new Set<number>();
      let most = 0;
      const worker = queue.work(
        {
          slot: async (job) => {
            const index = job.input as number;
            runningNow.add(index);
            most = Math.max(most, runningNow.size);
            await gates[index]!.opened;
            runningNow.delete(index);
          }
        },
        { concurrency: 3 }
      );
      for (let i = 0; i < 8; i++) {
        await queue.enqueue({ tenant: T1, type: 'slot', input: i });
      }
      for (let done = 0; done < 8; done++) {
        await waitFor('the free slots to fill', () => runningNow.size === Math.min(3, 8 - done));
        const [next] = runningNow;
        gates[next!]!.open();
        await waitFor('a job to finish', () => !runningNow.has(next!));
      }
      await worker.close();
      expect(most).toBe(3);
    });

    it('closes a worker only once its running jobs are done, taking no new ones', async () => {
      const queue = open();
      const release = gate();
      const worker = queue.work({ hold: () => release.opened.then(() => 'held') }, { concurrency: 2 });
      const jobs = [
        (await queue.enqueue({ tenant: T1, type: 'hold', input: 1 })).job,
        (await queue.enqueue({ tenant: T1, type: 'hold', input: 2 })).job
      ];
      for (const job of jobs) {
        await waitForState(queue, job, 'running');
      }
      let closed = false;
      const closing = worker.close(60_000).then(() => (closed = true));
      const { job: late } = await queue.enqueue({ tenant: T1, type: 'hold', input: 3 });
      await sleep(200);
      expect(closed).toBe(false);
      release.open();
      await closing;
      for (const job of jobs) {
        expect((await queue.get(T1, job.id))?.state).toBe('completed');
      }
      expect((await queue.get(T1, late.id))?.state).toBe('queued');
    });

    it('aborts handlers still running after the grace period and hands their jobs back', async () => {
      const queue = open();
      let sawAbort = false;
      const worker = queue.work(
        {
          stubborn: async (_job, { signal }) => {
            await aborted(signal);
            sawAbort = true;
            // Ignores the abort: the queue must not wait for it.
            await new Promise(() => {});
          }
        },
        { concurrency: 1 }
      );
      const { job } = await queue.enqueue({ tenant: T1, type: 'stubborn', input: null });
      await waitForState(queue, job, 'running');
      await worker.close(100);
      expect(sawAbort).toBe(true);
      expect((await queue.get(T1, job.id))?.state).toBe('queued');
      const next = open().work({ stubborn: async (_job, { attempt }) => attempt }, { concurrency: 1 });
      const done = await waitForState(queue, job, 'completed');
      await next.close();
      expect(done).toMatchObject({ attempts: 2, result: 2 });
    });
  });
}
