import { createRoute, z } from '@hono/zod-openapi';
import type { BackendRegistry } from '../backends/registry.ts';
import { apiRouter } from '../http/validation.ts';
import type { JobQueue } from '../jobs/job-queue.ts';

export interface StorageCheck {
  name: string;
  ok: boolean;
  detail?: string;
}

export interface HealthDeps {
  version: string;
  startedAt: number;
  queue: JobQueue;
  backends: BackendRegistry;
  /** Provided by the runtime (the Node server checks its folders). */
  storage: () => Promise<StorageCheck[]>;
}

const Status = z.object({ status: z.string() }).passthrough();
const json = (description: string) => ({ description, content: { 'application/json': { schema: Status } } });

/** How long a dependency may take to answer a health check before it counts as down. */
const CHECK_TIMEOUT_MS = 3_000;

class CheckTimedOut extends Error {
  override name = 'CheckTimedOut';
}

function withTimeout<T>(work: Promise<T>): Promise<T> {
  return Promise.race([
    work,
    new Promise<never>((_, reject) => setTimeout(() => reject(new CheckTimedOut()), CHECK_TIMEOUT_MS))
  ]);
}

async function queueCheck(queue: JobQueue) {
  const started = performance.now();
  try {
    const counts = await withTimeout(queue.counts());
    return { ok: true, counts, latency_ms: Math.round(performance.now() - started) };
  } catch (error) {
    // The queue's own error names its Redis host and port, and this report is public.
    return { ok: false, error: error instanceof CheckTimedOut ? 'timed out' : 'unavailable', latency_ms: null };
  }
}

/**
 * Liveness (the process answers), readiness (it can do its work: the queue answers and every
 * model has a healthy server), and a detailed report for operators. Public: no secrets in them.
 */
export function health(deps: HealthDeps) {
  return apiRouter()
    .openapi(
      createRoute({ method: 'get', path: '/', summary: 'Up, with the version', responses: { 200: json('Up') } }),
      (c) => c.json({ status: 'ok', version: deps.version }, 200)
    )
    .openapi(
      createRoute({ method: 'get', path: '/live', summary: 'Liveness probe', responses: { 200: json('Alive') } }),
      (c) => c.json({ status: 'ok' }, 200)
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/ready',
        summary: 'Readiness probe: the job queue answers and every model has a healthy server',
        responses: { 200: json('Ready'), 503: json('Not ready') }
      }),
      async (c) => {
        const [queue, backends] = await Promise.all([queueCheck(deps.queue), deps.backends.status()]);
        const models = new Set(backends.flatMap((backend) => backend.models));
        const unserved = [...models].filter(
          (model) => !backends.some((backend) => backend.healthy && backend.models.includes(model))
        );
        const ready = queue.ok && unserved.length === 0;
        return c.json(
          { status: ready ? 'ready' : 'not_ready', queue: queue.ok, unserved_models: unserved },
          ready ? 200 : 503
        );
      }
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/detailed',
        summary: 'Queue, storage and every backend with latency and circuit state',
        responses: { 200: json('Report') }
      }),
      async (c) => {
        const [queue, backends, storage] = await Promise.all([
          queueCheck(deps.queue),
          deps.backends.status(),
          deps.storage()
        ]);
        const ok = queue.ok && storage.every((check) => check.ok) && backends.every((backend) => backend.healthy);
        return c.json(
          {
            status: ok ? 'ok' : 'degraded',
            version: deps.version,
            uptime_s: Math.round((Date.now() - deps.startedAt) / 1000),
            queue: { adapter: deps.queue.adapter, ...queue },
            storage,
            backends: backends.map((backend) => ({
              id: backend.id,
              kind: backend.kind,
              models: backend.models,
              healthy: backend.healthy,
              circuit: backend.circuit,
              latency_ms: backend.latencyMs === null ? null : Math.round(backend.latencyMs),
              ...(backend.error && { error: backend.error })
            }))
          },
          200
        );
      }
    );
}
