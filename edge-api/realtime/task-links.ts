import { ApiError } from '../http/errors.ts';
import { describeError, type Logger } from '../http/logger.ts';
import { answerStateQuery } from '../sessions/answer-state-query.ts';
import { observeSession, sessionNotFound, type ObserveDeps } from '../sessions/observe-session.ts';
import { sessionState } from '../sessions/state-answer.ts';
import type { TaskSession } from '../sessions/task-session-store.ts';
import type { RealtimeHub } from './hub.ts';
import type { StateQueryMessage, StateResponse, StateUpdate } from './messages.ts';
import { clientError, type OnAnswer, type RealtimeSession } from './session.ts';

export interface TaskSessionLinksOptions extends ObserveDeps {
  hub: RealtimeHub;
  logger: Logger;
}

/** A new live session, as `/ws` and `POST /api/v1/realtime/session` take it. */
export interface LiveSessionRequest {
  model?: string | undefined;
  prompt?: string | undefined;
  /** The tenant's task session it feeds. */
  task_session_id?: string | undefined;
}

export interface TaskSessionLinks {
  /**
   * A new live session for `tenant`, linked to its task session when the request names one.
   * @throws ApiError 404 `session_not_found` for a task session the tenant does not have, and
   *   {@link RealtimeHub.create}'s errors
   */
  start(tenant: string, request: LiveSessionRequest): Promise<RealtimeSession>;
  /** The answer to a `state_query` about `live`'s task session; an error answer when it has none. */
  query(live: RealtimeSession, message: StateQueryMessage): Promise<StateResponse>;
  /** Where `live`'s task session stands now, for a client joining it; null when it follows none (or it is gone). */
  current(live: RealtimeSession): Promise<StateUpdate | null>;
}

/** Where `session` stands, as `/ws` pushes it. */
function stateUpdate(session: TaskSession): StateUpdate {
  return {
    type: 'state_update',
    task_session_id: session.id,
    ended: session.endedAt !== null,
    state: sessionState(session.definition, session.state)
  };
}

const failure = (message: string, code: string): StateResponse => ({
  type: 'state_response',
  status: 'error',
  error: { message, code }
});

/**
 * Ties live sessions to server-kept task sessions, as seed 000's `/ws` does: each answer of a
 * linked live session is an observation of its task session, and each change of a task session
 * (from any source; from any node with Redis, whose store hears them all) goes to the live
 * sessions of this process linked to it. Subscribes to the store for as long as the store lives.
 */
export function taskSessionLinks(options: TaskSessionLinksOptions): TaskSessionLinks {
  const { hub, sessions, logger } = options;

  sessions.onChange(({ tenant, session }) => {
    const linked = hub.linkedTo(tenant, session.id);
    if (linked.length > 0) {
      const message = stateUpdate(session);
      linked.forEach((live) => live.publish(message));
    }
  });

  const observeAnswer: OnAnswer = async (live, analysis, signal) => {
    // An empty answer says nothing the steps could match.
    if (live.taskSessionId === null || analysis.text === '') {
      return;
    }
    try {
      await observeSession(options, live.tenant, live.taskSessionId, { text: analysis.text }, { signal });
    } catch (error) {
      if (signal.aborted) {
        return;
      }
      logger.warn('live answer not observed', {
        session_id: live.id,
        task_session_id: live.taskSessionId,
        tenant: live.tenant,
        ...describeError(error)
      });
      // The client learns why its task session stopped following (ended, no embedding model).
      const told = clientError(error, {
        message: 'The answer could not be matched with the task steps',
        code: 'observation_failed'
      });
      live.publish({ type: 'system_status', status: live.status(false, told) });
    }
  };

  return {
    async start(tenant, request) {
      const taskSessionId = request.task_session_id;
      if (taskSessionId !== undefined && !(await sessions.get(tenant, taskSessionId))) {
        throw sessionNotFound(taskSessionId);
      }
      return hub.create(tenant, {
        model: request.model,
        prompt: request.prompt,
        ...(taskSessionId === undefined ? {} : { taskSessionId, onAnswer: observeAnswer })
      });
    },

    async current(live) {
      const session = live.taskSessionId === null ? null : await sessions.get(live.tenant, live.taskSessionId);
      return session ? stateUpdate(session) : null;
    },

    async query(live, { query, include_history, max_history }) {
      if (live.taskSessionId === null) {
        return failure(
          'This live session follows no task session: start one with ?task_session_id= (or "task_session_id" in the auth message)',
          'no_task_session'
        );
      }
      try {
        const answer = await answerStateQuery(sessions, live.tenant, {
          query,
          include_history,
          max_history,
          session_id: live.taskSessionId
        });
        return { type: 'state_response', ...answer };
      } catch (error) {
        // 409 for "go back" on an ended session: the socket stays open for other questions.
        if (error instanceof ApiError) {
          return failure(error.message, error.code);
        }
        throw error;
      }
    }
  };
}
