import type { z } from '@hono/zod-openapi';
import type { Capability } from '../backends/backend.ts';
import type { BackendRegistry } from '../backends/registry.ts';
import type { Config } from '../config.ts';
import type { JobContext, JobRecord } from '../jobs/job-queue.ts';
import type { WritableBlobStore } from '../storage/file-store.ts';
import type { UploadStore } from '../storage/upload-store.ts';

/** What the runtime hands every job type's handler: its settings and the stores and backends it works with. */
export interface JobServices {
  config: Config;
  backends: BackendRegistry;
  artifacts: WritableBlobStore;
  uploads: UploadStore;
}

/** Who submits a job, for the checks that depend on it (a tenant reaches only its own uploads). */
export interface Submitter {
  tenant: string;
}

/** The work of one job type, bound to the runtime's services. */
export interface JobHandlerOf<I> {
  /** Refuses a job that can never succeed here, before it is queued; throws an ApiError. */
  admit?(input: I, submitter: Submitter): void | Promise<void>;
  /** Must be idempotent: a crash or a retry runs it again from the start. */
  run(input: I, job: JobRecord, context: JobContext): Promise<unknown>;
}

/**
 * A kind of background job, whole: its name, input schema (validated at submission, documented in
 * OpenAPI), result schema, the backend capability it needs and its handler. Registered once in
 * `registered.ts`; later features (SDXL generation, federated aggregation) each add one.
 */
export interface JobType<S extends z.ZodType = z.ZodType> {
  type: string;
  summary: string;
  input: S;
  /** The shape of a completed job's `result`, for the OpenAPI document. */
  result?: z.ZodType;
  /**
   * The model the job asks and what that model must be able to do: a submission is refused (422,
   * with `fix`) while no backend serves it so.
   */
  needs?: {
    capability: Capability;
    model(input: z.output<S>, config: Config): string;
    /** What an operator does about it, e.g. which setting picks another model. */
    fix: string;
  };
  handler(services: JobServices): JobHandlerOf<z.output<S>>;
}

/** Keeps a job type's input type for its own handler while letting the registry hold every type alike. */
export const defineJobType = <S extends z.ZodType>(type: JobType<S>): JobType => type as unknown as JobType;

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
