import { createRoute, z } from '@hono/zod-openapi';
import {
  createTracker,
  parseTaskDefinition,
  QUERY_TYPES,
  restore,
  TaskDefinitionError,
  TrackerStateError
} from '../../src/lib/core/tracker/index.ts';
import { unprocessable } from '../http/errors.ts';
import { apiRouter, requireJson } from '../http/validation.ts';
import { COMMON_ERRORS, errorResponses } from '../schemas/common.ts';
import type { AuthEnv } from '../security/principal.ts';
import { answerStateQuery } from '../sessions/answer-state-query.ts';
import { answerInSeedShape } from '../sessions/state-answer.ts';
import type { TaskSessionStore } from '../sessions/task-session-store.ts';
import { HistoryEntrySchema, SessionStateSchema } from '../sessions/wire.ts';

const StateQuerySchema = z
  .object({
    query: z.string().min(1).max(1_000).openapi({ example: 'What step am I on?' }),
    include_history: z.boolean().optional().openapi({ description: 'Whether `history` lists steps (default true)' }),
    max_history: z
      .number()
      .int()
      .min(1)
      .max(200)
      .optional()
      .openapi({ description: 'The newest steps `history` lists (default 5)', example: 5 }),
    session_id: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .openapi({ description: 'The session asked about; else `X-Session-Id`, else your latest session' }),
    task: z.record(z.string(), z.unknown()).optional().openapi({
      description: 'Stateless form: the task definition, instead of a session; the caller then keeps the state'
    }),
    state: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: 'Stateless form: the `state` of the previous answer; omitted to start the task' })
  })
  .openapi('StateQuery');

const StateAnswerSchema = z
  .object({
    status: z.literal('success'),
    response_text: z.string(),
    query_type: z.enum(QUERY_TYPES.map((type) => type.toUpperCase())).openapi({
      description: 'What the question asked about, in the seed’s spelling',
      example: 'CURRENT_STEP'
    }),
    confidence: z.number(),
    processing_time_ms: z.number(),
    needs_fallback: z.boolean().openapi({
      description:
        'The seed falls back to the VLM below confidence 0.4: this API does not call a model here (a query must ' +
        'stay fast); it answers from the templates and sets this, and the client asks `/v1/chat/completions` ' +
        'with the task as context and the camera frame.'
    }),
    session_id: z.string().nullable(),
    current_state: SessionStateSchema,
    history: z.array(HistoryEntrySchema),
    state: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: 'Stateless form only: send back with the next query' })
  })
  .openapi('StateAnswer');

const route = createRoute({
  method: 'post',
  path: '/state/query',
  summary: 'Ask about a task in progress (the seed task-tracker contract)',
  description:
    'Answered by the same tracker code the app runs, from a task session the server keeps (`session_id`, the ' +
    '`X-Session-Id` header, else your most recent session; see `/api/v1/sessions`). Stateless form: send `task` ' +
    '(and the previous answer’s `state`) instead, and keep the state yourself.',
  middleware: [requireJson] as const,
  request: {
    headers: z.object({ 'x-session-id': z.string().min(1).max(100).optional() }),
    body: { content: { 'application/json': { schema: StateQuerySchema } }, required: true }
  },
  responses: {
    200: {
      description: 'The answer in the seed `/api/v1/state/query` shape',
      content: { 'application/json': { schema: StateAnswerSchema } }
    },
    ...errorResponses(...COMMON_ERRORS, 404, 409)
  }
});

export function stateQuery(deps: { sessions: TaskSessionStore }) {
  return apiRouter<AuthEnv>().openapi(route, async (c) => {
    const { task, state, ...body } = c.req.valid('json');
    if (task === undefined) {
      if (state !== undefined) {
        throw unprocessable('"state" comes with "task" (the stateless form)', 'task_required', 'task');
      }
      const sessionId = c.req.valid('header')['x-session-id'];
      return c.json(await answerStateQuery(deps.sessions, c.get('principal').tenant, body, { sessionId }), 200);
    }
    if (body.session_id !== undefined) {
      throw unprocessable('Send either "session_id" or "task", not both', 'session_or_task', 'session_id');
    }
    const now = Date.now();
    try {
      const definition = parseTaskDefinition(task);
      const current = state ? restore(state, definition) : createTracker(definition, now);
      const { answer, state: next } = answerInSeedShape(definition, current, body.query, now, null, body);
      return c.json({ ...answer, state: next as unknown as Record<string, unknown> }, 200);
    } catch (error) {
      if (error instanceof TaskDefinitionError || error instanceof TrackerStateError) {
        throw unprocessable(error.message, error.code, error instanceof TaskDefinitionError ? 'task' : 'state');
      }
      throw error;
    }
  });
}
