import {
  answerQuery,
  currentStep,
  type QueryAnswer,
  type TaskDefinition,
  type TrackerState
} from '../../src/lib/core/tracker/index.ts';

/** How much history an answer carries: the seed's `include_history` and `max_history`. */
export interface HistoryOptions {
  include_history?: boolean | undefined;
  max_history?: number | undefined;
}

export const DEFAULT_MAX_HISTORY = 5;

/**
 * The seed's `/api/v1/state/query` answer: the core tracker's answer with the seed's own field
 * names beside it (`status`, 1-based `current_step`, `task_name`, ISO `timestamp`s), so a client
 * written from either reads it.
 */
export interface StateAnswer extends Omit<QueryAnswer, 'current_state' | 'history' | 'query_type'> {
  status: 'success';
  /** The seed's spelling (`CURRENT_STEP`): the app's tracker names the same types in lower case. */
  query_type: Uppercase<QueryAnswer['query_type']>;
  /** The server-kept session answered from; null for the stateless form. */
  session_id: string | null;
  current_state: SessionState;
  /** The newest `max_history` steps entered, oldest first; empty unless `include_history`. */
  history: Array<QueryAnswer['history'][number] & { step: number; title: string; timestamp: string }>;
}

/** Where a session stands: the core answer's `current_state` with the seed's names beside it. */
export type SessionState = QueryAnswer['current_state'] & {
  task_name: string;
  /** 1-based, as the seed counts steps. */
  current_step: number;
  /** When the tracker last changed (ISO 8601). */
  timestamp: string;
};

/** The reported step of `state`, in the wire shape of `current_state`. */
export function sessionState(definition: TaskDefinition, state: TrackerState): SessionState {
  const step = currentStep(state);
  return {
    task_id: definition.id,
    task_name: definition.id,
    step_index: step.index,
    current_step: step.index + 1,
    step_id: step.id,
    step_title: definition.steps[step.index]?.title ?? '',
    total_steps: definition.steps.length,
    confidence: step.confidence,
    completed: step.completed,
    timestamp: new Date(state.updatedAt).toISOString()
  };
}

/** The core answer in the seed shape, its history cut to what the caller asked for. */
export function toStateAnswer(
  answer: QueryAnswer,
  definition: TaskDefinition,
  state: TrackerState,
  sessionId: string | null,
  options: HistoryOptions
): StateAnswer {
  const keep = options.include_history === false ? 0 : (options.max_history ?? DEFAULT_MAX_HISTORY);
  const stepNumber = (id: string) => definition.steps.findIndex((s) => s.id === id) + 1;
  return {
    ...answer,
    query_type: answer.query_type.toUpperCase() as StateAnswer['query_type'],
    status: 'success',
    session_id: sessionId,
    current_state: sessionState(definition, state),
    history: (keep === 0 ? [] : answer.history.slice(-keep)).map((entry) => ({
      ...entry,
      step: stepNumber(entry.step_id),
      title: entry.step_title,
      timestamp: new Date(entry.at).toISOString()
    }))
  };
}

/** `answerQuery` at `now`, answered in the seed shape. */
export function answerInSeedShape(
  definition: TaskDefinition,
  state: TrackerState,
  query: string,
  now: number,
  sessionId: string | null,
  options: HistoryOptions
): { answer: StateAnswer; state: TrackerState } {
  const result = answerQuery(definition, state, query, now);
  return { answer: toStateAnswer(result.answer, definition, result.state, sessionId, options), state: result.state };
}
