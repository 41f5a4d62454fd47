import { randomUUID } from 'node:crypto';
import type { JobQueue, JobQueueOptions } from './job-queue.ts';
import { decodeCursor, encodeCursor } from './list-cursor.ts';
import { checkPageLimit, queueSettings, validRequest } from './queue-settings.ts';
import { openJobDatabase, type Synchronous } from './sqlite-database.ts';
import { SqliteFeed } from './sqlite-feed.ts';
import { toJobRecord, type JobRow } from './sqlite-rows.ts';
import { SqliteJobStore } from './sqlite-store.ts';
import { SqliteWorker } from './sqlite-worker.ts';
import { QueueWorkers } from './queue-workers.ts';
import { WakeSockets, wakeFolder } from './wake-sockets.ts';

/** Options of `sqliteJobQueue`. */
export interface SqliteJobQueueOptions extends JobQueueOptions {
  /** The database file, e.g. `${DATA_DIR}/jobs.sqlite`; it and its folder are created when missing. */
  path: string;
  /**
   * How long an idle worker waits before looking for jobs again (other processes wake it when
   * they enqueue: this is the safety net for a lost wake), and how often followed jobs are
   * checked for changes made by another process. Default 100 ms.
   */
  pollMs?: number;
  /** Default `normal`: an accepted job survives any process crash; `full` also survives power loss. */
  synchronous?: Synchronous;
}

/**
 * The embedded job queue (the default: nothing to run beside the API): one SQLite file that the
 * API process and any `npm run worker` processes on the same machine open together. Claims take
 * a lease with a fencing token, so a worker that stalled past its lease can never record an
 * outcome for a job another worker re-ran. Workers in other processes are woken over Unix
 * domain sockets beside the file when a job becomes claimable (see `WakeSockets`).
 */
export function sqliteJobQueue(options: SqliteJobQueueOptions): JobQueue {
  const settings = queueSettings(options);
  const pollMs = options.pollMs ?? 100;
  const db = openJobDatabase(options.path, options.synchronous ?? 'normal');
  const store = new SqliteJobStore(db);
  const feed = new SqliteFeed(store, pollMs, settings.onError);
  const workers = new QueueWorkers<SqliteWorker>();
  const purger = setInterval(() => {
    try {
      store.purge(Date.now() - settings.retentionMs);
    } catch (error) {
      settings.onError(error);
    }
  }, settings.purgeEveryMs).unref();
  const publish = (row: JobRow) => feed.publish(row);
  const wakeSockets = new WakeSockets(wakeFolder(options.path), settings.onError);
  const wakeWorkers = () => workers.forEach((worker) => worker.wake());
  // A job was queued, or a run ended (freeing a tenant's slot): any idle worker may claim now.
  const claimable = () => {
    wakeWorkers();
    wakeSockets.notify();
  };

  return {
    adapter: 'sqlite',
    async enqueue(request) {
      const { row, created } = store.enqueue(
        { ...validRequest(request), id: randomUUID() },
        { maxQueued: settings.maxQueuedPerTenant, retentionMs: settings.retentionMs },
        Date.now()
      );
      if (created) {
        claimable();
      }
      return { job: toJobRecord(row), created };
    },

    async get(tenant, id) {
      const row = store.get(tenant, id);
      return row ? toJobRecord(row) : null;
    },

    async list(tenant, { limit, cursor, state }) {
      checkPageLimit(limit);
      const before = cursor === undefined ? Number.MAX_SAFE_INTEGER : decodeCursor(cursor);
      const rows = store.page(tenant, before, limit + 1, state ?? null);
      const page = rows.slice(0, limit);
      return { jobs: page.map(toJobRecord), next: rows.length > limit ? encodeCursor(page.at(-1)!.seq) : null };
    },

    async cancel(tenant, id) {
      const row = store.cancel(tenant, id, Date.now());
      if (!row) {
        return null;
      }
      publish(row);
      if (row.cancel_requested) {
        // A handler in this process hears at once; one elsewhere at its worker's next heartbeat.
        workers.abort(id, 'cancelled');
      }
      return toJobRecord(row);
    },

    subscribe: (tenant, id, listener) => feed.follow(tenant, id, listener),

    work(handlers, workerOptions) {
      wakeSockets.listen(wakeWorkers);
      const worker = new SqliteWorker({ store, settings, pollMs, publish, claimable }, handlers, workerOptions);
      return workers.add(worker);
    },

    async counts() {
      return store.counts();
    },

    async close() {
      await workers.closeAll();
      wakeSockets.close();
      clearInterval(purger);
      feed.close();
      db.close();
    }
  };
}
