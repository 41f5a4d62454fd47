/** What became of an offered item. */
export type Offered<T> =
  | { outcome: 'started' }
  | { outcome: 'waiting' }
  /** It waits in place of `dropped`, which will never run. */
  | { outcome: 'replaced'; dropped: T };

/**
 * Runs one item at a time, with at most one more waiting: an item offered while one runs takes
 * the waiting place, dropping whatever waited there. For live camera frames, where only the newest
 * is worth analysing: however fast frames come, the work queued stays one item, so an answer is
 * never more than two analyses behind the scene.
 */
export class LatestWinsSlot<T> {
  readonly #run: (item: T) => Promise<void>;
  #running = false;
  #waiting: { item: T } | null = null;
  #idle: Promise<void> = Promise.resolve();
  #settle: () => void = () => undefined;

  /** `run`'s rejections are its own to report: the slot goes on with the next item either way. */
  constructor(run: (item: T) => Promise<void>) {
    this.#run = run;
  }

  /** Whether an item is being run now. */
  get running(): boolean {
    return this.#running;
  }

  /** Whether an item waits for the running one to finish. */
  get waiting(): boolean {
    return this.#waiting !== null;
  }

  offer(item: T): Offered<T> {
    if (!this.#running) {
      this.#start(item);
      return { outcome: 'started' };
    }
    const previous = this.#waiting;
    this.#waiting = { item };
    return previous ? { outcome: 'replaced', dropped: previous.item } : { outcome: 'waiting' };
  }

  /** Drops the waiting item, if any (the running one finishes); returns it. */
  clear(): T | undefined {
    const previous = this.#waiting;
    this.#waiting = null;
    return previous?.item;
  }

  /** Resolves once nothing runs and nothing waits. */
  idle(): Promise<void> {
    return this.#idle;
  }

  #start(item: T): void {
    this.#running = true;
    this.#idle = new Promise((resolve) => (this.#settle = resolve));
    void this.#loop(item);
  }

  async #loop(first: T): Promise<void> {
    let next: { item: T } | null = { item: first };
    while (next) {
      try {
        await this.#run(next.item);
      } catch {
        // Reported by `run`; one failed item must not stop the ones after it.
      }
      next = this.#waiting;
      this.#waiting = null;
    }
    this.#running = false;
    this.#settle();
  }
}
