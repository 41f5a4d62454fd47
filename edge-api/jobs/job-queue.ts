/**
 * The job queue port: durable background jobs (MedGemma analysis, SDXL generation, federated
 * aggregation) with two adapters behind one contract — embedded SQLite (the default, one
 * machine) and BullMQ on Redis (several API/worker processes). Routes and workers only see this.
 */

import type { JobState } from '../../src/lib/core/edge-wire.ts';

export type { JobState };

export interface JobError {
  message: string;
  /**
   * A `PermanentJobError`'s code, or a thrown error's own string `code`, else `job_failed`;
   * `stalled` when the last allowed run was interrupted (worker crashed, stalled or shut down);
   * `unknown_job_type` when a worker had no handler for it (BullMQ, where workers take any job).
   */
  code: string;
}

export interface JobRecord {
  id: string;
  /** Owner: only this tenant can see, follow or cancel the job. */
  tenant: string;
  /** Registered handler name, e.g. `medgemma.analyze`. */
  type: string;
  state: JobState;
  /** Higher runs sooner among queued jobs; default 0. */
  priority: number;
  input: unknown;
  /** 0..1, with an optional human-readable step. */
  progress: { fraction: number; message?: string };
  result?: unknown;
  error?: JobError;
  /** Runs started so far (a retry or a recovered crash counts as one more). */
  attempts: number;
  maxAttempts: number;
  /** Set on a running job whose cancel was requested; its handler's signal is aborted. */
  cancelRequested: boolean;
  idempotencyKey?: string;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
}

/** Priorities are integers in `-MAX_JOB_PRIORITY..MAX_JOB_PRIORITY`; adapters refuse others. */
export const MAX_JOB_PRIORITY = 1_000_000;

export interface EnqueueRequest {
  tenant: string;
  type: string;
  /** Must survive JSON (it is stored); so must a handler's result. */
  input: unknown;
  /** Higher runs sooner; default 0. */
  priority?: number;
  /** Default 3. */
  maxAttempts?: number;
  /** Same tenant + key within the retention window returns the first job instead of a new one. */
  idempotencyKey?: string;
}

/** What a state or progress change looks like to a follower (the SSE route). */
export type JobEvent = { kind: 'progress'; job: JobRecord } | { kind: 'state'; job: JobRecord };

export interface JobContext {
  /** Aborted when the job is cancelled or its lease is lost: stop and throw. */
  signal: AbortSignal;
  /** The attempt number (1-based). Handlers must be idempotent: a crash re-runs them. */
  attempt: number;
  progress(fraction: number, message?: string): Promise<void>;
}

export type JobHandler = (job: JobRecord, context: JobContext) => Promise<unknown>;

/** Throw from a handler to fail the job at once, without retries (bad input, not a glitch). */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
  readonly code: string;
  constructor(message: string, code = 'job_failed', options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/**
 * Thrown by `enqueue` when the tenant already has `maxQueuedPerTenant` queued + running jobs: a
 * bound on one tenant's backlog (how many of them run at once is `maxRunningPerTenant`).
 * The route answers 429.
 */
export class TenantJobLimitError extends Error {
  override name = 'TenantJobLimitError';
  readonly code = 'too_many_active_jobs';
  readonly limit: number;
  constructor(tenant: string, limit: number) {
    super(`Tenant ${tenant} already has ${limit} queued or running jobs`);
    this.limit = limit;
  }
}

/** Thrown by `list` for a cursor it did not hand out: a client error (the route answers 422). */
export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
  readonly code = 'invalid_cursor';
  constructor() {
    super('Invalid pagination cursor');
  }
}

/** Construction options every adapter takes (each has its own connection options besides). */
export interface JobQueueOptions {
  /** How long finished jobs, and the idempotency keys that point at them, are kept. Default 24 h. */
  retentionMs?: number;
  /** Queued + running jobs one tenant may have; `enqueue` beyond it throws `TenantJobLimitError`. Default 100. */
  maxQueuedPerTenant?: number;
  /**
   * Jobs of one tenant that run at once, counted across every worker and process: workers pass
   * over that tenant's other jobs (they stay queued) and run other tenants' meanwhile, so one
   * tenant cannot take every slot. A run whose lease expired no longer counts. Default: no cap.
   */
  maxRunningPerTenant?: number;
  /**
   * A claimed job's lease (visibility timeout), renewed while its handler runs. A worker that
   * stays silent longer loses the job: another worker re-runs it and the first one's outcome is
   * ignored. Default 30 s.
   */
  leaseMs?: number;
  /** Delay before the first retry; it doubles per attempt (up to 5 min), with jitter. Default 1 s. */
  retryDelayMs?: number;
  /** Told of failures no caller awaits (worker loop, heartbeats, purges, event feeds). Default `console.error`. */
  onError?: (error: unknown) => void;
}

export interface WorkerOptions {
  /** Jobs this worker runs at once. */
  concurrency: number;
  /** Told each job this worker ran once it reaches a final state (for duration metrics). */
  onFinished?: (job: JobRecord) => void;
}

export interface RunningWorker {
  /**
   * Stops taking jobs and waits for running ones. After `graceMs` (default 10 s) their signals
   * are aborted and their jobs handed back to the queue for another worker (the interrupted run
   * counts as an attempt); whatever those handlers do afterwards is ignored.
   */
  close(graceMs?: number): Promise<void>;
}

export type JobQueueAdapter = 'sqlite' | 'bullmq';

export interface JobQueue {
  /** Which adapter this is: the detailed health report and the worker's start log name it. */
  readonly adapter: JobQueueAdapter;
  /**
   * Accepts a job durably: once this resolves, a crash anywhere does not lose it. Throws
   * `TenantJobLimitError` when the tenant is at its cap (an idempotent replay is still answered).
   */
  enqueue(request: EnqueueRequest): Promise<{ job: JobRecord; created: boolean }>;
  /** The tenant's job, or null (also for another tenant's id: no existence leak). */
  get(tenant: string, id: string): Promise<JobRecord | null>;
  /**
   * The tenant's jobs, newest first, `limit` per page; `cursor` is the previous page's `next`
   * (`InvalidCursorError` for anything else).
   */
  list(
    tenant: string,
    options: { limit: number; cursor?: string; state?: JobState }
  ): Promise<{ jobs: JobRecord[]; next: string | null }>;
  /**
   * Cancels a queued job at once; a running one is flagged and its handler's signal aborted
   * (it ends `cancelled` when the handler stops). Finished jobs are returned unchanged.
   */
  cancel(tenant: string, id: string): Promise<JobRecord | null>;
  /**
   * Follows one job, from any process: the listener first hears the job as it is now (a
   * `state` event, never before `subscribe` returns), then each progress and state change.
   * Returns the unsubscribe. Nothing arrives for another tenant's job or an unknown id.
   */
  subscribe(tenant: string, id: string, listener: (event: JobEvent) => void): () => void;
  /**
   * Runs jobs of the given types in this process until the returned worker is closed. Give every
   * worker every type: the embedded queue leaves other types queued, but on BullMQ any worker
   * takes any job and fails one it has no handler for.
   */
  work(handlers: Record<string, JobHandler>, options: WorkerOptions): RunningWorker;
  /** Jobs per state, for health and metrics. */
  counts(): Promise<Record<JobState, number>>;
  /** Closes this process's workers (default grace) and connections; the jobs stay stored. */
  close(): Promise<void>;
}
