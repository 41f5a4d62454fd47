import { configOrExit } from './config.ts';
import { jsonLogger } from './http/logger.ts';
import { createNodeRuntime } from './node-runtime.ts';
import { stopOnSignals } from './stop-on-signals.ts';

/**
 * `npm run worker`: runs jobs without serving HTTP, beside API processes started with
 * `JOB_CONCURRENCY=0`. Same configuration as the server; with `REDIS_URL` it may run on
 * another machine, without it it shares the API's SQLite file (same machine).
 */
const config = configOrExit(process.env);
const logger = jsonLogger(config.LOG_LEVEL);
const runtime = await createNodeRuntime(config, logger);
const concurrency = Math.max(1, config.JOB_CONCURRENCY);
const worker = runtime.work(concurrency);
logger.info('worker started', { concurrency, queue: runtime.queueAdapter });

stopOnSignals(logger, async () => {
  await worker.close(30_000);
  await runtime.close();
});
