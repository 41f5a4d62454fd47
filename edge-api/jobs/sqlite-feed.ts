import { JobFollowers } from './job-followers.ts';
import type { JobEvent } from './job-queue.ts';
import { toJobRecord, type JobRow } from './sqlite-rows.ts';
import type { SqliteJobStore } from './sqlite-store.ts';

/**
 * Job events for followers in this process: changes made here are told at once; changes made
 * by other processes (workers) are found by polling the followed jobs' change counters, which
 * runs only while someone follows a job.
 */
export class SqliteFeed {
  readonly #store: SqliteJobStore;
  readonly #pollMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #followers: JobFollowers;
  readonly #versions = new Map<string, number>();
  #poller: NodeJS.Timeout | undefined;

  constructor(store: SqliteJobStore, pollMs: number, onError: (error: unknown) => void) {
    this.#store = store;
    this.#pollMs = pollMs;
    this.#onError = onError;
    this.#followers = new JobFollowers(onError);
  }

  /** See `JobQueue.subscribe`. */
  follow(tenant: string, id: string, listener: (event: JobEvent) => void): () => void {
    const row = this.#store.get(tenant, id);
    if (!row) {
      return () => {};
    }
    if (!this.#versions.has(id)) {
      this.#versions.set(id, row.version);
    }
    const unfollow = this.#followers.add(toJobRecord(row), listener);
    this.#poller ??= setInterval(() => this.#poll(), this.#pollMs).unref();
    return () => {
      unfollow();
      const followed = this.#followers.ids;
      if (!followed.includes(id)) {
        this.#versions.delete(id);
      }
      if (followed.length === 0) {
        this.close();
      }
    };
  }

  /** A job as this process just wrote it. */
  publish(row: JobRow): void {
    const seen = this.#versions.get(row.id);
    if (seen === undefined || row.version <= seen) {
      return;
    }
    this.#versions.set(row.id, row.version);
    this.#followers.publish(toJobRecord(row));
  }

  /** Stops polling for other processes' changes. */
  close(): void {
    clearInterval(this.#poller);
    this.#poller = undefined;
  }

  #poll(): void {
    try {
      for (const [id, version] of this.#store.versions([...this.#versions.keys()])) {
        const seen = this.#versions.get(id);
        if (seen !== undefined && version > seen) {
          const row = this.#store.getById(id);
          if (row) {
            this.publish(row);
          }
        }
      }
    } catch (error) {
      this.#onError(error);
    }
  }
}
