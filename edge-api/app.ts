import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import type { BackendRegistry } from './backends/registry.ts';
import { docsPage } from './http/docs-page.ts';
import { ApiError, handleError, notFoundHandler } from './http/errors.ts';
import { idempotentResponses, type IdempotencyStore } from './http/idempotency.ts';
import { describeError, requestLogger, type Logger } from './http/logger.ts';
import type { Metrics } from './http/metrics.ts';
import { apiRouter } from './http/validation.ts';
import type { JobType } from './job-types/job-type.ts';
import type { JobQueue } from './jobs/job-queue.ts';
import { chatCompletions } from './routes/chat-completions.ts';
import { embeddings } from './routes/embeddings.ts';
import { health, type StorageCheck } from './routes/health.ts';
import { jobRoutes } from './routes/jobs.ts';
import { modelMirror } from './routes/models.ts';
import { openAiModels } from './routes/openai-models.ts';
import { stateQuery } from './routes/state-query.ts';
import type { AuthEnv } from './security/principal.ts';
import type { BlobStore, WritableBlobStore } from './storage/file-store.ts';

export interface AppDeps {
  version: string;
  startedAt: number;
  /** The model mirror's files. */
  models: BlobStore;
  artifacts: WritableBlobStore;
  queue: JobQueue;
  queueAdapter: 'sqlite' | 'bullmq';
  jobTypes: readonly JobType[];
  backends: BackendRegistry;
  /** Sets the principal or refuses the request (401). */
  authenticate: MiddlewareHandler<AuthEnv>;
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
}

/** Paths the API answers itself; everything else may be the PWA (see server.ts). */
export const API_PATHS = /^\/(v1|api|models|health|metrics|openapi\.json|docs)(\/|$)/;

/**
 * Cross-origin isolation lets onnxruntime-web use SharedArrayBuffer (WASM threads).
 * HTML documents carry SvelteKit's hashed CSP meta tag; everything else (workers, WASM
 * loaders, JSON) gets this header CSP, since a worker's policy comes from its own response.
 */
const ASSET_CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' blob:; worker-src 'self' blob:; " +
  "connect-src 'self' https://huggingface.co https://*.huggingface.co https://*.hf.co; " +
  "img-src 'self' data: blob:; object-src 'none'; base-uri 'self'";

const isolationHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  c.header('cross-origin-opener-policy', 'same-origin');
  c.header('cross-origin-embedder-policy', 'require-corp');
  if (!c.res.headers.get('content-type')?.startsWith('text/html') && !c.res.headers.has('content-security-policy')) {
    c.header('content-security-policy', ASSET_CSP);
  }
};

/**
 * Builds the edge API: runtime-portable (every Node-specific part — files, SQLite, Redis, model
 * runtimes — arrives through `deps`), composed from sub-apps so its type and OpenAPI document
 * cover every route.
 */
export function createApp(deps: AppDeps) {
  const { logger } = deps;
  const protect = [deps.authenticate, deps.rateLimit] as const;

  const replay = idempotentResponses(deps.idempotency);
  const v1 = apiRouter<AuthEnv>()
    .use(...protect)
    // Jobs keep their own, durable idempotency in the queue.
    .use('/chat/completions', replay)
    .use('/embeddings', replay)
    .route('/', chatCompletions(deps))
    .route('/', embeddings(deps))
    .route('/', openAiModels(deps))
    .route('/jobs', jobRoutes({ queue: deps.queue, types: deps.jobTypes, artifacts: deps.artifacts }));

  const root = apiRouter();
  root.use(
    requestId({ headerName: 'x-request-id' }),
    deps.metrics.middleware,
    requestLogger(logger),
    secureHeaders({
      crossOriginResourcePolicy: 'same-origin',
      crossOriginOpenerPolicy: false,
      crossOriginEmbedderPolicy: false,
      contentSecurityPolicy: undefined,
      xFrameOptions: 'DENY'
    }),
    isolationHeaders,
    cors({
      origin: (origin) => (deps.corsOrigins.includes(origin) ? origin : null),
      allowHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id'],
      allowMethods: ['GET', 'POST', 'OPTIONS'],
      exposeHeaders: [
        'x-request-id',
        'retry-after',
        'location',
        'idempotent-replayed',
        'ratelimit-limit',
        'ratelimit-remaining',
        'ratelimit-reset'
      ],
      maxAge: 600
    }),
    bodyLimit({
      maxSize: deps.bodyLimitBytes,
      onError: () => {
        throw new ApiError(413, 'payload_too_large', `The request body is larger than ${deps.bodyLimitBytes} bytes`);
      }
    })
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
        .route('/', stateQuery())
    );

  app.get('/metrics', ...protect, async (c) =>
    c.body(await deps.metrics.registry.metrics(), 200, { 'content-type': deps.metrics.registry.contentType })
  );

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
  app.get('/docs', (c) => c.html(docsPage(document())));

  app.onError(
    handleError((error, c) =>
      logger.error('unhandled error', { request_id: c.get('requestId') as string, ...describeError(error) })
    )
  );
  app.notFound(notFoundHandler);
  return app;
}

export type AppType = ReturnType<typeof createApp>;
