import { z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { requestId } from 'hono/request-id';
import type { UpgradeWebSocket } from 'hono/ws';
import type { TaskDefinition } from '../src/lib/core/tracker/index.ts';
import type { BackendRegistry } from './backends/registry.ts';
import { docsPage } from './http/docs-page.ts';
import { limitBody } from './http/body-limit.ts';
import { handleError, notFoundHandler } from './http/errors.ts';
import { idempotentResponses, type IdempotencyStore } from './http/idempotency.ts';
import { describeError, requestLogger, type Logger } from './http/logger.ts';
import { metricsHandler, type Metrics } from './http/metrics.ts';
import { securityHeaders } from './http/security-headers.ts';
import { apiRouter } from './http/validation.ts';
import type { JobTypes } from './job-types/registry.ts';
import type { JobQueue } from './jobs/job-queue.ts';
import type { RealtimeHub } from './realtime/hub.ts';
import { realtimeSocket } from './realtime/socket.ts';
import { taskSessionLinks } from './realtime/task-links.ts';
import { chatCompletions } from './routes/chat-completions.ts';
import { embeddings } from './routes/embeddings.ts';
import { health, type StorageCheck } from './routes/health.ts';
import { jobRoutes } from './routes/jobs.ts';
import { MODEL_MIRROR_DOC, modelMirror } from './routes/models.ts';
import { openAiModels } from './routes/openai-models.ts';
import { realtimeRoutes } from './routes/realtime.ts';
import { speechRoutes } from './routes/speech.ts';
import { transcriptions } from './routes/transcriptions.ts';
import { stateQuery } from './routes/state-query.ts';
import { taskSessionRoutes } from './routes/task-sessions.ts';
import { uploadRoutes } from './routes/uploads.ts';
import { errorResponses } from './schemas/common.ts';
import { authenticateWith, type CheckCredentials } from './security/authenticate.ts';
import type { AuthEnv } from './security/principal.ts';
import type { TaskObserver } from './sessions/task-observer.ts';
import type { TaskSessionStore } from './sessions/task-session-store.ts';
import type { SpeechAnalyzer } from './speech/speech-analyzer.ts';
import type { BlobStore, WritableBlobStore } from './storage/file-store.ts';
import type { UploadStore } from './storage/upload-store.ts';

export interface AppDeps {
  version: string;
  startedAt: number;
  /** The model mirror's files. */
  models: BlobStore;
  artifacts: WritableBlobStore;
  uploads: UploadStore;
  queue: JobQueue;
  jobTypes: JobTypes;
  backends: BackendRegistry;
  /** Who a request's credentials stand for, or the 401: for HTTP routes and `/ws` alike. */
  credentials: CheckCredentials;
  /** Keeps answers to requests sent with an `Idempotency-Key`. */
  idempotency: IdempotencyStore;
  /** Per-tenant limit after authentication (429). */
  rateLimit: MiddlewareHandler<AuthEnv>;
  metrics: Metrics;
  logger: Logger;
  storage: () => Promise<StorageCheck[]>;
  /** Browser origins other than the API's own that may call it (the PWA when hosted elsewhere). */
  corsOrigins: readonly string[];
  bodyLimitBytes: number;
  /** Hosts chat images may be fetched from (data: URLs are always accepted). */
  imageHosts: readonly string[];
  /** Task sessions whose tracker state the server keeps. */
  sessions: TaskSessionStore;
  taskObserver: TaskObserver;
  /** The tasks stored on the server, by id. */
  storedTasks: (id: string) => Promise<TaskDefinition | null>;
  /** Live camera sessions, for `/ws` and `/api/v1/realtime/*`. */
  realtime: RealtimeHub;
  /** The runtime's WebSocket upgrade (`@hono/node-server`'s on Node). */
  upgradeWebSocket: UpgradeWebSocket;
  /** Reading-practice recordings measured (`/api/v1/speech/*`), off the request thread on Node. */
  speech: SpeechAnalyzer;
}

const API_ROUTES = String.raw`(?:v1|api|health|metrics|openapi\.json|docs|ws)(?:\/|$)`;
/** Paths the API answers itself; everything else may be the PWA (see server.ts). */
// `/models` alone is the app's Models page; the model mirror is below it.
export const API_PATHS = new RegExp(String.raw`^\/(?:${API_ROUTES}|models\/)`);
/** The API's own answers (JSON, event streams, docs), as opposed to files: the PWA's and the mirror's. */
const API_ANSWER_PATHS = new RegExp(String.raw`^\/${API_ROUTES}`);

/**
 * Builds the edge API: runtime-portable (every Node-specific part — files, SQLite, Redis, model
 * runtimes — arrives through `deps`), composed from sub-apps so its type and OpenAPI document
 * cover every route.
 */
export function createApp(deps: AppDeps) {
  const { logger } = deps;
  const protect = [authenticateWith(deps.credentials), deps.rateLimit] as const;

  const replay = idempotentResponses(deps.idempotency);
  // One per app: its store subscription pushes each task session's changes to the live sessions.
  const links = taskSessionLinks({
    hub: deps.realtime,
    sessions: deps.sessions,
    observer: deps.taskObserver,
    imageHosts: deps.imageHosts,
    logger
  });
  const v1 = apiRouter<AuthEnv>()
    .use(...protect)
    // Jobs keep their own, durable idempotency in the queue.
    .use('/chat/completions', replay)
    .use('/embeddings', replay)
    .route('/', chatCompletions(deps))
    .route('/', embeddings(deps))
    .route('/', transcriptions(deps))
    .route('/', openAiModels(deps))
    .route('/jobs', jobRoutes({ queue: deps.queue, types: deps.jobTypes, artifacts: deps.artifacts }))
    .route('/uploads', uploadRoutes(deps));

  const browserCors = cors({
    origin: (origin) => (deps.corsOrigins.includes(origin) ? origin : null),
    allowHeaders: [
      'authorization',
      'content-type',
      'idempotency-key',
      'x-request-id',
      'upload-length',
      'upload-offset',
      'upload-metadata',
      'tus-resumable'
    ],
    allowMethods: ['GET', 'HEAD', 'POST', 'PATCH', 'OPTIONS'],
    exposeHeaders: [
      'x-request-id',
      'retry-after',
      'location',
      'idempotent-replayed',
      'ratelimit-limit',
      'ratelimit-remaining',
      'ratelimit-reset',
      'upload-offset',
      'upload-length',
      'upload-expires',
      'tus-resumable'
    ],
    maxAge: 600
  });
  // Only browsers send Origin. Hono's cors() sets headers on the response before the route runs,
  // which on Node makes every request rebuild its Response, so other clients skip it.
  const crossOrigin: MiddlewareHandler = (c, next) => {
    if (c.req.header('origin') !== undefined) {
      return browserCors(c, next);
    }
    c.header('vary', 'Origin');
    return next();
  };

  const root = apiRouter();
  root.use(
    requestId({ headerName: 'x-request-id' }),
    deps.metrics.middleware,
    requestLogger(logger),
    securityHeaders((path) => API_ANSWER_PATHS.test(path)),
    crossOrigin,
    limitBody(deps.bodyLimitBytes)
  );
  // Chained, so the app's type (and the typed client's) covers every sub-app.
  const app = root
    .route('/health', health(deps))
    .route('/models', modelMirror(deps.models))
    .route('/v1', v1)
    .route(
      '/api/v1',
      apiRouter<AuthEnv>()
        .use(...protect, replay)
        .route('/', stateQuery(deps))
        .route(
          '/sessions',
          taskSessionRoutes({
            sessions: deps.sessions,
            observer: deps.taskObserver,
            tasks: deps.storedTasks,
            imageHosts: deps.imageHosts
          })
        )
        .route('/', realtimeRoutes({ ...deps, links }))
        .route('/', speechRoutes(deps))
    );

  app.get('/ws', realtimeSocket({ ...deps, hub: deps.realtime, links, checkCredentials: deps.credentials }));

  app.get('/metrics', ...protect, metricsHandler(deps.metrics));
  // Neither takes a body or a query to validate: documented here, routed as they are.
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics: requests, jobs, backends and their circuits',
    responses: {
      200: {
        description: 'Prometheus text exposition format',
        content: { 'text/plain': { schema: { type: 'string' } } }
      },
      ...errorResponses(401, 429)
    }
  });
  app.openAPIRegistry.registerPath(MODEL_MIRROR_DOC);
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/ws',
    summary:
      'The live session as a WebSocket: camera frames and state_query in; vlm_response, system_status, ' +
      'state_update and state_response out',
    description:
      'Credentials in the Authorization header, or (browsers) a first `{"type":"auth","token":…}` message. ' +
      "`?session_id=` resumes a session; `?task_session_id=` (or the auth message's `task_session_id`) links a " +
      'new one to a task session: each answer is observed, each change pushed as `state_update`, and ' +
      '`state_query` answered as `POST /api/v1/state/query` (`state_response`). Close codes: 4400 bad message, ' +
      '4401 bad credentials, 4404 unknown session or task session, 4429 too many sessions, 1009 message too ' +
      'large, 1001 server shutting down.',
    request: {
      query: z.object({
        session_id: z.string().optional(),
        model: z.string().optional(),
        task_session_id: z.string().optional()
      })
    },
    responses: {
      101: { description: 'Switching protocols' },
      ...errorResponses(403, 426)
    }
  });

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'A JWT with a tenant claim, or an API key (`vh_…`)'
  });
  const document = () =>
    app.getOpenAPI31Document({
      openapi: '3.1.0',
      info: {
        title: 'Vision Hub edge API',
        version: deps.version,
        description:
          'Heavy vision jobs on server GPUs (MedGemma), OpenAI-compatible chat and embeddings, and the task tracker. ' +
          'Authenticate with `Authorization: Bearer <JWT or API key>`; health and docs are public.'
      },
      security: [{ bearer: [] }]
    });
  app.get('/openapi.json', (c) => c.json(document()));
  // The page's only style is inline and it has no script.
  app.get('/docs', (c) =>
    c.html(docsPage(document()), 200, { 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'" })
  );

  app.onError(
    handleError((error, c) =>
      logger.error('unhandled error', { request_id: c.get('requestId') as string, ...describeError(error) })
    )
  );
  app.notFound(notFoundHandler);
  return app;
}

export type AppType = ReturnType<typeof createApp>;
