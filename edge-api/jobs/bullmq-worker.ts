import { DelayedError, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import {
  CANCELLED_REASON,
  encodeFailure,
  toJobRecord,
  toJobState,
  type BullJob,
  type JobData
} from './bullmq-records.ts';
import type { BullmqLedger } from './bullmq-ledger.ts';
import type { TenantSlots } from './bullmq-slots.ts';
import { HandlerRuns, STALLED, type RunOutcome } from './handler-runs.ts';
import type { JobHandler, JobState, RunningWorker, WorkerOptions } from './job-queue.ts';
import type { QueueSettings } from './queue-settings.ts';
import { backoffDelay } from '../../src/lib/core/backoff.ts';

/** What a worker shares with the queue that started it. */
export interface BullmqWorkerContext {
  url: string;
  queueName: string;
  prefix: string;
  settings: QueueSettings;
  ledger: BullmqLedger;
  /** Undefined: no cap on each tenant's running jobs. */
  slots: TenantSlots | undefined;
  /** Resolves once cancels announced by other processes reach this one. */
  listening: Promise<unknown>;
}

// Stalls are limited per job by its own `maxAttempts` (checked when a run starts), not by BullMQ.
const UNLIMITED_STALLS = 1_000_000;
// How often some worker looks for jobs whose lock expired (one check per queue, whoever runs it):
// a crashed worker's job is re-run within its lease plus twice this.
const STALL_CHECK_MS = 2000;

/** What the BullMQ processor must return or throw for a run's outcome. */
function processorResult(outcome: RunOutcome): unknown {
  switch (outcome.kind) {
    case 'completed':
      return outcome.result;
    case 'retry':
      // Attempts are left (`HandlerRun` decided): BullMQ retries after our backoff strategy.
      throw new Error(encodeFailure(outcome.error));
    case 'failed':
      throw new UnrecoverableError(encodeFailure(outcome.error));
    case 'cancelled':
      throw new UnrecoverableError(CANCELLED_REASON);
    case 'lost':
      // BullMQ refuses to record anything without the lock, which another worker holds now.
      throw new Error('The lease on this job was lost');
    case 'handback':
      // Already moved back to waiting: BullMQ must leave the job alone.
      throw new WaitingError();
  }
}

/**
 * Runs jobs from the BullMQ queue in this process. BullMQ keeps the lock (lease) alive, recovers
 * stalled jobs and retries with the shared backoff; this wraps each run so that a cancel
 * announced from any process, or a lost lock, aborts the handler's signal, and files the jobs
 * that end.
 */
export class BullmqWorker implements RunningWorker {
  /** Its running handlers, for a cancel to reach. */
  readonly runs = new HandlerRuns();
  readonly #context: BullmqWorkerContext;
  readonly #handlers: Record<string, JobHandler>;
  readonly #options: WorkerOptions;
  readonly #worker: Worker<JobData, unknown>;
  readonly #pending = new Set<Promise<void>>();
  #closing = false;
  #graceOver = false;

  constructor(context: BullmqWorkerContext, handlers: Record<string, JobHandler>, options: WorkerOptions) {
    this.#context = context;
    this.#handlers = handlers;
    this.#options = options;
    const { settings } = context;
    this.#worker = new Worker<JobData, unknown>(context.queueName, (job, token) => this.#process(job, token!), {
      connection: { url: context.url },
      prefix: context.prefix,
      concurrency: options.concurrency,
      autorun: false,
      lockDuration: settings.leaseMs,
      stalledInterval: Math.min(settings.leaseMs, STALL_CHECK_MS),
      maxStalledCount: UNLIMITED_STALLS,
      settings: { backoffStrategy: (attemptsMade: number) => backoffDelay(attemptsMade - 1, settings.retryBackoff) }
    });
    this.#worker.on('error', settings.onError);
    this.#worker.on('lockRenewalFailed', (ids) => ids.forEach((id) => this.runs.get(id)?.abort('lease_lost')));
    this.#worker.on('completed', (job) => {
      this.#file(job, 'completed');
      this.#freed(job);
    });
    this.#worker.on('failed', (job) => {
      if (!job) {
        return;
      }
      // Without `finishedOn` the job is only waiting for a retry.
      if (job.finishedOn !== undefined) {
        this.#file(job, toJobState('failed', job.failedReason) ?? 'failed');
      }
      this.#freed(job);
    });
    // Running before cancels can reach this process could miss one aimed at a job it just took.
    void context.listening.then(() => (this.#closing ? undefined : this.#worker.run())).catch(settings.onError);
  }

  async close(graceMs = 10_000): Promise<void> {
    this.#closing = true;
    // Not `runs.drain`, which only sees the runs under way when it looks: BullMQ still runs a job
    // it fetched as closing began, whose run may start later and would never be aborted. BullMQ's
    // close waits for every run; once the grace is over, each is aborted, however late it started.
    const graceOver = setTimeout(() => {
      this.#graceOver = true;
      for (const run of this.runs.values()) {
        run.abort('shutdown');
      }
    }, graceMs);
    try {
      await this.#worker.close();
    } finally {
      clearTimeout(graceOver);
    }
    await Promise.all(this.#pending);
  }

  async #process(job: BullJob, token: string): Promise<unknown> {
    const handler = this.#handlers[job.name];
    if (!handler) {
      throw new UnrecoverableError(
        encodeFailure({ code: 'unknown_job_type', message: `No worker handles jobs of type ${job.name}` })
      );
    }
    if (job.attemptsStarted > job.data.maxAttempts) {
      throw new UnrecoverableError(encodeFailure(STALLED));
    }
    await this.#takeSlot(job, token);
    let outcome: RunOutcome = { kind: 'lost' };
    await this.runs.track(toJobRecord(job, 'running', false), token, async (run) => {
      if (this.#graceOver) {
        run.abort('shutdown');
      }
      // The run is registered first, so a cancel announced after this read still reaches it.
      if (await this.#context.ledger.cancelRequested(run.job.id)) {
        run.abort('cancelled');
      }
      outcome = await run.execute(handler, (fraction, message) =>
        job.updateProgress(message === undefined ? { fraction } : { fraction, message })
      );
      if (outcome.kind === 'handback') {
        await job.moveToWait(token);
        this.#freed(job);
      }
    });
    return processorResult(outcome);
  }

  /**
   * Takes a running slot of the job's tenant when there is a cap; else throws, for BullMQ to
   * leave the job parked until a slot frees (or to end it cancelled).
   */
  async #takeSlot(job: BullJob, token: string): Promise<void> {
    const start = (await this.#context.slots?.take(job, token)) ?? 'run';
    if (start === 'cancelled') {
      throw new UnrecoverableError(CANCELLED_REASON);
    }
    if (start === 'wait') {
      throw new DelayedError();
    }
  }

  /** Files a job that reached a final state: out of its tenant's cap, cancelled ones kept as records. */
  #file(job: BullJob, state: JobState): void {
    const record = toJobRecord(job, state, state === 'cancelled');
    const { ledger } = this.#context;
    this.#afterRun(
      (async () => {
        if (state === 'cancelled') {
          await ledger.keepCancelled(record);
          await job.remove();
        }
        await ledger.settle(record);
        this.#options.onFinished?.(record);
      })()
    );
  }

  /** Hands the job's slot to a held job of its tenant, once BullMQ has ended the run (its lock is gone). */
  #freed(job: BullJob): void {
    const { slots } = this.#context;
    if (slots) {
      this.#afterRun(slots.freed(job.data.tenant));
    }
  }

  /** Work after a run ended, which `close` waits for; nobody awaits it, so its failure is only reported. */
  #afterRun(work: Promise<void>): void {
    const tracked = work.catch(this.#context.settings.onError);
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
  }
}
