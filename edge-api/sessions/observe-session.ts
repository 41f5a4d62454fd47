import { observe } from '../../src/lib/core/tracker/index.ts';
import type { CallOptions } from '../backends/backend.ts';
import { checkImageUrl } from '../backends/chat-request.ts';
import { conflict, notFound } from '../http/errors.ts';
import type { TaskObserver } from './task-observer.ts';
import type { TaskSession, TaskSessionStore } from './task-session-store.ts';

/** What the camera saw: a caption, or a frame the vision model describes first. */
export type Observation = { text: string } | { imageUrl: string };

export interface ObservationResult {
  /** What was matched: the text given, or the image's caption. */
  text: string;
  /** Whether the reported step changed. */
  moved: boolean;
  /** Whether it matched no step well enough to count. */
  ignored: boolean;
  session: TaskSession;
}

export interface ObserveDeps {
  sessions: TaskSessionStore;
  observer: TaskObserver;
  /** Hosts an observation image may be fetched from (data: URLs are always accepted). */
  imageHosts: readonly string[];
}

/** 404 for a task session this tenant does not have. */
export const sessionNotFound = (id: string) => notFound(`The task session ${id} does not exist`, 'session_not_found');
const ended = (session: TaskSession) =>
  conflict(`The task session ${session.id} has ended: start a new one`, 'session_ended');

/**
 * Moves `tenant`'s task session `id` by one observation: an image is captioned, the text compared
 * with every step, and the core tracker's `observe` saved (listeners hear it). The one path for
 * `POST /api/v1/sessions/{id}/observations` and a linked live session's answers alike.
 * Throws `ApiError` 404 (no such session, another tenant's included), 409 (ended), 422 (an image
 * URL not allowed), and the models' 503 and 504.
 */
export async function observeSession(
  deps: ObserveDeps,
  tenant: string,
  id: string,
  observation: Observation,
  call: CallOptions
): Promise<ObservationResult> {
  const before = await deps.sessions.get(tenant, id);
  if (!before) {
    throw sessionNotFound(id);
  }
  // Refused before any model is asked: an ended session would throw the answer away.
  if (before.endedAt !== null) {
    throw ended(before);
  }
  let text: string;
  if ('text' in observation) {
    text = observation.text;
  } else {
    checkImageUrl(observation.imageUrl, deps.imageHosts, 'image_url');
    text = await deps.observer.caption(observation.imageUrl, call);
  }
  const similarities = await deps.observer.similarities(before.definition, text, call);
  const at = Date.now();
  let ignored = false;
  let moved = false;
  const after = await deps.sessions.update(tenant, id, (current) => {
    if (current.endedAt !== null) {
      throw ended(current);
    }
    const state = observe(current.state, { similarities, at });
    ignored = state.ignored > current.state.ignored;
    moved = state.current !== current.state.current;
    return { state, endedAt: null, at };
  });
  if (!after) {
    throw sessionNotFound(id);
  }
  return { text, moved, ignored, session: after };
}
