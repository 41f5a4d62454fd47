import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { JobQueue } from '../../../edge-api/jobs/job-queue.ts';
import { sqliteJobQueue } from '../../../edge-api/jobs/sqlite-queue.ts';
import { describeJobQueueConformance } from './conformance.ts';

describeJobQueueConformance('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sqlite-jobs-'));
  const path = join(dir, 'jobs.sqlite');
  const queues: JobQueue[] = [];
  return {
    open(options) {
      // A short poll so that cross-process hand-offs in the tests take milliseconds.
      const queue = sqliteJobQueue({ path, pollMs: 20, ...options });
      queues.push(queue);
      return queue;
    },
    async expireLease(id) {
      const db = new DatabaseSync(path);
      try {
        db.exec('PRAGMA busy_timeout = 5000');
        db.prepare('UPDATE jobs SET lease_until = 0 WHERE id = ?').run(id);
      } finally {
        db.close();
      }
    },
    async dispose() {
      await Promise.all(queues.map((queue) => queue.close()));
      rmSync(dir, { recursive: true, force: true });
    }
  };
});
