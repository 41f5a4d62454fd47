import { constants, readFileSync } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { parseManifest } from '../src/lib/core/manifest.ts';
import type { Backend } from './backends/backend.ts';
import { localBackend, localDevice } from './backends/local.ts';
import { undiciHttp } from './backends/undici-http.ts';
import { openAiCompatibleBackend } from './backends/openai-compatible.ts';
import { backendRegistry, type BackendRegistry } from './backends/registry.ts';
import { bodyLimitBytes, uploadMaxBytes, type Config } from './config.ts';
import { memoryIdempotencyStore, redisIdempotencyStore, type IdempotencyStore } from './http/idempotency.ts';
import { describeError, type Logger } from './http/logger.ts';
import { createMetrics, type Metrics } from './http/metrics.ts';
import { registeredJobTypes } from './job-types/registered.ts';
import type { JobTypes } from './job-types/registry.ts';
import { bullmqJobQueue } from './jobs/bullmq-queue.ts';
import type { JobQueue, RunningWorker } from './jobs/job-queue.ts';
import { sqliteJobQueue } from './jobs/sqlite-queue.ts';
import type { StorageCheck } from './routes/health.ts';
import { redisTaskSessions } from './sessions/redis-task-sessions.ts';
import { sqliteTaskSessions } from './sessions/sqlite-task-sessions.ts';
import type { TaskSessionStore } from './sessions/task-session-store.ts';
import { fileStore, type WritableBlobStore } from './storage/file-store.ts';
import { uploadStore, type UploadStore } from './storage/upload-store.ts';

/** Everything the API and the job workers share on Node, built from the configuration. */
export interface NodeRuntime {
  version: string;
  queue: JobQueue;
  backends: BackendRegistry;
  artifacts: WritableBlobStore;
  /** Large job inputs, sent in resumable chunks; kept in the artifact store as long as jobs are. */
  uploads: UploadStore;
  jobTypes: JobTypes;
  metrics: Metrics;
  idempotency: IdempotencyStore;
  storage: () => Promise<StorageCheck[]>;
  /** Runs jobs in this process (the API's own workers, or `npm run worker`). */
  work(concurrency: number): RunningWorker;
  close(): Promise<void>;
}

const ARTIFACT_SWEEP_MS = 3_600_000;
const MANIFEST = new URL('../models-manifest.json', import.meta.url);
const PACKAGE = new URL('../package.json', import.meta.url);

/** The SQLite file of the job queue (and, without Redis, of the task sessions beside it). */
export const jobDatabasePath = (config: Config): string => join(config.DATA_DIR, 'jobs.sqlite');

/**
 * The API's task sessions (server.ts only: worker processes run jobs and never touch them): in
 * the job database's file, or in Redis when the queue is there.
 */
export async function openTaskSessions(config: Config, logger: Logger): Promise<TaskSessionStore> {
  const onError = (error: unknown) => logger.error('task sessions', describeError(error));
  const retentionMs = config.TASK_SESSION_RETENTION_DAYS * 86_400_000;
  return config.REDIS_URL
    ? redisTaskSessions({ url: config.REDIS_URL, retentionMs, onError })
    : sqliteTaskSessions({ path: jobDatabasePath(config), retentionMs, onError });
}

export async function createNodeRuntime(config: Config, logger: Logger): Promise<NodeRuntime> {
  const version = (JSON.parse(readFileSync(PACKAGE, 'utf8')) as { version: string }).version;
  await mkdir(config.DATA_DIR, { recursive: true });
  const retentionMs = config.JOB_RETENTION_HOURS * 3_600_000;
  const queueOptions = {
    retentionMs,
    maxQueuedPerTenant: config.JOB_MAX_QUEUED_PER_TENANT,
    maxRunningPerTenant: config.JOB_MAX_RUNNING_PER_TENANT,
    onError: (error: unknown) => logger.error('job queue', describeError(error))
  };
  const jobDatabase = jobDatabasePath(config);
  const queue = config.REDIS_URL
    ? bullmqJobQueue({ url: config.REDIS_URL, ...queueOptions })
    : sqliteJobQueue({ path: jobDatabase, pollMs: config.JOB_POLL_MS, ...queueOptions });
  // The metrics need the queue (job counts at scrape time); the backends report into the metrics.
  const metrics = createMetrics(queue);

  const backends: Backend[] = [];
  const upstreamHttp = undiciHttp();
  if (config.UPSTREAMS.length > 0) {
    backends.push(
      openAiCompatibleBackend({
        upstreams: config.UPSTREAMS,
        http: upstreamHttp.http,
        timeoutMs: config.UPSTREAM_TIMEOUT_MS,
        onCall: metrics.backendCall,
        logger,
        onCircuit: (upstream, state) => {
          metrics.circuitState(upstream, state);
          if (state !== 'closed') {
            logger.warn('upstream circuit', { upstream, state });
          }
        }
      })
    );
  }
  backends.push(
    localBackend({
      modelsDir: config.MODELS_DIR,
      manifest: parseManifest(JSON.parse(readFileSync(MANIFEST, 'utf8'))),
      only: config.LOCAL_MODELS,
      device: localDevice(),
      // An image fetched by URL may weigh what the client could have sent inline, no more.
      imageLimits: { timeoutMs: config.IMAGE_FETCH_TIMEOUT_MS, maxBytes: bodyLimitBytes(config) },
      onCall: metrics.backendCall
    })
  );
  const registry = backendRegistry(backends);
  const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 2 }) : null;
  const idempotency = redis ? redisIdempotencyStore(redis) : memoryIdempotencyStore();
  const artifacts = fileStore(join(config.DATA_DIR, 'artifacts'));
  const uploads = uploadStore(artifacts, { maxBytes: uploadMaxBytes(config), retentionMs });
  // Artifacts follow their jobs out: the queue purges finished jobs after the same retention.
  // Uploads, the jobs' inputs, are kept as long.
  const sweep = () =>
    Promise.all([artifacts.removeOlderThan('jobs', 2, retentionMs), uploads.removeExpired()]).catch((error: unknown) =>
      logger.error('artifact sweep', describeError(error))
    );
  const sweeper = setInterval(() => void sweep(), Math.min(retentionMs, ARTIFACT_SWEEP_MS));
  sweeper.unref();
  const jobTypes = registeredJobTypes.bind({ config, backends: registry, artifacts, uploads });

  const folders = [
    { name: 'data', path: config.DATA_DIR, write: true },
    { name: 'models', path: config.MODELS_DIR, write: false }
  ];
  const storage = () =>
    Promise.all(
      folders.map(async ({ name, path, write }): Promise<StorageCheck> => {
        try {
          await access(path, write ? constants.R_OK | constants.W_OK : constants.R_OK);
          return { name, ok: true };
        } catch (error) {
          return { name, ok: false, detail: (error as NodeJS.ErrnoException).code ?? 'unreachable' };
        }
      })
    );

  return {
    version,
    queue,
    backends: registry,
    artifacts,
    uploads,
    jobTypes,
    metrics,
    idempotency,
    storage,
    work: (concurrency) =>
      queue.work(jobTypes.handlers(), {
        concurrency,
        onFinished: (job) => {
          metrics.jobFinished(job.type, job.state, ((job.finishedAt ?? 0) - (job.startedAt ?? job.createdAt)) / 1000);
          logger.info('job finished', { job_id: job.id, type: job.type, state: job.state, tenant: job.tenant });
        }
      }),
    async close() {
      clearInterval(sweeper);
      await queue.close();
      await registry.close();
      await upstreamHttp.close();
      await redis?.quit();
    }
  };
}
