import type { BackoffOptions } from '../../src/lib/core/backoff.ts';
import { MAX_JOB_PRIORITY, type EnqueueRequest, type JobQueueOptions } from './job-queue.ts';

/** `JobQueueOptions` with every default applied, plus the intervals derived from them. */
export interface QueueSettings {
  retentionMs: number;
  maxQueuedPerTenant: number;
  /** Null: no cap. */
  maxRunningPerTenant: number | null;
  leaseMs: number;
  /** Waits between a job's runs: doubling up to 5 min, never straight back (equal jitter). */
  retryBackoff: BackoffOptions;
  onError: (error: unknown) => void;
  /** How often finished jobs past retention are purged. */
  purgeEveryMs: number;
}

/** An `EnqueueRequest` checked and with its defaults applied. */
export type ValidRequest = Required<Omit<EnqueueRequest, 'idempotencyKey'>> & Pick<EnqueueRequest, 'idempotencyKey'>;

const DAY_MS = 86_400_000;

/** Applies the defaults every adapter shares. */
export function queueSettings(options: JobQueueOptions): QueueSettings {
  const retentionMs = options.retentionMs ?? DAY_MS;
  return {
    retentionMs,
    maxQueuedPerTenant: options.maxQueuedPerTenant ?? 100,
    maxRunningPerTenant: options.maxRunningPerTenant ?? null,
    leaseMs: options.leaseMs ?? 30_000,
    retryBackoff: { baseMs: options.retryDelayMs ?? 1000, maxMs: 300_000, jitter: 'equal' },
    onError: options.onError ?? ((error) => console.error('job queue:', error)),
    // Often enough that nothing outlives retention by much, rarely enough to cost nothing.
    purgeEveryMs: Math.min(60_000, Math.max(50, retentionMs / 4))
  };
}

/**
 * Checks what the routes should already have validated (a bad value here is a programming
 * error, hence `RangeError`) and fills in the defaults: priority 0, 3 attempts.
 */
export function validRequest(request: EnqueueRequest): ValidRequest {
  const priority = request.priority ?? 0;
  const maxAttempts = request.maxAttempts ?? 3;
  if (!request.tenant || !request.type) {
    throw new RangeError('A job needs a tenant and a type');
  }
  if (!Number.isInteger(priority) || Math.abs(priority) > MAX_JOB_PRIORITY) {
    throw new RangeError(`Job priority must be an integer within ±${MAX_JOB_PRIORITY}`);
  }
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError('maxAttempts must be a positive integer');
  }
  return { ...request, priority, maxAttempts };
}

/** Checks a `list` page size (the route validates it first). */
export function checkPageLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError('A page limit must be a positive integer');
  }
}
