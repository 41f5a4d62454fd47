import type { JobEvent, JobRecord } from './job-queue.ts';

type Listener = (event: JobEvent) => void;

interface Follower {
  listener: Listener;
  /** Whether it has been told the job as it was when it started following. */
  greeted: boolean;
}

/**
 * What a follower should hear about a job going from `before` to `after`: a state event when
 * its state, attempt or cancel flag changed, a progress event when only its progress did,
 * nothing when it looks the same (feeds that re-read a job on every hint repeat themselves).
 */
export function changeKind(before: JobRecord, after: JobRecord): JobEvent['kind'] | null {
  if (
    before.state !== after.state ||
    before.attempts !== after.attempts ||
    before.cancelRequested !== after.cancelRequested
  ) {
    return 'state';
  }
  if (before.progress.fraction !== after.progress.fraction || before.progress.message !== after.progress.message) {
    return 'progress';
  }
  return null;
}

/**
 * The followers of each job in this process, and the job as they last saw it. A new follower
 * first hears the job as it is (a `state` event, told on a later tick, never inside `add`),
 * then each change, in order.
 */
export class JobFollowers {
  readonly #followers = new Map<string, Set<Follower>>();
  readonly #seen = new Map<string, JobRecord>();
  readonly #onError: (error: unknown) => void;

  constructor(onError: (error: unknown) => void) {
    this.#onError = onError;
  }

  /** The ids of the jobs someone follows. */
  get ids(): string[] {
    return [...this.#followers.keys()];
  }

  /** Adds a follower of `job`, as read when it started following; returns its removal. */
  add(job: JobRecord, listener: Listener): () => void {
    let followers = this.#followers.get(job.id);
    if (!followers) {
      followers = new Set();
      this.#followers.set(job.id, followers);
      this.#seen.set(job.id, job);
    }
    const follower: Follower = { listener, greeted: false };
    followers.add(follower);
    queueMicrotask(() => this.#greet(follower, job.id));
    return () => {
      followers.delete(follower);
      if (followers.size === 0 && this.#followers.get(job.id) === followers) {
        this.#followers.delete(job.id);
        this.#seen.delete(job.id);
      }
    };
  }

  /** Tells the job's followers, if it has any and it changed since they last saw it. */
  publish(job: JobRecord): void {
    const followers = this.#followers.get(job.id);
    const seen = this.#seen.get(job.id);
    const kind = seen && changeKind(seen, job);
    if (!followers || !kind) {
      return;
    }
    this.#seen.set(job.id, job);
    for (const follower of [...followers]) {
      if (follower.greeted) {
        this.#tell(follower, { kind, job });
      } else {
        this.#greet(follower, job.id);
      }
    }
  }

  #greet(follower: Follower, id: string): void {
    const job = this.#seen.get(id);
    if (follower.greeted || !job || !this.#followers.get(id)?.has(follower)) {
      return;
    }
    follower.greeted = true;
    this.#tell(follower, { kind: 'state', job });
  }

  #tell(follower: Follower, event: JobEvent): void {
    try {
      follower.listener(event);
    } catch (error) {
      this.#onError(error);
    }
  }
}
