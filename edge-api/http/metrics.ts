import type { Handler, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CallObserver } from '../backends/backend.ts';
import type { JobQueue, JobState } from '../jobs/job-queue.ts';

export type Metrics = ReturnType<typeof createMetrics>;

const CIRCUIT_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

/**
 * Prometheus metrics in a registry of the app's own (not prom-client's global one, so two apps
 * in one process, as in the tests, keep separate counts). Routes are labelled by their pattern,
 * never the raw path, so ids in URLs cannot blow up the label cardinality.
 */
export function createMetrics(queue: JobQueue) {
  const registry = new Registry();
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry]
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to the response head, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry]
  });
  const backendLatency = new Histogram({
    name: 'backend_request_duration_seconds',
    help: 'Calls to model servers by backend, model and outcome',
    labelNames: ['backend', 'model', 'outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry]
  });
  const circuit = new Gauge({
    name: 'backend_circuit_state',
    help: 'Circuit breaker per upstream: 0 closed, 1 half-open, 2 open',
    labelNames: ['backend'],
    registers: [registry]
  });
  const jobDuration = new Histogram({
    name: 'job_duration_seconds',
    help: 'Job run time by type and final state',
    labelNames: ['type', 'state'],
    buckets: [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900],
    registers: [registry]
  });
  const jobsFinished = new Counter({
    name: 'jobs_finished_total',
    help: 'Jobs that reached a final state, by type and state',
    labelNames: ['type', 'state'],
    registers: [registry]
  });
  new Gauge({
    name: 'jobs',
    help: 'Jobs in the queue by state (read at scrape time)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = await queue.counts();
      for (const [state, count] of Object.entries(counts)) {
        this.set({ state }, count);
      }
    }
  });

  const middleware: MiddlewareHandler = async (c, next) => {
    const started = performance.now();
    await next();
    // The last matched route is the handler that answered; a bare wildcard means no API route did.
    const route = routePath(c, -1);
    const labels = {
      method: c.req.method,
      route: route === '*' || route === '/*' ? 'other' : route,
      status: String(c.res.status)
    };
    requests.inc(labels);
    duration.observe(labels, (performance.now() - started) / 1000);
  };

  return {
    registry,
    middleware,
    /** Every backend's calls, labelled by backend and model; a function to hand as `onCall`. */
    backendCall: ((call) =>
      backendLatency.observe(
        { backend: call.backend, model: call.model, outcome: call.ok ? 'ok' : 'error' },
        call.ms / 1000
      )) satisfies CallObserver,
    circuitState(backend: string, state: keyof typeof CIRCUIT_VALUE): void {
      circuit.set({ backend }, CIRCUIT_VALUE[state]);
    },
    jobFinished(type: string, state: JobState, seconds: number): void {
      jobsFinished.inc({ type, state });
      jobDuration.observe({ type, state }, seconds);
    }
  };
}

/** `GET /metrics`: the registry in Prometheus' text format, for the API and for worker processes. */
export function metricsHandler(metrics: Metrics): Handler {
  return async (c) => c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType });
}
