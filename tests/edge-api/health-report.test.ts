import { describe, expect, it } from 'vitest';
import { backendRegistry } from '../../edge-api/backends/registry.ts';
import type { JobQueue } from '../../edge-api/jobs/job-queue.ts';
import { health } from '../../edge-api/routes/health.ts';

describe('GET /health/detailed', () => {
  it('reports a queue it cannot reach without quoting the error, which names the Redis host', async () => {
    const queue = { adapter: 'bullmq', counts: () => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.5:6379')) };
    const app = health({
      version: 'test',
      startedAt: Date.now(),
      queue: queue as unknown as JobQueue,
      backends: backendRegistry([]),
      storage: () => Promise.resolve([])
    });
    const shown = await (await app.request('/detailed')).text();
    expect(JSON.parse(shown)).toMatchObject({ status: 'degraded', queue: { ok: false, error: 'unavailable' } });
    expect(shown).not.toContain('10.0.0.5');
  });
});
