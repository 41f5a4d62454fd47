import * as z from 'zod';
import type { SessionState, StateAnswer } from '../sessions/state-answer.ts';

/**
 * The `/ws` protocol (the vision assistant's, after seed 000): JSON text messages with a `type`.
 * Clients send `auth` (browsers, which cannot set headers on a WebSocket), `frame` and
 * `state_query`; a frame may also be a binary message holding the JPEG, PNG or WebP bytes.
 * A live session linked to a task session (edge-api/sessions/) feeds it every answer as an
 * observation, and is told each change of it as `state_update`.
 */

/** Close codes: 4xxx are this API's own, mirroring the HTTP status they stand for. */
export const CLOSE = {
  /** The server is shutting down: reconnect (to another node) and resume the session. */
  goingAway: 1001,
  /** A message larger than the limit (sent by the WebSocket server itself). */
  tooBig: 1009,
  /** A failure of the server's own. */
  internal: 1011,
  badMessage: 4400,
  unauthorized: 4401,
  unknownSession: 4404,
  tooManySessions: 4429
} as const;

const image = z.string().min(1).describe('A data:image/jpeg;base64,… URL (PNG and WebP too)');

export const AuthMessage = z.object({
  type: z.literal('auth'),
  /** An API key or JWT; omitted where anonymous access is allowed. */
  token: z.string().min(1).optional(),
  /** The task session a new live session follows, as `?task_session_id=` (for browsers, beside the token). */
  task_session_id: z.string().min(1).max(100).optional()
});

export const FrameMessage = z.object({
  type: z.literal('frame'),
  image,
  /** When the camera took it (client clock, ms), echoed in the answer. */
  timestamp_ms: z.number().nonnegative().optional(),
  /** A question about this frame (the user asking), in place of the session's prompt. */
  prompt: z.string().min(1).max(2_000).optional()
});

/** The seed's question about the linked task session: `POST /api/v1/state/query`'s body. */
export const StateQueryMessage = z.object({
  type: z.literal('state_query'),
  query: z.string().min(1).max(1_000),
  include_history: z.boolean().optional(),
  max_history: z.number().int().min(1).max(200).optional()
});
export type StateQueryMessage = z.infer<typeof StateQueryMessage>;

export const ClientMessage = z.discriminatedUnion('type', [AuthMessage, FrameMessage, StateQueryMessage]);
export type ClientMessage = z.infer<typeof ClientMessage>;

/** One answer of the session's vision model about one frame. */
export interface FrameAnalysis {
  /** The frame's number in its session, from 1. */
  frame_id: number;
  text: string;
  model: string;
  timestamp_ms: number | null;
  /** From the frame's arrival to the answer, waiting included. */
  latency_ms: number;
  analysed_at: string;
}

/** Where a session stands: sent when a client joins, and when its analysis fails. */
export interface SessionStatus {
  session_id: string;
  model: string;
  /** The task session it feeds, or null. */
  task_session_id: string | null;
  /** False on a fresh session, true when a client came back to it. */
  resumed: boolean;
  connections: number;
  frames: { received: number; analysed: number; replaced: number; failed: number };
  analysing: boolean;
  error?: { message: string; code: string };
}

/**
 * The answer to a `state_query`. The seed names no message for it: `state_response`, holding the
 * `/api/v1/state/query` answer's fields as they are, so a client reads either alike; or, when
 * there is nothing to answer from (no linked task session), `status: "error"` and why.
 */
export type StateResponse =
  | ({ type: 'state_response' } & StateAnswer)
  | { type: 'state_response'; status: 'error'; error: { message: string; code: string } };

/**
 * A change of the linked task session (an observation, from this socket's frames or anyone's,
 * on any node; a `go back`; its end): `state` is where it stands, as an answer's `current_state`.
 */
export interface StateUpdate {
  type: 'state_update';
  task_session_id: string;
  ended: boolean;
  state: SessionState;
}

export type ServerMessage =
  | { type: 'vlm_response'; response: FrameAnalysis }
  | { type: 'system_status'; status: SessionStatus }
  | StateResponse
  | StateUpdate;
