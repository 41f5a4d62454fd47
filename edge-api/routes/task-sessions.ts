import { createRoute, z } from '@hono/zod-openapi';
import {
  createTracker,
  parseTaskDefinition,
  TaskDefinitionError,
  type TaskDefinition
} from '../../src/lib/core/tracker/index.ts';
import { notFound, unprocessable } from '../http/errors.ts';
import { apiRouter, requireJson } from '../http/validation.ts';
import { InvalidCursorError } from '../jobs/job-queue.ts';
import { COMMON_ERRORS, errorResponses, jsonResponse } from '../schemas/common.ts';
import { observeSession, sessionNotFound, type ObserveDeps } from '../sessions/observe-session.ts';
import { sessionView, TaskSessionSchema } from '../sessions/wire.ts';
import type { AuthEnv } from '../security/principal.ts';

export interface TaskSessionRoutesDeps extends ObserveDeps {
  /** The tasks stored on the server, by id (the sample tasks). */
  tasks: (id: string) => Promise<TaskDefinition | null>;
}

const SessionCreateSchema = z
  .object({
    task: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: 'A task definition (the JSON the app imports)' }),
    task_id: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .openapi({ description: 'A task stored on the server', example: 'hand-washing' })
  })
  .openapi('TaskSessionCreate');

const ObservationSchema = z
  .object({
    text: z
      .string()
      .min(1)
      .max(4_000)
      .optional()
      .openapi({ description: 'What the camera saw, in words (a VLM caption)' }),
    image_url: z.string().min(1).optional().openapi({
      description: 'A camera frame (data:image/… URL, or https on an allowed host): the vision model describes it'
    })
  })
  .openapi('TaskObservation');

const ObservationResultSchema = z
  .object({
    object: z.literal('task_observation'),
    text: z.string().openapi({ description: 'What was matched: the text sent, or the caption of the image' }),
    moved: z.boolean().openapi({ description: 'Whether the reported step changed' }),
    ignored: z
      .boolean()
      .openapi({ description: 'Matched no step well enough to count (see the tracker’s minSimilarity)' }),
    session: TaskSessionSchema
  })
  .openapi('TaskObservationResult');

const SessionListSchema = z
  .object({ object: z.literal('list'), data: z.array(TaskSessionSchema), next_cursor: z.string().nullable() })
  .openapi('TaskSessionList');

const IdParams = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: 'id', in: 'path' } })
});
const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional()
});

const create = createRoute({
  method: 'post',
  path: '/',
  summary: 'Start a task session: the server keeps its tracker state',
  description:
    'Name a stored task (`task_id`, e.g. one of the sample tasks) or send its definition (`task`), not both.',
  middleware: [requireJson] as const,
  request: { body: { content: { 'application/json': { schema: SessionCreateSchema } }, required: true } },
  responses: {
    201: jsonResponse(TaskSessionSchema, 'The new session, on its first step'),
    ...errorResponses(...COMMON_ERRORS, 404)
  }
});

const list = createRoute({
  method: 'get',
  path: '/',
  summary: 'Your task sessions, newest first',
  request: { query: ListQuery },
  responses: {
    200: { description: 'A page of sessions', content: { 'application/json': { schema: SessionListSchema } } },
    ...errorResponses(401, 422, 429)
  }
});

const get = createRoute({
  method: 'get',
  path: '/{id}',
  summary: 'One task session and where it stands',
  request: { params: IdParams },
  responses: { 200: jsonResponse(TaskSessionSchema, 'The session'), ...errorResponses(401, 404, 429) }
});

const observation = createRoute({
  method: 'post',
  path: '/{id}/observations',
  summary: 'What the camera saw: matched against the steps to move the tracker',
  description:
    'Send `text` (a caption) or `image_url` (a frame the vision model describes first), not both. The text is ' +
    'embedded and compared with every step; the tracker moves only when it is confident. 409 once the session ended.',
  middleware: [requireJson] as const,
  request: {
    params: IdParams,
    body: { content: { 'application/json': { schema: ObservationSchema } }, required: true }
  },
  responses: {
    200: {
      description: 'The observation and the session after it',
      content: { 'application/json': { schema: ObservationResultSchema } }
    },
    ...errorResponses(...COMMON_ERRORS, 404, 409, 503, 504)
  }
});

const end = createRoute({
  method: 'post',
  path: '/{id}/end',
  summary: 'End a task session: it keeps answering queries, but takes no more observations',
  request: { params: IdParams },
  responses: {
    200: jsonResponse(TaskSessionSchema, 'The ended session (ending it again changes nothing)'),
    ...errorResponses(401, 404, 429)
  }
});

/** `/api/v1/sessions`: task sessions whose tracker state the server keeps, per tenant. */
export function taskSessionRoutes(deps: TaskSessionRoutesDeps) {
  const { sessions } = deps;

  const definitionOf = async (body: z.infer<typeof SessionCreateSchema>): Promise<TaskDefinition> => {
    if ((body.task === undefined) === (body.task_id === undefined)) {
      throw unprocessable(
        'Send either "task" (a task definition) or "task_id" (a stored task)',
        'task_required',
        'task'
      );
    }
    if (body.task_id !== undefined) {
      const stored = await deps.tasks(body.task_id);
      if (!stored) {
        throw notFound(`There is no stored task "${body.task_id}"`, 'task_not_found');
      }
      return stored;
    }
    try {
      return parseTaskDefinition(body.task);
    } catch (error) {
      throw error instanceof TaskDefinitionError ? unprocessable(error.message, error.code, 'task') : error;
    }
  };

  return apiRouter<AuthEnv>()
    .openapi(create, async (c) => {
      const definition = await definitionOf(c.req.valid('json'));
      const now = Date.now();
      const session = await sessions.create(c.get('principal').tenant, definition, createTracker(definition, now), now);
      return c.json(sessionView(session), 201, { location: `/api/v1/sessions/${session.id}` });
    })
    .openapi(list, async (c) => {
      const { limit, cursor } = c.req.valid('query');
      try {
        const page = await sessions.list(c.get('principal').tenant, { limit, cursor });
        return c.json({ object: 'list' as const, data: page.sessions.map(sessionView), next_cursor: page.next }, 200);
      } catch (error) {
        throw error instanceof InvalidCursorError ? unprocessable(error.message, 'invalid_cursor', 'cursor') : error;
      }
    })
    .openapi(get, async (c) => {
      const { id } = c.req.valid('param');
      const session = await sessions.get(c.get('principal').tenant, id);
      if (!session) {
        throw sessionNotFound(id);
      }
      return c.json(sessionView(session), 200);
    })
    .openapi(observation, async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      if ((body.text === undefined) === (body.image_url === undefined)) {
        throw unprocessable('Send either "text" or "image_url"', 'observation_required', 'text');
      }
      const { text, moved, ignored, session } = await observeSession(
        deps,
        c.get('principal').tenant,
        id,
        body.text === undefined ? { imageUrl: body.image_url! } : { text: body.text },
        { signal: c.req.raw.signal, requestId: c.get('requestId') }
      );
      return c.json({ object: 'task_observation' as const, text, moved, ignored, session: sessionView(session) }, 200);
    })
    .openapi(end, async (c) => {
      const { id } = c.req.valid('param');
      const at = Date.now();
      const session = await sessions.update(c.get('principal').tenant, id, (current) =>
        current.endedAt === null ? { state: current.state, endedAt: at, at } : null
      );
      if (!session) {
        throw sessionNotFound(id);
      }
      return c.json(sessionView(session), 200);
    });
}
