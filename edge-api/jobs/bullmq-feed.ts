import type { QueueEvents } from 'bullmq';
import { JobFollowers } from './job-followers.ts';
import type { JobEvent, JobRecord } from './job-queue.ts';

/** Every BullMQ event that may change what a follower sees of a job (each carries its `jobId`). */
export const HINTS = ['active', 'progress', 'completed', 'failed', 'waiting', 'delayed', 'removed', 'stalled'] as const;

/**
 * Job events for followers in this process, from BullMQ's event stream (so from every
 * process): each event of a followed job is a hint to read the job again, and followers are
 * told when what they see changed. Reads of one job are chained, so events keep their order.
 */
export class BullmqFeed {
  readonly #read: (tenant: string, id: string) => Promise<JobRecord | null>;
  readonly #openEvents: () => Promise<QueueEvents>;
  readonly #onError: (error: unknown) => void;
  readonly #followers: JobFollowers;
  readonly #tenants = new Map<string, string>();
  readonly #reads = new Map<string, Promise<void>>();
  #events: Promise<QueueEvents> | undefined;
  /** The event stream once it is open: closing never waits for one still opening (Redis may never come). */
  #open: QueueEvents | undefined;
  #closed = false;

  constructor(
    read: (tenant: string, id: string) => Promise<JobRecord | null>,
    openEvents: () => Promise<QueueEvents>,
    onError: (error: unknown) => void
  ) {
    this.#read = read;
    this.#openEvents = openEvents;
    this.#onError = onError;
    this.#followers = new JobFollowers(onError);
  }

  /** See `JobQueue.subscribe`. */
  follow(tenant: string, id: string, listener: (event: JobEvent) => void): () => void {
    let unfollow: (() => void) | undefined;
    let stopped = false;
    // Listening first, then reading the job: no change can fall between the two.
    void this.#listen()
      .then(() => this.#read(tenant, id))
      .then((job) => {
        if (job && !stopped) {
          this.#tenants.set(id, tenant);
          unfollow = this.#followers.add(job, listener);
        }
      })
      .catch(this.#onError);
    return () => {
      stopped = true;
      unfollow?.();
      if (!this.#followers.ids.includes(id)) {
        this.#tenants.delete(id);
      }
    };
  }

  /** A hint that the job may have changed (from an event, or from this process). */
  hint(id: string): void {
    const tenant = this.#tenants.get(id);
    if (tenant === undefined) {
      return;
    }
    const read = (this.#reads.get(id) ?? Promise.resolve())
      .then(() => this.#read(tenant, id))
      .then((job) => {
        if (job) {
          this.#followers.publish(job);
        }
      })
      .catch(this.#onError);
    this.#reads.set(id, read);
    void read.finally(() => {
      if (this.#reads.get(id) === read) {
        this.#reads.delete(id);
      }
    });
  }

  /** Stops listening once the reads under way are done. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#reads.values());
    await this.#open?.close();
  }

  #listen(): Promise<QueueEvents> {
    if (this.#events) {
      return this.#events;
    }
    const opening = this.#openEvents().then(async (events) => {
      if (this.#closed) {
        await events.close();
        throw new Error('The job queue was closed while its event stream opened');
      }
      this.#open = events;
      const hint = ({ jobId }: { jobId: string }) => this.hint(jobId);
      for (const name of HINTS) {
        events.on(name, hint);
      }
      return events;
    });
    this.#events = opening;
    // Forgotten once it fails (Redis went away meanwhile), so that later followers try again
    // instead of every one failing for as long as the process runs.
    void opening.catch(() => {
      if (this.#events === opening && !this.#closed) {
        this.#events = undefined;
      }
    });
    return opening;
  }
}
