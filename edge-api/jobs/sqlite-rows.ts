import type { JobRecord, JobState } from './job-queue.ts';

/** A `jobs` row as node:sqlite returns it. */
export interface JobRow {
  seq: number;
  id: string;
  tenant: string;
  type: string;
  state: JobState;
  priority: number;
  input: string;
  progress: number;
  progress_message: string | null;
  result: string | null;
  error_code: string | null;
  error_message: string | null;
  attempts: number;
  max_attempts: number;
  cancel_requested: number;
  idempotency_key: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  run_at: number;
  lease_token: string | null;
  lease_until: number | null;
  version: number;
}

/** The only place a row becomes a `JobRecord`. */
export function toJobRecord(row: JobRow): JobRecord {
  return {
    id: row.id,
    tenant: row.tenant,
    type: row.type,
    state: row.state,
    priority: row.priority,
    input: JSON.parse(row.input),
    progress:
      row.progress_message === null
        ? { fraction: row.progress }
        : { fraction: row.progress, message: row.progress_message },
    ...(row.result !== null && { result: JSON.parse(row.result) }),
    ...(row.error_code !== null && { error: { code: row.error_code, message: row.error_message ?? '' } }),
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    cancelRequested: row.cancel_requested === 1,
    ...(row.idempotency_key !== null && { idempotencyKey: row.idempotency_key }),
    createdAt: row.created_at,
    ...(row.started_at !== null && { startedAt: row.started_at }),
    ...(row.finished_at !== null && { finishedAt: row.finished_at })
  };
}
