import { randomUUID } from 'node:crypto';
import type { BackendRegistry } from '../backends/registry.ts';
import { notFound, tooManyRequests } from '../http/errors.ts';
import type { Logger } from '../http/logger.ts';
import { RealtimeSession, type OnAnswer } from './session.ts';
import { DEFAULT_LIVE_PROMPT, type Analyse } from './vision.ts';

/** Live sessions one tenant may hold at once: each can keep a model busy. */
export const MAX_SESSIONS_PER_TENANT = 16;

export interface RealtimeHubOptions {
  backends: BackendRegistry;
  analyse: Analyse;
  /** The model a session uses when its client names none. */
  defaultModel: string;
  /** How long a session with no connection and no frames is kept for its client to come back. */
  idleMs: number;
  logger: Logger;
}

/**
 * The live sessions of this process, per tenant: the WebSocket and the HTTP realtime routes share
 * them. A session is found only by its own tenant, so another tenant's id is unknown (404, 4404).
 */
export class RealtimeHub {
  readonly #sessions = new Map<string, RealtimeSession>();
  readonly #options: RealtimeHubOptions;
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: RealtimeHubOptions) {
    this.#options = options;
    this.#sweeper = setInterval(() => this.#sweep(), Math.max(1_000, options.idleMs / 4));
    this.#sweeper.unref();
  }

  /**
   * A new session for `tenant`, fed to the task session `taskSessionId` (already checked to be the
   * tenant's) through `onAnswer` when given.
   * @throws ApiError 404 for a model no backend serves, 400 for one without vision, 429 past
   *   {@link MAX_SESSIONS_PER_TENANT}
   */
  create(
    tenant: string,
    request: {
      model?: string | undefined;
      prompt?: string | undefined;
      taskSessionId?: string | null;
      onAnswer?: OnAnswer;
    } = {}
  ): RealtimeSession {
    const model = request.model ?? this.#options.defaultModel;
    this.#options.backends.forModel(model, 'vision');
    const held = [...this.#sessions.values()].filter((session) => session.tenant === tenant).length;
    if (held >= MAX_SESSIONS_PER_TENANT) {
      throw tooManyRequests(
        `At most ${MAX_SESSIONS_PER_TENANT} live sessions at once; idle ones expire`,
        Math.ceil(this.#options.idleMs / 1000),
        'too_many_sessions'
      );
    }
    const session = new RealtimeSession({
      id: randomUUID(),
      tenant,
      model,
      prompt: request.prompt ?? DEFAULT_LIVE_PROMPT,
      taskSessionId: request.taskSessionId ?? null,
      onAnswer: request.onAnswer,
      analyse: this.#options.analyse,
      logger: this.#options.logger
    });
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The tenant's session `id`, or undefined (also for another tenant's). */
  find(tenant: string, id: string): RealtimeSession | undefined {
    const session = this.#sessions.get(id);
    return session?.tenant === tenant ? session : undefined;
  }

  /** The tenant's sessions that feed the task session `taskSessionId`. */
  linkedTo(tenant: string, taskSessionId: string): RealtimeSession[] {
    return [...this.#sessions.values()].filter(
      (session) => session.tenant === tenant && session.taskSessionId === taskSessionId
    );
  }

  /**
   * {@link find}, for routes.
   * @throws ApiError 404
   */
  get(tenant: string, id: string): RealtimeSession {
    const session = this.find(tenant, id);
    if (!session) {
      throw notFound(`No live session ${id}; create one with POST /api/v1/realtime/session`, 'session_not_found');
    }
    return session;
  }

  /** Ends every session (shutdown): running analyses are aborted. */
  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.all(sessions.map((session) => session.close()));
  }

  #sweep(): void {
    const oldest = Date.now() - this.#options.idleMs;
    for (const session of this.#sessions.values()) {
      if (session.lastActive < oldest) {
        this.#sessions.delete(session.id);
        void session.close();
      }
    }
  }
}
