import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { redisTaskSessions } from '../../../edge-api/sessions/redis-task-sessions.ts';
import type { SessionChange, TaskSessionStore } from '../../../edge-api/sessions/task-session-store.ts';
import { createTracker, parseTaskDefinition } from '../../../src/lib/core/tracker/index.ts';
import { waitFor } from '../jobs/conformance.ts';
import { useRedis } from '../support/redis.ts';
import { describeTaskSessionStoreConformance } from './conformance.ts';

const redis = useRedis();

/** Stores with a prefix of their own per test: one Redis serves the whole file. */
function harness() {
  const prefix = `test-${randomUUID()}`;
  const stores: TaskSessionStore[] = [];
  return {
    async open(options: { retentionMs?: number } = {}) {
      const store = await redisTaskSessions({ url: redis.url, prefix, ...options, onError: () => undefined });
      stores.push(store);
      return store;
    },
    async dispose() {
      await Promise.all(stores.map((store) => store.close().catch(() => undefined)));
    }
  };
}

describeTaskSessionStoreConformance('redis', async () => Promise.resolve(harness()));

describe('redis task sessions', () => {
  it("tells every node's listeners of a change made on any node", async () => {
    const nodes = harness();
    try {
      const [a, b] = await Promise.all([nodes.open(), nodes.open()]);
      const heard: SessionChange[] = [];
      b.onChange((change) => heard.push(change));
      const definition = parseTaskDefinition(JSON.parse(readFileSync('static/tasks/brewing-coffee.json', 'utf8')));
      const created = await a.create('tenant-1', definition, createTracker(definition, 1), 1);
      await waitFor('the change on the other node', () => heard.length === 1);
      expect(heard[0]).toEqual({ tenant: 'tenant-1', session: created });
    } finally {
      await nodes.dispose();
    }
  });
});
