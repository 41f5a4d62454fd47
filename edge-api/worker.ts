import type { Server } from 'node:http';
import { startOrExit } from './config.ts';
import { jsonLogger } from './http/logger.ts';
import { listen, type Listening } from './listen.ts';
import { createNodeRuntime } from './node-runtime.ts';
import { authenticate, authenticateOptionsFromConfig } from './security/authenticate.ts';
import { stopOnSignals } from './stop-on-signals.ts';
import { createWorkerApp } from './worker-app.ts';

/**
 * `npm run worker`: runs jobs without serving the API, beside API processes started with
 * `JOB_CONCURRENCY=0`. Same configuration as the server; with `REDIS_URL` it may run on
 * another machine, without it it shares the API's SQLite file (same machine). With
 * `WORKER_METRICS_PORT` it serves its own metrics, since the API never sees the jobs it runs.
 */
await startOrExit(process.env, async (config) => {
  const logger = jsonLogger(config.LOG_LEVEL);
  // Checked before anything is opened, and even without a metrics endpoint: the API's settings
  // are the worker's, so a bad key entry stops both alike.
  const authOptions = await authenticateOptionsFromConfig(config);
  const runtime = await createNodeRuntime(config, logger);
  const concurrency = Math.max(1, config.JOB_CONCURRENCY);
  const worker = runtime.work(concurrency);
  let endpoint: Listening | null = null;
  if (config.WORKER_METRICS_PORT !== undefined) {
    const app = createWorkerApp({
      metrics: runtime.metrics,
      authenticate: authenticate(authOptions),
      logger
    });
    endpoint = await listen(app.fetch, config.WORKER_METRICS_PORT, config.HOST);
  }
  logger.info('worker started', {
    concurrency,
    queue: runtime.queue.adapter,
    metrics_url: endpoint ? `${endpoint.url}/metrics` : undefined
  });

  stopOnSignals(logger, async () => {
    await worker.close(30_000);
    // Scrapes and liveness probes are answered until the running jobs are done.
    if (endpoint) {
      const http = endpoint.server as Server;
      const closed = new Promise<void>((done) => http.close(() => done()));
      http.closeAllConnections();
      await closed;
    }
    await runtime.close();
  });
});
