import type { Job } from 'bullmq';
import { MAX_JOB_PRIORITY, type JobError, type JobRecord, type JobState } from './job-queue.ts';

/** What a BullMQ job carries besides its name (the job type) and BullMQ's own fields. */
export interface JobData {
  tenant: string;
  input: unknown;
  /** The port's priority; BullMQ's own is derived from it. */
  priority: number;
  maxAttempts: number;
  idempotencyKey?: string;
}

/** A BullMQ job of this queue. */
export type BullJob = Job<JobData, unknown>;

/** BullMQ runs lower numbers first, from 1 (0 would mean "no priority", run before all others). */
export function toBullPriority(priority: number): number {
  return MAX_JOB_PRIORITY + 1 - priority;
}

// BullMQ keeps a failure as one string: the code travels in front of the message.
const FAILURE = /^([\w.-]{1,64}): ([\s\S]*)$/;

/** A job error as BullMQ's `failedReason`. */
export function encodeFailure(error: JobError): string {
  return `${error.code}: ${error.message}`;
}

/** A `failedReason` back as a job error; BullMQ's own reasons get the generic code. */
export function decodeFailure(reason: string): JobError {
  const match = FAILURE.exec(reason);
  return match ? { code: match[1]!, message: match[2]! } : { code: 'job_failed', message: reason };
}

/**
 * The `failedReason` of a job cancelled while it ran: the one mark BullMQ keeps of such a cancel.
 * BullMQ has no cancelled state (its `Worker.cancelJob` only aborts a processor in its own
 * process), so the run ends failed, by an `UnrecoverableError` (no retry) with this message,
 * until its worker files it as cancelled and removes it. The ledger's cancel flag cannot stand in:
 * a handler may fail for its own reason after a cancel was asked. Guarded in bullmq-internals.test.ts.
 */
export const CANCELLED_REASON = encodeFailure({ code: 'cancelled', message: 'The job was cancelled' });

/** The port's state of a job BullMQ says is in `state` (null: BullMQ no longer has it). */
export function toJobState(state: string, failedReason: string | undefined): JobState | null {
  switch (state) {
    case 'active':
      return 'running';
    case 'completed':
      return 'completed';
    case 'failed':
      // A job cancelled while it ran fails in BullMQ, until its worker files it as cancelled.
      return failedReason === CANCELLED_REASON ? 'cancelled' : 'failed';
    case 'unknown':
      return null;
    default:
      // waiting, prioritized, delayed (a retry's backoff), waiting-children
      return 'queued';
  }
}

function toProgress(progress: unknown): JobRecord['progress'] {
  // BullMQ starts every job at the number 0; handlers report objects.
  if (typeof progress === 'number') {
    return { fraction: progress };
  }
  const { fraction, message } = progress as { fraction: number; message?: string };
  return message === undefined ? { fraction } : { fraction, message };
}

/** The only place a BullMQ job becomes a `JobRecord`. */
export function toJobRecord(job: BullJob, state: JobState, cancelRequested: boolean): JobRecord {
  const { data } = job;
  return {
    id: job.id!,
    tenant: data.tenant,
    type: job.name,
    state,
    priority: data.priority,
    input: data.input,
    progress: toProgress(job.progress),
    ...(state === 'completed' && job.returnvalue != null && { result: job.returnvalue }),
    ...(state === 'failed' && { error: decodeFailure(job.failedReason) }),
    attempts: job.attemptsStarted,
    maxAttempts: data.maxAttempts,
    cancelRequested,
    ...(data.idempotencyKey !== undefined && { idempotencyKey: data.idempotencyKey }),
    createdAt: job.timestamp,
    ...(job.processedOn !== undefined && { startedAt: job.processedOn }),
    ...(job.finishedOn !== undefined && { finishedAt: job.finishedOn })
  };
}

/**
 * A job BullMQ handed to a worker that holds no slot under its tenant's cap on running jobs (the
 * worker is checking the cap, or giving the job back): shown queued, as before the hand-off.
 * BullMQ counted the hand-off as a start, which the worker takes back as it gives the job back;
 * the larger of that count less one and the runs that ended with an outcome is right on either
 * side of the take-back (one short just after it only if an earlier run was interrupted).
 */
export function toWaitingRecord(job: BullJob, cancelRequested: boolean): JobRecord {
  return {
    ...toJobRecord(job, 'queued', cancelRequested),
    attempts: Math.max(job.attemptsStarted - 1, job.attemptsMade)
  };
}
