import type { Server } from 'node:http';
import { resolve } from 'node:path';
import { API_PATHS, createApp } from './app.ts';
import { bodyLimitBytes, startOrExit, type Config } from './config.ts';
import { jsonLogger, type Logger } from './http/logger.ts';
import { serveApp } from './http/serve-app.ts';
import { listen, type Listening } from './listen.ts';
import { createNodeRuntime, type NodeRuntime } from './node-runtime.ts';
import { stopOnSignals } from './stop-on-signals.ts';
import { authenticate, authenticateOptionsFromConfig } from './security/authenticate.ts';
import { rateLimitFromConfig } from './security/rate-limit.ts';
import { fileStore } from './storage/file-store.ts';

export interface NodeApp {
  app: ReturnType<typeof createApp>;
  runtime: NodeRuntime;
  close(): Promise<void>;
}

/** The app with everything it needs on Node, from the configuration; `startServer` serves it. */
export async function createNodeApp(config: Config, logger: Logger): Promise<NodeApp> {
  // Checked before anything is opened: a bad key entry must not leave a queue half started.
  const authOptions = await authenticateOptionsFromConfig(config);
  const runtime = await createNodeRuntime(config, logger);
  const rateLimit = rateLimitFromConfig(config, logger);
  const app = createApp({
    ...runtime,
    startedAt: Date.now(),
    models: fileStore(config.MODELS_DIR),
    authenticate: authenticate(authOptions),
    rateLimit: rateLimit.middleware,
    logger,
    corsOrigins: config.CORS_ORIGINS,
    bodyLimitBytes: bodyLimitBytes(config),
    imageHosts: config.IMAGE_URL_HOSTS
  });
  if (config.STATIC_DIR) {
    // Files, prerendered pages and the SPA shell for other page routes; API paths keep their JSON 404.
    const serve = serveApp(resolve(config.STATIC_DIR));
    app.get('/*', (c, next) => (API_PATHS.test(c.req.path) ? next() : serve(c, next)));
  }
  return {
    app,
    runtime,
    async close() {
      await rateLimit.close();
      await runtime.close();
    }
  };
}

export interface RunningServer extends Listening {
  /** Stops taking requests, lets running jobs finish (up to `graceMs`), then closes the queue. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Starts the edge API on Node: the app, its job workers (unless `JOB_CONCURRENCY=0` leaves them
 * to `npm run worker` processes) and, with `STATIC_DIR`, the built PWA on the same origin.
 */
export async function startServer(
  config: Config,
  logger: Logger = jsonLogger(config.LOG_LEVEL)
): Promise<RunningServer> {
  const { app, runtime, close } = await createNodeApp(config, logger);
  const worker = config.JOB_CONCURRENCY > 0 ? runtime.work(config.JOB_CONCURRENCY) : null;
  const listening = await listen(app.fetch, config.PORT, config.HOST);
  const { server } = listening;
  return {
    ...listening,
    async close(graceMs = 10_000) {
      const http = server as Server;
      const closed = new Promise<void>((done) => http.close(() => done()));
      http.closeIdleConnections();
      // Event streams stay open as long as their jobs run: they get the grace period, then are cut.
      const cut = setTimeout(() => http.closeAllConnections(), graceMs);
      await Promise.all([closed, worker?.close(graceMs)]);
      clearTimeout(cut);
      await close();
    }
  };
}

if (import.meta.main) {
  await startOrExit(process.env, async (config) => {
    const logger = jsonLogger(config.LOG_LEVEL);
    const running = await startServer(config, logger);
    logger.info('listening', { url: running.url, anonymous: config.ALLOW_ANONYMOUS });
    stopOnSignals(logger, () => running.close());
  });
}
