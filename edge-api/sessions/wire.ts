import { z } from '@hono/zod-openapi';
import type { TaskSession } from './task-session-store.ts';
import { sessionState } from './state-answer.ts';

export const SessionStateSchema = z
  .object({
    task_id: z.string(),
    task_name: z.string().openapi({ description: 'The seed name for `task_id`' }),
    step_index: z.number().int().openapi({ description: '0-based' }),
    current_step: z.number().int().openapi({ description: '1-based, as the seed counts' }),
    step_id: z.string(),
    step_title: z.string(),
    total_steps: z.number().int(),
    confidence: z.number(),
    completed: z.boolean(),
    timestamp: z.string().openapi({ description: 'When the tracker last changed (ISO 8601)' })
  })
  .openapi('SessionState');

export const HistoryEntrySchema = z
  .object({
    step: z.number().int().openapi({ description: '1-based step number' }),
    title: z.string(),
    timestamp: z.string(),
    step_id: z.string(),
    step_title: z.string(),
    at: z.number(),
    confidence: z.number(),
    cause: z.enum(['observation', 'user'])
  })
  .openapi('StateHistoryEntry');

export const TaskSessionSchema = z
  .object({
    id: z.string(),
    object: z.literal('task_session'),
    status: z.enum(['active', 'ended']),
    task_id: z.string(),
    task_title: z.string(),
    current_state: SessionStateSchema,
    created_at: z.number().openapi({ description: 'ms since the epoch' }),
    updated_at: z.number(),
    ended_at: z.number().nullable(),
    state: z
      .record(z.string(), z.unknown())
      .openapi({ description: 'The tracker state, as the stateless state query takes it' })
  })
  .openapi('TaskSession');

/** A session as the API answers it. */
export function sessionView(session: TaskSession): z.infer<typeof TaskSessionSchema> {
  return {
    id: session.id,
    object: 'task_session',
    status: session.endedAt === null ? 'active' : 'ended',
    task_id: session.definition.id,
    task_title: session.definition.title,
    current_state: sessionState(session.definition, session.state),
    created_at: session.createdAt,
    updated_at: session.updatedAt,
    ended_at: session.endedAt,
    state: session.state as unknown as Record<string, unknown>
  };
}
