import type { JobView } from '../../src/lib/core/edge-wire.ts';
import { artifactPrefix } from '../job-types/job-type.ts';
import type { JobRecord } from '../jobs/job-queue.ts';
import type { WritableBlobStore } from '../storage/file-store.ts';
import { contentTypeOf } from '../storage/content-type.ts';

/** A job as clients see it: snake_case, nulls instead of absent fields, artifacts with URLs. */
export async function jobView(job: JobRecord, artifacts: WritableBlobStore): Promise<JobView> {
  const files = job.state === 'completed' ? await artifacts.list(artifactPrefix(job)) : [];
  return {
    id: job.id,
    object: 'job',
    type: job.type,
    state: job.state,
    priority: job.priority,
    progress: { fraction: job.progress.fraction, message: job.progress.message ?? null },
    result: job.result ?? null,
    error: job.error ?? null,
    attempts: job.attempts,
    max_attempts: job.maxAttempts,
    cancel_requested: job.cancelRequested,
    created_at: job.createdAt,
    started_at: job.startedAt ?? null,
    finished_at: job.finishedAt ?? null,
    artifacts: files
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((file) => ({
        name: file.name,
        url: `/v1/jobs/${encodeURIComponent(job.id)}/artifacts/${encodeURIComponent(file.name)}`,
        bytes: file.size,
        content_type: contentTypeOf(file.name)
      }))
  };
}
