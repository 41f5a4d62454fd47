import type { JobEvent, JobRecord } from './job-queue.ts';

type Listener = (event: JobEvent) => void;

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

/** The followers of each job in this process, and the job as they last saw it. */
export class JobFollowers {
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #seen = new Map<string, JobRecord>();
  readonly #onError: (error: unknown) => void;

  constructor(onError: (error: unknown) => void) {
    this.#onError = onError;
  }

  /** The ids of the jobs someone follows. */
  get ids(): string[] {
    return [...this.#listeners.keys()];
  }

  /** Adds a follower of `job`, which it has seen as given; returns its removal. */
  add(job: JobRecord, listener: Listener): () => void {
    const listeners = this.#listeners.get(job.id) ?? new Set();
    if (listeners.size === 0) {
      this.#listeners.set(job.id, listeners);
      this.#seen.set(job.id, job);
    }
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.#listeners.get(job.id) === listeners) {
        this.#listeners.delete(job.id);
        this.#seen.delete(job.id);
      }
    };
  }

  /** Tells the job's followers, if it has any and it changed since they last saw it. */
  publish(job: JobRecord): void {
    const listeners = this.#listeners.get(job.id);
    const seen = this.#seen.get(job.id);
    const kind = seen && changeKind(seen, job);
    if (!listeners || !kind) {
      return;
    }
    this.#seen.set(job.id, job);
    for (const listener of [...listeners]) {
      try {
        listener({ kind, job });
      } catch (error) {
        this.#onError(error);
      }
    }
  }
}
