import { workOf } from '#lib/core/edge-outbox.ts';
import type { EdgeJob } from '#lib/db/index.ts';

/** What the outbox works with: the jobs as last stored, the network, and the work itself. */
export interface OutboxHost {
  /** Every job this device keeps, as last stored. */
  jobs(): readonly EdgeJob[];
  online(): boolean;
  /** One send round: the outbox's jobs that are due, every one of them with `force`. */
  sendRound(options: { force: boolean }): Promise<void>;
  /** Follows a sent job to its end and keeps its report. */
  follow(job: EdgeJob, signal: AbortSignal): Promise<void>;
  /** A failure of work nobody waits for (a round, a follower): the user hears of it here. */
  onError(error: unknown): void;
}

/**
 * Drives the outbox: sends what is due, one round at a time; follows every job still running,
 * one follower per job; and wakes up when the earliest job that failed may be tried again. Plain
 * TypeScript without runes, so whatever wakes the app (a page, the network, Background Sync) can
 * drive it.
 */
export class EdgeOutbox {
  readonly #host: OutboxHost;
  #sending: Promise<boolean> | null = null;
  /** A sync asked for while a send round ran: one more round after it, forced if any such call was. */
  #again: { force: boolean } | null = null;
  #followers = new Map<string, AbortController>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(host: OutboxHost) {
    this.#host = host;
  }

  /**
   * Sends what is due (everything with `force`), then follows every job still running. One send
   * round at a time; a call meanwhile asks for another round after it, forced if the call was.
   */
  async sync(options: { force?: boolean } = {}): Promise<void> {
    if (!this.#host.online()) {
      return;
    }
    const force = options.force ?? false;
    if (this.#sending) {
      this.#again = { force: force || (this.#again?.force ?? false) };
      await this.#sending;
      return;
    }
    this.#sending = this.#sendRounds(force);
    let forced: boolean;
    try {
      forced = await this.#sending;
    } finally {
      this.#sending = null;
    }
    const now = Date.now();
    for (const job of this.#host.jobs()) {
      const work = workOf(job);
      if ((work === 'follow' || work === 'report') && (forced || job.retryAt <= now)) {
        this.watch(job.id, (signal) => this.#host.follow(job, signal));
      }
    }
    this.schedule();
  }

  /** Send rounds until no sync asks for another; whether any of them was forced. */
  async #sendRounds(force: boolean): Promise<boolean> {
    let forced = false;
    for (let round: { force: boolean } | null = { force }; round; round = this.#again) {
      const options = round;
      this.#again = null;
      forced ||= options.force;
      await this.#host.sendRound(options).catch((error: unknown) => this.#host.onError(error));
    }
    return forced;
  }

  /** Runs `work` for one job (sent from here or elsewhere) unless it already runs; at most one follower per job. */
  watch(key: string, work: (signal: AbortSignal) => Promise<unknown>): void {
    if (this.#followers.has(key)) {
      return;
    }
    const controller = new AbortController();
    this.#followers.set(key, controller);
    void work(controller.signal)
      .catch((error: unknown) => this.#host.onError(error))
      .finally(() => {
        // A follower that was stopped may already have a successor under its key.
        if (this.#followers.get(key) === controller) {
          this.#followers.delete(key);
        }
        this.schedule();
      });
  }

  /** Stops the followers of these jobs, e.g. because they were removed and nothing is left to store in. */
  stop(keys: Iterable<string>): void {
    for (const key of keys) {
      this.#followers.get(key)?.abort();
      this.#followers.delete(key);
    }
  }

  /** Stops every follower, e.g. because they hold a server or credentials that changed. */
  stopAll(): void {
    this.stop([...this.#followers.keys()]);
  }

  /** Wakes up when the earliest job with work left that nothing follows may be tried again. */
  schedule(): void {
    clearTimeout(this.#timer);
    const waiting = this.#host.jobs().filter((job) => workOf(job) !== null && !this.#followers.has(job.id));
    if (waiting.length > 0) {
      const next = Math.min(...waiting.map((job) => job.retryAt));
      this.#timer = setTimeout(() => void this.sync(), Math.max(1_000, next - Date.now()));
    }
  }
}
