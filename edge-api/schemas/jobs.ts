import { z } from '@hono/zod-openapi';
import type { JobList, JobView } from '../../src/lib/core/edge-wire.ts';
import type { SameShape } from './common.ts';

export const JobStateSchema = z.enum(['queued', 'running', 'completed', 'failed', 'cancelled']);

export const JobSchema = z
  .object({
    id: z.string(),
    object: z.literal('job'),
    type: z.string(),
    state: JobStateSchema,
    priority: z.number().int(),
    progress: z.object({ fraction: z.number().min(0).max(1), message: z.string().nullable() }),
    result: z.unknown().openapi({ description: 'The handler’s result once completed; null before' }),
    error: z.object({ message: z.string(), code: z.string() }).nullable(),
    attempts: z.number().int(),
    max_attempts: z.number().int(),
    cancel_requested: z.boolean(),
    created_at: z.number().openapi({ description: 'Unix milliseconds' }),
    started_at: z.number().nullable(),
    finished_at: z.number().nullable(),
    artifacts: z.array(
      z.object({ name: z.string(), url: z.string(), bytes: z.number().int(), content_type: z.string() })
    )
  })
  .openapi('Job');

export const JobListSchema = z
  .object({ object: z.literal('list'), data: z.array(JobSchema), next_cursor: z.string().nullable() })
  .openapi('JobList');

/**
 * `POST /v1/jobs`, documented with the registered type names. `type` stays a string to the
 * validator: an unknown one is answered by the route with the known ones, and `input` is checked
 * against that type's own schema (each is in the document under its name).
 */
export const jobCreateSchema = (types: readonly string[]) =>
  z
    .object({
      type: z
        .string()
        .min(1)
        .openapi({ enum: [...types], example: types[0] }),
      input: z.unknown().openapi({
        description: `The input of that job type: ${types.map((type) => jobSchemaName(type, 'Input')).join(', ')}`
      }),
      priority: z.number().int().min(-10).max(10).default(0).openapi({ description: 'Higher runs sooner' })
    })
    .openapi('JobCreate');

/** A job type's schema name in the OpenAPI document: `medgemma.analyze` → `MedgemmaAnalyzeInput`. */
export const jobSchemaName = (type: string, part: 'Input' | 'Result'): string =>
  type
    .split(/[^A-Za-z0-9]+/)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('') + part;

export const JobIdParams = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: 'id', in: 'path' } })
});

export const JobListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
  state: JobStateSchema.optional()
});

const jobShapesAgree: SameShape<z.infer<typeof JobSchema>, JobView> &
  SameShape<z.infer<typeof JobListSchema>, JobList> = true;
void jobShapesAgree;
