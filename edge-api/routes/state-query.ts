import { createRoute, z } from '@hono/zod-openapi';
import {
  answerQuery,
  createTracker,
  parseTaskDefinition,
  restore,
  TaskDefinitionError,
  TrackerStateError
} from '../../src/lib/core/tracker/index.ts';
import { unprocessable } from '../http/errors.ts';
import { apiRouter, requireJson } from '../http/validation.ts';
import { COMMON_ERRORS, errorResponses } from '../schemas/common.ts';

const StateQuerySchema = z
  .object({
    query: z.string().min(1).max(1_000).openapi({ example: 'What step am I on?' }),
    task: z
      .record(z.string(), z.unknown())
      .openapi({ description: 'The task definition (the same JSON the app imports)' }),
    state: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: 'The tracker state from the previous answer; omitted to start the task' })
  })
  .openapi('StateQuery');

const StateAnswerSchema = z
  .object({
    response_text: z.string(),
    query_type: z.string(),
    confidence: z.number(),
    processing_time_ms: z.number(),
    needs_fallback: z.boolean(),
    current_state: z.record(z.string(), z.unknown()),
    history: z.array(z.record(z.string(), z.unknown())),
    state: z.record(z.string(), z.unknown()).openapi({ description: 'Send back with the next query' })
  })
  .openapi('StateAnswer');

const route = createRoute({
  method: 'post',
  path: '/state/query',
  summary: 'Ask about a task in progress (the task-tracker contract the PWA answers on device)',
  description:
    'Answered by the same tracker code the app runs. The caller keeps the state: each answer carries the ' +
    'new `state` to send with the next query. `needs_fallback` says the answer is unsure and a model should be asked.',
  middleware: [requireJson] as const,
  request: { body: { content: { 'application/json': { schema: StateQuerySchema } }, required: true } },
  responses: {
    200: {
      description: 'The answer in the seed `/api/v1/state/query` shape, plus the state',
      content: { 'application/json': { schema: StateAnswerSchema } }
    },
    ...errorResponses(...COMMON_ERRORS)
  }
});

export function stateQuery() {
  return apiRouter().openapi(route, (c) => {
    const body = c.req.valid('json');
    const now = Date.now();
    try {
      const definition = parseTaskDefinition(body.task);
      const state = body.state ? restore(body.state, definition) : createTracker(definition, now);
      const { answer, state: next } = answerQuery(definition, state, body.query, now);
      return c.json({ ...answer, state: next as unknown as Record<string, unknown> }, 200);
    } catch (error) {
      if (error instanceof TaskDefinitionError || error instanceof TrackerStateError) {
        throw unprocessable(error.message, error.code, error instanceof TaskDefinitionError ? 'task' : 'state');
      }
      throw error;
    }
  });
}
