/**
 * The job queue port: durable background jobs (MedGemma analysis, SDXL generation, federated
 * aggregation) with two adapters behind one contract — embedded SQLite (the default, one
 * machine) and BullMQ on Redis (several API/worker processes). Routes and workers only see this.
 */

export type JobState = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

export interface JobError {
  message: string;
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

export interface EnqueueRequest {
  tenant: string;
  type: string;
  input: unknown;
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

export interface WorkerOptions {
  /** Jobs this worker runs at once. */
  concurrency: number;
}

export interface RunningWorker {
  /** Stops taking jobs and waits for running ones (or abandons them after `graceMs`). */
  close(graceMs?: number): Promise<void>;
}

export interface JobQueue {
  /** Accepts a job durably: once this resolves, a crash anywhere does not lose it. */
  enqueue(request: EnqueueRequest): Promise<{ job: JobRecord; created: boolean }>;
  /** The tenant's job, or null (also for another tenant's id: no existence leak). */
  get(tenant: string, id: string): Promise<JobRecord | null>;
  /** The tenant's jobs, newest first, `limit` per page; `cursor` is the previous page's `next`. */
  list(
    tenant: string,
    options: { limit: number; cursor?: string; state?: JobState }
  ): Promise<{ jobs: JobRecord[]; next: string | null }>;
  /**
   * Cancels a queued job at once; a running one is flagged and its handler's signal aborted
   * (it ends `cancelled` when the handler stops). Finished jobs are returned unchanged.
   */
  cancel(tenant: string, id: string): Promise<JobRecord | null>;
  /** Follows one job's progress and state changes; returns the unsubscribe. */
  subscribe(tenant: string, id: string, listener: (event: JobEvent) => void): () => void;
  /** Runs jobs of the given types in this process. */
  work(handlers: Record<string, JobHandler>, options: WorkerOptions): RunningWorker;
  /** Jobs per state, for health and metrics. */
  counts(): Promise<Record<JobState, number>>;
  close(): Promise<void>;
}
