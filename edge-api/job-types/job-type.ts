import type { z } from '@hono/zod-openapi';
import type { JobContext, JobHandler, JobRecord } from '../jobs/job-queue.ts';
import type { WritableBlobStore } from '../storage/file-store.ts';

/**
 * A kind of background job: its input schema (validated at submission, documented in OpenAPI),
 * the checks only the server can make (is the model served?), and the work itself. Later
 * features (SDXL generation, federated aggregation) each add one.
 */
export interface JobType<S extends z.ZodType = z.ZodType> {
  type: string;
  summary: string;
  input: S;
  /** Refuses a job that can never succeed here, before it is queued; throws an ApiError. */
  admit?(input: z.output<S>): void;
  /** Must be idempotent: a crash or a retry runs it again from the start. */
  run(input: z.output<S>, job: JobRecord, context: JobContext): Promise<unknown>;
}

export const defineJobType = <S extends z.ZodType>(type: JobType<S>): JobType => type as unknown as JobType;

/** The queue's handlers: each one re-reads its input through the schema it was accepted with. */
export function jobHandlers(types: readonly JobType[]): Record<string, JobHandler> {
  return Object.fromEntries(
    types.map((type) => [type.type, (job, context) => type.run(type.input.parse(job.input), job, context)] as const)
  );
}

/** Where a job's artifacts live in the artifact store; one folder per job, under its tenant. */
export const artifactPrefix = (job: Pick<JobRecord, 'tenant' | 'id'>): string => `jobs/${job.tenant}/${job.id}`;

/** Saves one artifact of a job (a report, an image) for `GET /v1/jobs/:id/artifacts/:name`. */
export function saveArtifact(
  store: WritableBlobStore,
  job: JobRecord,
  name: string,
  data: Uint8Array | string
): Promise<void> {
  return store.write(`${artifactPrefix(job)}/${name}`, data);
}
