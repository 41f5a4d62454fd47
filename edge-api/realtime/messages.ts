import * as z from 'zod';

/**
 * The `/ws` protocol (the vision assistant's, after seed 000): JSON text messages with a `type`.
 * Clients send `auth` (browsers, which cannot set headers on a WebSocket) and `frame`; a frame
 * may also be a binary message holding the JPEG, PNG or WebP bytes. The seed's `state_query` and
 * `state_update` come with the server-kept task sessions (edge-api/sessions/).
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
  token: z.string().min(1).optional()
});

export const FrameMessage = z.object({
  type: z.literal('frame'),
  image,
  /** When the camera took it (client clock, ms), echoed in the answer. */
  timestamp_ms: z.number().nonnegative().optional()
});

export const ClientMessage = z.discriminatedUnion('type', [AuthMessage, FrameMessage]);
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
  /** False on a fresh session, true when a client came back to it. */
  resumed: boolean;
  connections: number;
  frames: { received: number; analysed: number; replaced: number; failed: number };
  analysing: boolean;
  error?: { message: string; code: string };
}

export type ServerMessage =
  { type: 'vlm_response'; response: FrameAnalysis } | { type: 'system_status'; status: SessionStatus };
