import { releaseProxy, wrap, type Remote } from 'comlink';
import { reviveError, WorkerCrashError } from '#lib/core/errors.ts';

export type WorkerFactory = () => Worker;

export interface WorkerHandleOptions {
  /** Names the worker in its errors: "The `name` worker crashed: …". */
  name: string;
  /** Stops the worker after this long without a call; without it the worker runs until stopped. */
  idleMs?: number;
  /** Told whenever a worker of this handle ends (crash, idle stop or `stop()`), with why. */
  onStop?: (reason: Error) => void;
}

interface Running<Api> {
  worker: Worker;
  remote: Remote<Api>;
  /** Rejects when the worker dies or is stopped, so no call waits forever on a dead worker. */
  ended: Promise<never>;
  end: (reason: Error) => void;
}

/**
 * One comlink worker at a time: spawned by `factory` on the first call, stopped when idle or on
 * demand, and never reused after it crashed or was stopped (the next call spawns a fresh one).
 * Every call races the worker's end and gets its errors back as the classes their names name.
 */
export class WorkerHandle<Api> {
  #factory: WorkerFactory;
  #options: WorkerHandleOptions;
  #running: Running<Api> | null = null;
  #calls = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(factory: WorkerFactory, options: WorkerHandleOptions) {
    this.#factory = factory;
    this.#options = options;
  }

  /** Whether a worker is up now (a call would not have to spawn one). */
  get running(): boolean {
    return this.#running !== null;
  }

  /** Runs `use` against the worker, spawning one if none runs; rejects if the worker ends first. */
  async call<T>(use: (remote: Remote<Api>) => Promise<T>): Promise<T> {
    const running = this.#running ?? this.#spawn();
    this.#calls += 1;
    clearTimeout(this.#idleTimer);
    try {
      return await Promise.race([use(running.remote), running.ended]);
    } catch (error) {
      throw reviveError(error);
    } finally {
      this.#calls -= 1;
      this.#armIdle();
    }
  }

  /** Terminates the worker (if any); calls still waiting on it reject with `reason`. */
  stop(reason: Error = new WorkerCrashError(`The ${this.#options.name} worker was stopped`)): void {
    clearTimeout(this.#idleTimer);
    const running = this.#running;
    if (!running) {
      return;
    }
    this.#running = null;
    running.end(reason);
    running.remote[releaseProxy]();
    running.worker.terminate();
    this.#options.onStop?.(reason);
  }

  #spawn(): Running<Api> {
    const worker = this.#factory();
    let end: (reason: Error) => void = () => undefined;
    const ended = new Promise<never>((_, reject) => (end = reject));
    ended.catch(() => undefined);
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      const crash = new WorkerCrashError(
        `The ${this.#options.name} worker crashed: ${event.message || 'unknown error'}`
      );
      if (this.#running?.worker === worker) {
        this.stop(crash);
      }
      end(crash);
    });
    this.#running = { worker, remote: wrap<Api>(worker), ended, end };
    return this.#running;
  }

  #armIdle(): void {
    clearTimeout(this.#idleTimer);
    const { idleMs } = this.#options;
    if (idleMs !== undefined && this.#calls === 0 && this.#running) {
      this.#idleTimer = setTimeout(() => this.stop(), idleMs);
    }
  }
}
