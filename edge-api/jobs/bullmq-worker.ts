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
  /** Resolves once cancels announced by other processes reach this one. */
  listening: Promise<unknown>;
}

// Stalls are limited per job by its own `maxAttempts` (checked when a run starts), not by BullMQ.
const UNLIMITED_STALLS = 1_000_000;
// How often some worker looks for jobs whose lock expired (one check per queue, whoever runs it):
// a crashed worker's job is re-run within its lease plus twice this.
const STALL_CHECK_MS = 2000;
// How long a job whose tenant is at its cap of running jobs waits before a worker looks at it
// again: BullMQ has no per-tenant concurrency that would hand it over as soon as a slot frees.
// Shorter starts it sooner; longer spends less Redis work on a tenant's waiting backlog.
const CAP_RECHECK_MS = 250;

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
  readonly #filing = new Set<Promise<void>>();
  #closing = false;

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
    this.#worker.on('completed', (job) => this.#file(job, 'completed'));
    this.#worker.on('failed', (job) => {
      // Without `finishedOn` the job is only waiting for a retry.
      if (job?.finishedOn !== undefined) {
        this.#file(job, toJobState('failed', job.failedReason) ?? 'failed');
      }
    });
    // Running before cancels can reach this process could miss one aimed at a job it just took.
    void context.listening.then(() => (this.#closing ? undefined : this.#worker.run())).catch(settings.onError);
  }

  async close(graceMs = 10_000): Promise<void> {
    this.#closing = true;
    const closing = this.#worker.close();
    await this.runs.drain(graceMs);
    await closing;
    await Promise.all(this.#filing);
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
      // The run is registered first, so a cancel announced after this read still reaches it.
      if (await this.#context.ledger.cancelRequested(run.job.id)) {
        run.abort('cancelled');
      }
      outcome = await run.execute(handler, (fraction, message) =>
        job.updateProgress(message === undefined ? { fraction } : { fraction, message })
      );
      if (outcome.kind === 'handback') {
        await job.moveToWait(token);
      }
    });
    return processorResult(outcome);
  }

  /**
   * Takes a running slot of the job's tenant when there is a cap; else moves the job back to
   * waiting and throws, for BullMQ to leave it there (or throws to end it cancelled).
   */
  async #takeSlot(job: BullJob, token: string): Promise<void> {
    const cap = this.#context.settings.maxRunningPerTenant;
    if (cap === null) {
      return;
    }
    const start = await this.#context.ledger.startRun(job.id!, job.data.tenant, cap);
    if (start === 'cancelled') {
      throw new UnrecoverableError(CANCELLED_REASON);
    }
    if (start === 'wait') {
      await job.moveToDelayed(Date.now() + CAP_RECHECK_MS, token);
      throw new DelayedError();
    }
  }

  /** Files a job that reached a final state: out of its tenant's cap, cancelled ones kept as records. */
  #file(job: BullJob, state: JobState): void {
    const record = toJobRecord(job, state, state === 'cancelled');
    const { ledger, settings } = this.#context;
    const filing = (async () => {
      if (state === 'cancelled') {
        await ledger.keepCancelled(record);
        await job.remove();
      }
      await ledger.settle(record);
      this.#options.onFinished?.(record);
    })().catch(settings.onError);
    this.#filing.add(filing);
    void filing.finally(() => this.#filing.delete(filing));
  }
}
