import { createRoute, z } from '@hono/zod-openapi';
import { checkImageUrl } from '../backends/chat-request.ts';
import { apiRouter, requireJson } from '../http/validation.ts';
import type { RealtimeHub } from '../realtime/hub.ts';
import type { TaskSessionLinks } from '../realtime/task-links.ts';
import { COMMON_ERRORS, errorResponses } from '../schemas/common.ts';
import type { AuthEnv } from '../security/principal.ts';

const SessionId = z.string().min(1).max(100).openapi({ description: 'From POST /api/v1/realtime/session' });

const SessionRequest = z
  .object({
    model: z.string().min(1).optional().openapi({ description: 'A vision model; MEDGEMMA_MODEL when omitted' }),
    prompt: z
      .string()
      .min(1)
      .max(2_000)
      .optional()
      .openapi({ description: 'What the model is asked about each frame' }),
    task_session_id: z.string().min(1).max(100).optional().openapi({
      description:
        'A task session of yours (POST /api/v1/sessions): each answer is an observation of it, and `/ws` pushes its changes as `state_update`'
    })
  })
  .openapi('RealtimeSessionRequest');

const FrameCounts = z.object({
  received: z.number().int(),
  analysed: z.number().int(),
  replaced: z.number().int().openapi({ description: 'Frames dropped unanalysed because a newer one came' }),
  failed: z.number().int()
});

const SessionSchema = z
  .object({
    session_id: z.string(),
    model: z.string(),
    task_session_id: z.string().nullable().openapi({ description: 'The task session it feeds' }),
    connections: z.number().int().openapi({ description: 'WebSocket clients following it now' }),
    frames: FrameCounts,
    analysing: z.boolean(),
    websocket: z.string().openapi({ description: 'Where to follow it live (`GET /ws?session_id=…`)' })
  })
  .openapi('RealtimeSession');

const FrameRequest = z
  .object({
    session_id: SessionId,
    image: z.string().min(1).openapi({ description: 'A data:image/jpeg;base64,… URL (PNG and WebP too)' }),
    timestamp_ms: z.number().nonnegative().optional().openapi({ description: 'When the camera took it' })
  })
  .openapi('RealtimeFrame');

const FrameAccepted = z
  .object({
    session_id: z.string(),
    frame_id: z.number().int(),
    outcome: z.enum(['started', 'waiting', 'replaced']).openapi({
      description:
        '`started`: analysed now; `waiting`: next after the one being analysed; `replaced`: next, in place of an older waiting frame'
    }),
    replaced_frame_id: z.number().int().optional()
  })
  .openapi('RealtimeFrameAccepted');

const Analysis = z.object({
  frame_id: z.number().int(),
  text: z.string(),
  model: z.string(),
  timestamp_ms: z.number().nullable(),
  latency_ms: z.number(),
  analysed_at: z.string()
});

const AnalysisSchema = z
  .object({
    session_id: z.string(),
    analysing: z.boolean(),
    frames: FrameCounts,
    latest: Analysis.nullable(),
    recent: z.array(Analysis).openapi({ description: 'The last 5 analyses, oldest first' })
  })
  .openapi('RealtimeAnalysis');

const createSession = createRoute({
  method: 'post',
  path: '/realtime/session',
  summary: 'Start a live camera session (for clients without WebSockets; `/ws` starts one too)',
  middleware: [requireJson] as const,
  request: { body: { content: { 'application/json': { schema: SessionRequest } }, required: true } },
  responses: {
    201: { description: 'Started', content: { 'application/json': { schema: SessionSchema } } },
    ...errorResponses(...COMMON_ERRORS, 404)
  },
  description: '404 for a model no backend serves, or a `task_session_id` you do not have.'
});

const postFrame = createRoute({
  method: 'post',
  path: '/realtime/frame',
  summary: 'Send the newest camera frame (up to 3 per second)',
  description:
    'One frame is analysed at a time and at most one waits: a frame that arrives while another waits takes its ' +
    'place, so answers stay current however fast frames come. Answers: GET /api/v1/realtime/analysis, or `/ws`.',
  middleware: [requireJson] as const,
  request: { body: { content: { 'application/json': { schema: FrameRequest } }, required: true } },
  responses: {
    202: { description: 'Accepted', content: { 'application/json': { schema: FrameAccepted } } },
    ...errorResponses(...COMMON_ERRORS, 404)
  }
});

const getAnalysis = createRoute({
  method: 'get',
  path: '/realtime/analysis',
  summary: 'The newest answers of a live session',
  request: { query: z.object({ session_id: SessionId }) },
  responses: {
    200: { description: 'The session and its answers', content: { 'application/json': { schema: AnalysisSchema } } },
    ...errorResponses(401, 404, 422, 429)
  }
});

/**
 * The clinical video copilot's realtime endpoints (seed 003), over the same sessions and frame
 * pipeline as `/ws`: a session started here can be followed there, and the other way round.
 */
export function realtimeRoutes(deps: {
  realtime: RealtimeHub;
  links: TaskSessionLinks;
  imageHosts: readonly string[];
}) {
  const { realtime } = deps;
  return apiRouter<AuthEnv>()
    .openapi(createSession, async (c) => {
      const session = await deps.links.start(c.get('principal').tenant, c.req.valid('json'));
      const { session_id, model, task_session_id, connections, frames, analysing } = session.status(false);
      return c.json(
        {
          session_id,
          model,
          task_session_id,
          connections,
          frames,
          analysing,
          websocket: `/ws?session_id=${session_id}`
        },
        201
      );
    })
    .openapi(postFrame, (c) => {
      const body = c.req.valid('json');
      const session = realtime.get(c.get('principal').tenant, body.session_id);
      checkImageUrl(body.image, deps.imageHosts, 'image');
      return c.json({ session_id: session.id, ...session.submit(body.image, body.timestamp_ms ?? null) }, 202);
    })
    .openapi(getAnalysis, (c) => {
      const session = realtime.get(c.get('principal').tenant, c.req.valid('query').session_id);
      const { frames, analysing } = session.status(false);
      const recent = [...session.recent];
      return c.json({ session_id: session.id, analysing, frames, latest: recent.at(-1) ?? null, recent }, 200);
    });
}
