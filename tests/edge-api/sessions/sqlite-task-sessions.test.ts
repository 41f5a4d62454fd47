import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteTaskSessions } from '../../../edge-api/sessions/sqlite-task-sessions.ts';
import type { TaskSessionStore } from '../../../edge-api/sessions/task-session-store.ts';
import { describeTaskSessionStoreConformance } from './conformance.ts';

describeTaskSessionStoreConformance('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sqlite-sessions-'));
  const stores: TaskSessionStore[] = [];
  return Promise.resolve({
    async open(options = {}) {
      const store = sqliteTaskSessions({ path: join(dir, 'jobs.sqlite'), ...options, onError: () => undefined });
      stores.push(store);
      return Promise.resolve(store);
    },
    async dispose() {
      await Promise.all(stores.map((store) => store.close().catch(() => undefined)));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
