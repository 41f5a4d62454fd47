import { ApiError } from '../http/errors.ts';
import { describeError, type Logger } from '../http/logger.ts';
import { LatestWinsSlot, type Offered } from './latest-wins-slot.ts';
import type { FrameAnalysis, ServerMessage, SessionStatus } from './messages.ts';
import type { Analyse } from './vision.ts';

/** Someone following a session: a WebSocket, in practice. */
export interface Listener {
  send(message: ServerMessage): void;
}

interface Frame {
  id: number;
  image: string;
  timestampMs: number | null;
  /** Its own question, or null for the session's prompt. */
  prompt: string | null;
  receivedAt: number;
}

/** What became of a submitted frame. */
export interface Submitted {
  frame_id: number;
  /** `started`: analysed now; `waiting`: next after the running one; `replaced`: next, in place of an older one. */
  outcome: Offered<unknown>['outcome'];
  replaced_frame_id?: number;
}

/**
 * What a client is told of a failure: what it can act on (an unknown model, a bad image, an ended
 * task session), not the server's internals, which get `otherwise`.
 */
export function clientError(error: unknown, otherwise: { message: string; code: string }) {
  return error instanceof ApiError ? { message: error.message, code: error.code } : otherwise;
}

/** Analyses a session's context keeps, as the clinical copilot's chat context does (its last 5). */
const RECENT = 5;

/**
 * Runs after each answer has been pushed, before the next frame is analysed (so a task session
 * takes the answers in order); it reports its own failures and never rejects.
 */
export type OnAnswer = (session: RealtimeSession, analysis: FrameAnalysis, signal: AbortSignal) => Promise<void>;

export interface SessionOptions {
  id: string;
  tenant: string;
  model: string;
  prompt: string;
  /** The task session it feeds (checked to be the tenant's by the caller), or null. */
  taskSessionId: string | null;
  onAnswer?: OnAnswer | undefined;
  analyse: Analyse;
  logger: Logger;
  now?: () => number;
}

/**
 * One live camera session: frames in, the vision model's answers out to every listener. Frames
 * go through a {@link LatestWinsSlot}, so a fast camera and a slow model never build a backlog.
 * It outlives its connections, so a client that lost its connection can come back to it.
 */
export class RealtimeSession {
  readonly id: string;
  readonly tenant: string;
  readonly model: string;
  readonly prompt: string;
  readonly taskSessionId: string | null;
  readonly #listeners = new Set<Listener>();
  readonly #recent: FrameAnalysis[] = [];
  readonly #counts = { received: 0, analysed: 0, replaced: 0, failed: 0 };
  readonly #slot: LatestWinsSlot<Frame>;
  readonly #abort = new AbortController();
  readonly #now: () => number;
  readonly #logger: Logger;
  readonly #onAnswer: OnAnswer | undefined;
  #lastActive: number;

  constructor(options: SessionOptions) {
    this.id = options.id;
    this.tenant = options.tenant;
    this.model = options.model;
    this.prompt = options.prompt;
    this.taskSessionId = options.taskSessionId;
    this.#onAnswer = options.onAnswer;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger;
    this.#lastActive = this.#now();
    this.#slot = new LatestWinsSlot((frame) => this.#analyse(frame, options.analyse));
  }

  /** The newest analyses, oldest first. */
  get recent(): readonly FrameAnalysis[] {
    return this.#recent;
  }

  /** When a listener left or a frame came last; the hub expires sessions idle too long. */
  get lastActive(): number {
    return this.#listeners.size > 0 ? this.#now() : this.#lastActive;
  }

  /** Offers a frame for analysis, asked `prompt` (the session's own when null). */
  submit(image: string, timestampMs: number | null, prompt: string | null = null): Submitted {
    this.#lastActive = this.#now();
    this.#counts.received += 1;
    const frame: Frame = { id: this.#counts.received, image, timestampMs, prompt, receivedAt: this.#now() };
    const offered = this.#slot.offer(frame);
    if (offered.outcome !== 'replaced') {
      return { frame_id: frame.id, outcome: offered.outcome };
    }
    this.#counts.replaced += 1;
    return { frame_id: frame.id, outcome: 'replaced', replaced_frame_id: offered.dropped.id };
  }

  join(listener: Listener): void {
    this.#listeners.add(listener);
  }

  leave(listener: Listener): void {
    this.#listeners.delete(listener);
    this.#lastActive = this.#now();
  }

  status(resumed: boolean, error?: SessionStatus['error']): SessionStatus {
    return {
      session_id: this.id,
      model: this.model,
      task_session_id: this.taskSessionId,
      resumed,
      connections: this.#listeners.size,
      frames: { ...this.#counts },
      analysing: this.#slot.running,
      ...(error ? { error } : {})
    };
  }

  /** Stops analysing (a running call is aborted, a waiting frame dropped). */
  close(): Promise<void> {
    this.#slot.clear();
    this.#abort.abort();
    return this.#slot.idle();
  }

  /** Resolves once no frame runs or waits (tests, shutdown). */
  idle(): Promise<void> {
    return this.#slot.idle();
  }

  /** Sends `message` to every listener. */
  publish(message: ServerMessage): void {
    for (const listener of this.#listeners) {
      listener.send(message);
    }
  }

  async #analyse(frame: Frame, analyse: Analyse): Promise<void> {
    if (this.#abort.signal.aborted) {
      return;
    }
    try {
      const text = await analyse({
        model: this.model,
        prompt: frame.prompt ?? this.prompt,
        image: frame.image,
        signal: this.#abort.signal
      });
      const analysis: FrameAnalysis = {
        frame_id: frame.id,
        text,
        model: this.model,
        timestamp_ms: frame.timestampMs,
        latency_ms: this.#now() - frame.receivedAt,
        analysed_at: new Date(this.#now()).toISOString()
      };
      this.#counts.analysed += 1;
      this.#recent.push(analysis);
      this.#recent.splice(0, this.#recent.length - RECENT);
      this.publish({ type: 'vlm_response', response: analysis });
      await this.#onAnswer?.(this, analysis, this.#abort.signal);
    } catch (error) {
      if (this.#abort.signal.aborted) {
        return;
      }
      this.#counts.failed += 1;
      this.#logger.warn('live frame analysis failed', {
        session_id: this.id,
        tenant: this.tenant,
        ...describeError(error)
      });
      const told = clientError(error, { message: 'The model could not analyse the frame', code: 'analysis_failed' });
      this.publish({ type: 'system_status', status: this.status(false, told) });
    }
  }
}
