import { conflict, notFound } from '../http/errors.ts';
import { sessionNotFound } from './observe-session.ts';
import { answerInSeedShape, type HistoryOptions, type StateAnswer } from './state-answer.ts';
import type { TaskSession, TaskSessionStore } from './task-session-store.ts';

/** The seed's `/api/v1/state/query` body, plus the session it is about. */
export interface StateQueryBody extends HistoryOptions {
  query: string;
  /** Which session; else `options.sessionId` (the `X-Session-Id` header, a socket's session). */
  session_id?: string | undefined;
}

/**
 * Answers a question about one of `tenant`'s sessions from its server-kept state: the one the
 * body names, else `options.sessionId`, else the tenant's one created or changed last. `go back`
 * and `start over` also move the session (saved, so change listeners hear it); on an ended
 * session they are refused (409), while other questions are still answered.
 * Throws `ApiError` 404 when there is no such session (another tenant's included).
 * For `/api/v1/state/query` and the `/ws` `state_query` message alike.
 */
export async function answerStateQuery(
  store: TaskSessionStore,
  tenant: string,
  body: StateQueryBody,
  options: { sessionId?: string | undefined; now?: number } = {}
): Promise<StateAnswer> {
  const now = options.now ?? Date.now();
  const id = body.session_id ?? options.sessionId;
  const session = id === undefined ? await store.latest(tenant) : await store.get(tenant, id);
  if (!session) {
    throw id === undefined
      ? notFound('There is no task session yet: start one with POST /api/v1/sessions', 'no_session')
      : sessionNotFound(id);
  }
  const ask = (current: TaskSession) =>
    answerInSeedShape(current.definition, current.state, body.query, now, current.id, body);
  const first = ask(session);
  if (first.state === session.state) {
    return first.answer;
  }
  // A command ("go back", "start over"): answered from the state it is applied to, as saved.
  let answer = first.answer;
  await store.update(tenant, session.id, (current) => {
    if (current.endedAt !== null) {
      throw conflict(
        `The task session ${current.id} has ended: start a new one to go back or start over`,
        'session_ended'
      );
    }
    const result = ask(current);
    answer = result.answer;
    return result.state === current.state ? null : { state: result.state, endedAt: null, at: now };
  });
  return answer;
}
