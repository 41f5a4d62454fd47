import type { Server } from 'node:http';
import { resolve } from 'node:path';
import { upgradeWebSocket } from '@hono/node-server';
import { API_PATHS, createApp } from './app.ts';
import { bodyLimitBytes, startOrExit, type Config } from './config.ts';
import { jsonLogger, type Logger } from './http/logger.ts';
import { serveApp } from './http/serve-app.ts';
import { listen, type Listening } from './listen.ts';
import { createNodeRuntime, openTaskSessions, type NodeRuntime } from './node-runtime.ts';
import { RealtimeHub } from './realtime/hub.ts';
import { nodeWebSockets } from './realtime/node-websockets.ts';
import { visionAnalyser } from './realtime/vision.ts';
import { storedTasks } from './sessions/stored-tasks.ts';
import { taskObserver } from './sessions/task-observer.ts';
import { stopOnSignals } from './stop-on-signals.ts';
import { authenticateOptionsFromConfig, credentialCheck } from './security/authenticate.ts';
import { rateLimitFromConfig } from './security/rate-limit.ts';
import { speechAnalyzer } from './speech/speech-analyzer.ts';
import { fileStore } from './storage/file-store.ts';

/** A reading passage takes a minute or two; ten minutes of 16 kHz PCM is 19 MB, near the body limit. */
const MAX_SPEECH_SECONDS = 600;

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
  const sessions = await openTaskSessions(config, logger);
  const rateLimit = rateLimitFromConfig(config, logger);
  const realtime = new RealtimeHub({
    backends: runtime.backends,
    analyse: visionAnalyser(runtime.backends),
    defaultModel: config.MEDGEMMA_MODEL,
    idleMs: config.REALTIME_IDLE_SECONDS * 1000,
    logger
  });
  const speech = speechAnalyzer({ maxSeconds: MAX_SPEECH_SECONDS });
  const app = createApp({
    ...runtime,
    speech,
    sessions,
    // Frames are described by the vision model jobs use when they name none.
    taskObserver: taskObserver({ backends: runtime.backends, visionModel: config.MEDGEMMA_MODEL }),
    storedTasks: storedTasks(),
    startedAt: Date.now(),
    models: fileStore(config.MODELS_DIR),
    credentials: credentialCheck(authOptions),
    rateLimit: rateLimit.middleware,
    logger,
    corsOrigins: config.CORS_ORIGINS,
    bodyLimitBytes: bodyLimitBytes(config),
    imageHosts: config.IMAGE_URL_HOSTS,
    realtime,
    upgradeWebSocket
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
      await realtime.close();
      await speech.close();
      await rateLimit.close();
      await sessions.close();
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
  // A WebSocket message may weigh what a request body may: a frame is a data: URL either way.
  const sockets = nodeWebSockets({ maxPayloadBytes: bodyLimitBytes(config) });
  const listening = await listen(app.fetch, config.PORT, config.HOST, sockets.server);
  const { server } = listening;
  return {
    ...listening,
    async close(graceMs = 10_000) {
      const http = server as Server;
      // Upgraded connections are no longer the HTTP server's to close: told 1001, they resume elsewhere.
      const socketsClosed = sockets.close(graceMs);
      const closed = new Promise<void>((done) => http.close(() => done()));
      http.closeIdleConnections();
      // Event streams stay open as long as their jobs run: they get the grace period, then are cut.
      const cut = setTimeout(() => http.closeAllConnections(), graceMs);
      await Promise.all([closed, socketsClosed, worker?.close(graceMs)]);
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
