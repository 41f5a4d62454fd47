import { createRoute, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { isFinalJobState } from '../../src/lib/core/edge-wire.ts';
import { conflict, errorResponse, notFound, tooManyRequests, unprocessable } from '../http/errors.ts';
import { idempotencyKeyOf } from '../http/idempotency-key.ts';
import { serveBlob } from '../http/serve-blob.ts';
import { apiRouter, requireJson } from '../http/validation.ts';
import { artifactPrefix } from '../job-types/job-type.ts';
import type { JobTypes } from '../job-types/registry.ts';
import { InvalidCursorError, TenantJobLimitError, type JobQueue, type JobRecord } from '../jobs/job-queue.ts';
import { COMMON_ERRORS, errorResponses, jsonResponse } from '../schemas/common.ts';
import {
  jobCreateSchema,
  JobIdParams,
  jobSchemaName,
  JobListQuery,
  JobListSchema,
  JobSchema
} from '../schemas/jobs.ts';
import type { AuthEnv } from '../security/principal.ts';
import type { WritableBlobStore } from '../storage/file-store.ts';
import { jobView } from './job-view.ts';

export interface JobRoutesDeps {
  queue: JobQueue;
  types: JobTypes;
  artifacts: WritableBlobStore;
}

/** A comment line every so often keeps proxies from closing a quiet event stream. */
const KEEP_ALIVE_MS = 15_000;

const createRouteFor = (types: JobTypes) =>
  createRoute({
    method: 'post',
    path: '/',
    summary: 'Submit a background job',
    description:
      'Validated against the job type’s input schema before it is queued. With an `Idempotency-Key` header, ' +
      'a repeat of the same request answers the first job (200, `Idempotent-Replayed: true`) instead of queueing another.',
    middleware: [requireJson] as const,
    request: {
      headers: z.object({ 'idempotency-key': z.string().optional() }),
      body: { content: { 'application/json': { schema: jobCreateSchema(types.names) } }, required: true }
    },
    responses: {
      202: jsonResponse(JobSchema, 'Accepted and queued'),
      200: jsonResponse(JobSchema, 'The job an earlier request with the same Idempotency-Key created'),
      ...errorResponses(...COMMON_ERRORS)
    }
  });

const list = createRoute({
  method: 'get',
  path: '/',
  summary: 'Your jobs, newest first',
  request: { query: JobListQuery },
  responses: {
    200: { description: 'A page of jobs', content: { 'application/json': { schema: JobListSchema } } },
    ...errorResponses(401, 422, 429)
  }
});

const get = createRoute({
  method: 'get',
  path: '/{id}',
  summary: 'One job, with its progress, result and artifacts',
  request: { params: JobIdParams },
  responses: { 200: jsonResponse(JobSchema, 'The job'), ...errorResponses(401, 404, 429) }
});

const events = createRoute({
  method: 'get',
  path: '/{id}/events',
  summary: 'Follow a job: server-sent `state` and `progress` events, each carrying the job',
  description: 'The first event is the job as it is now; the stream ends after the job reaches a final state.',
  request: { params: JobIdParams },
  responses: {
    200: { description: 'An event stream', content: { 'text/event-stream': { schema: z.string() } } },
    ...errorResponses(401, 404, 429)
  }
});

const cancel = createRoute({
  method: 'post',
  path: '/{id}/cancel',
  summary: 'Cancel a job: at once when queued; a running one stops at its next checkpoint',
  request: { params: JobIdParams },
  responses: { 200: jsonResponse(JobSchema, 'The job after the request'), ...errorResponses(401, 404, 409, 429) }
});

const artifact = createRoute({
  method: 'get',
  path: '/{id}/artifacts/{name}',
  summary: 'Download an artifact of a completed job (byte ranges supported)',
  request: {
    params: JobIdParams.extend({
      name: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/)
        .openapi({ param: { name: 'name', in: 'path' } })
    })
  },
  responses: {
    200: { description: 'The file', content: { 'application/octet-stream': { schema: z.string() } } },
    ...errorResponses(401, 404, 429)
  }
});

