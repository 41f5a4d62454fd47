import type { TaskDefinition, TrackerState } from '../../src/lib/core/tracker/index.ts';

/**
 * One user working through one task, kept on the server: the definition it follows and the
 * tracker state (the same `src/lib/core/tracker` state the app keeps in IndexedDB).
 */
export interface TaskSession {
  id: string;
  tenant: string;
  definition: TaskDefinition;
  state: TrackerState;
  /** Set by `end`: an ended session still answers queries but takes no more observations. */
  endedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** What a change writes: the next tracker state, and `endedAt` once the session ends. */
export interface SessionUpdate {
  state: TrackerState;
  endedAt: number | null;
  at: number;
}

/** "Session `session.id` of `tenant` changed": what `/ws` pushes as `state_update`. */
export interface SessionChange {
  tenant: string;
  session: TaskSession;
}

export type SessionChangeListener = (change: SessionChange) => void;

export interface SessionPage {
  /** Newest first. */
  sessions: TaskSession[];
  /** Pass back as `cursor` for the next page; null on the last one. */
  next: string | null;
}

/**
 * The task-session port. Two adapters pass one conformance suite
 * (tests/edge-api/sessions/conformance.ts): SQLite beside the job queue, and Redis when
 * `REDIS_URL` is set. Every read and write is scoped to a tenant: another tenant's id is absent.
 */
export interface TaskSessionStore {
  create(tenant: string, definition: TaskDefinition, state: TrackerState, at: number): Promise<TaskSession>;
  /** Null when it does not exist or belongs to another tenant. */
  get(tenant: string, id: string): Promise<TaskSession | null>;
  /** The tenant's session created or changed last (ended or not); null when it has none. */
  latest(tenant: string): Promise<TaskSession | null>;
  /** `InvalidCursorError` for a cursor this store did not hand out. */
  list(tenant: string, options: { limit: number; cursor?: string }): Promise<SessionPage>;
  /**
   * Applies `change` to the session as stored now and saves the result atomically: when another
   * writer saved in between, `change` runs again on that newer session, so concurrent
   * observations are never lost. `change` must be synchronous and pure (it may run more than
   * once); returning null leaves the session as it is. Resolves to the session after the change,
   * or null when it does not exist for this tenant; listeners hear every saved change.
   */
  update(
    tenant: string,
    id: string,
    change: (session: TaskSession) => SessionUpdate | null
  ): Promise<TaskSession | null>;
  /** Hears every session this store creates or changes; returns the unsubscribe. */
  onChange(listener: SessionChangeListener): () => void;
  close(): Promise<void>;
}

/** The listener registry both adapters share; a throwing listener cannot break a write. */
export function changeListeners(onError: (error: unknown) => void) {
  const listeners = new Set<SessionChangeListener>();
  return {
    add(listener: SessionChangeListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(change: SessionChange): void {
      for (const listener of listeners) {
        try {
          listener(change);
        } catch (error) {
          onError(error);
        }
      }
    }
  };
}
