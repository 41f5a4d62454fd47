import { Hono, type MiddlewareHandler } from 'hono';
import { handleError, notFoundHandler } from './http/errors.ts';
import { describeError, type Logger } from './http/logger.ts';
import { metricsHandler, type Metrics } from './http/metrics.ts';
import type { AuthEnv } from './security/principal.ts';

export interface WorkerAppDeps {
  metrics: Metrics;
  /** The API's own check: whoever may scrape the API's metrics may scrape its workers'. */
  authenticate: MiddlewareHandler<AuthEnv>;
  logger: Logger;
}

/**
 * What a `npm run worker` process serves: its own `/metrics` (the jobs it ran and its calls to
 * model servers, which only it sees) so Prometheus scrapes each process, and `/health/live`.
 */
export function createWorkerApp(deps: WorkerAppDeps) {
  const app = new Hono<AuthEnv>()
    .get('/health/live', (c) => c.json({ status: 'ok' }))
    .get('/metrics', deps.authenticate, metricsHandler(deps.metrics));
  app.onError(handleError((error) => deps.logger.error('unhandled error', describeError(error))));
  app.notFound(notFoundHandler);
  return app;
}