/** `/v1/jobs`: submit, list, follow, cancel jobs and download what they made. Tenants see only their own. */
export function jobRoutes(deps: JobRoutesDeps) {
  const view = (job: JobRecord) => jobView(job, deps.artifacts);
  const mustGet = async (tenant: string, id: string) => {
    const job = await deps.queue.get(tenant, id);
    if (!job) {
      throw notFound(`No job ${id}`, 'job_not_found');
    }
    return job;
  };

  const router = apiRouter<AuthEnv>();
  // Each type's own input and result schemas, so the document shows what every kind of job takes.
  for (const type of deps.types.all) {
    router.openAPIRegistry.register(jobSchemaName(type.type, 'Input'), type.input);
    if (type.result) {
      router.openAPIRegistry.register(jobSchemaName(type.type, 'Result'), type.result);
    }
  }
  return router
    .openapi(createRouteFor(deps.types), async (c) => {
      const { tenant } = c.get('principal');
      const body = c.req.valid('json');
      const bound = deps.types.get(body.type);
      if (!bound) {
        throw unprocessable(
          `Unknown job type "${body.type}"; known: ${deps.types.names.join(', ')}`,
          'unknown_job_type',
          'type'
        );
      }
      const { type } = bound;
      const input = await bound.admit(body.input, { tenant });
      const idempotencyKey = idempotencyKeyOf(c);
      let outcome;
      try {
        outcome = await deps.queue.enqueue({
          tenant,
          type: type.type,
          input,
          priority: body.priority,
          idempotencyKey
        });
      } catch (error) {
        if (error instanceof TenantJobLimitError) {
          throw tooManyRequests(error.message, 5, error.code);
        }
        throw error;
      }
      const { job, created } = outcome;
      if (!created && (job.type !== type.type || JSON.stringify(job.input) !== JSON.stringify(input))) {
        throw unprocessable(
          'This Idempotency-Key was already used for a different request',
          'idempotency_key_reused',
          'idempotency-key'
        );
      }
      c.header('location', `/v1/jobs/${encodeURIComponent(job.id)}`);
      if (!created) {
        c.header('idempotent-replayed', 'true');
        return c.json(await view(job), 200);
      }
      return c.json(await view(job), 202);
    })
    .openapi(list, async (c) => {
      const { tenant } = c.get('principal');
      const query = c.req.valid('query');
      const page = await deps.queue.list(tenant, query).catch((error: unknown) => {
        throw error instanceof InvalidCursorError ? unprocessable(error.message, 'invalid_cursor', 'cursor') : error;
      });
      return c.json(
        { object: 'list' as const, data: await Promise.all(page.jobs.map(view)), next_cursor: page.next },
        200
      );
    })
    .openapi(get, async (c) => {
      const job = await mustGet(c.get('principal').tenant, c.req.valid('param').id);
      return c.json(await view(job), 200);
    })
    .openapi(cancel, async (c) => {
      const { tenant } = c.get('principal');
      const { id } = c.req.valid('param');
      const job = await deps.queue.cancel(tenant, id);
      if (!job) {
        throw notFound(`No job ${id}`, 'job_not_found');
      }
      if (job.state === 'completed' || job.state === 'failed') {
        throw conflict(`Job ${id} has already ${job.state === 'completed' ? 'completed' : 'failed'}`, 'job_finished');
      }
      return c.json(await view(job), 200);
    })
    .openapi(artifact, async (c) => {
      const { tenant } = c.get('principal');
      const { id, name } = c.req.valid('param');
      const job = await mustGet(tenant, id);
      // Served as a download in a sandbox: an SVG or HTML artifact must never run as this origin's page.
      const response = await serveBlob(c, deps.artifacts, `${artifactPrefix(job)}/${name}`, {
        'content-disposition': `attachment; filename="${name}"`,
        'content-security-policy': 'sandbox'
      });
      return response ?? errorResponse(c, notFound(`Job ${id} has no artifact "${name}"`, 'artifact_not_found'));
    })
    .openapi(events, async (c) => {
      const { tenant } = c.get('principal');
      const { id } = c.req.valid('param');
      await mustGet(tenant, id);
      return streamSSE(c, async (stream) => {
        let sequence = 0;
        let done = false;
        let finished!: () => void;
        const ended = new Promise<void>((resolve) => (finished = resolve));
        // Events are sent one after another, in the order the queue reported them.
        let sending = Promise.resolve();
        const send = (event: 'state' | 'progress', job: JobRecord) => {
          sending = sending.then(async () => {
            if (done || stream.aborted) {
              return;
            }
            await stream.writeSSE({ event, id: String(++sequence), data: JSON.stringify(await view(job)) });
            if (isFinalJobState(job.state)) {
              done = true;
              finished();
            }
          });
        };
        // The queue reports the job as it is first, then every change.
        const unsubscribe = deps.queue.subscribe(tenant, id, (event) => send(event.kind, event.job));
        stream.onAbort(finished);
        const keepAlive = setInterval(() => void stream.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
        try {
          await ended;
          await sending;
        } finally {
          clearInterval(keepAlive);
          unsubscribe();
        }
      });
    });
}
