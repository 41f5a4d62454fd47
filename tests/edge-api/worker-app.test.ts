import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLogger } from '../../edge-api/http/logger.ts';
import { createNodeRuntime, type NodeRuntime } from '../../edge-api/node-runtime.ts';
import { authenticate, authenticateOptionsFromConfig } from '../../edge-api/security/authenticate.ts';
import { createWorkerApp } from '../../edge-api/worker-app.ts';
import { auth, testConfig } from './support/test-app.ts';

const config = testConfig();
let runtime: NodeRuntime;
let app: ReturnType<typeof createWorkerApp>;
beforeAll(async () => {
  runtime = await createNodeRuntime(config, jsonLogger('silent'));
  app = createWorkerApp({
    metrics: runtime.metrics,
    authenticate: authenticate(await authenticateOptionsFromConfig(config)),
    logger: jsonLogger('silent')
  });
});
afterAll(async () => {
  await runtime.close();
  rmSync(config.DATA_DIR, { recursive: true, force: true });
});

describe('a worker process’s own endpoint', () => {
  it('serves its runtime’s metrics to the same credentials as the API’s /metrics', async () => {
    runtime.metrics.jobFinished('medgemma.analyze', 'failed', 2);
    const refused = await app.request('/metrics');
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: { type: 'authentication_error' } });

    const res = await app.request('/metrics', { headers: auth() });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/^jobs_finished_total\{type="medgemma\.analyze",state="failed"\} 1$/m);
    expect(text).toMatch(/^jobs\{state="queued"\} 0$/m);
  });

  it('answers liveness without credentials, and anything else with a JSON 404', async () => {
    expect(await (await app.request('/health/live')).json()).toEqual({ status: 'ok' });
    const other = await app.request('/v1/jobs', { headers: auth() });
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ error: { code: 'route_not_found' } });
  });
});
