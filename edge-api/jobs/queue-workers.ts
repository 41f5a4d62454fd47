import type { AbortCause, HandlerRuns } from './handler-runs.ts';
import type { RunningWorker } from './job-queue.ts';

interface Worker {
  readonly runs: HandlerRuns;
  close(graceMs?: number): Promise<void>;
}

/** The workers one queue handle started: a cancel reaches their runs, and closing the queue stops them. */
export class QueueWorkers<W extends Worker> {
  readonly #workers = new Set<W>();

  /** Registers a started worker; its `close()` also forgets it. */
  add(worker: W): RunningWorker {
    this.#workers.add(worker);
    return {
      close: async (graceMs) => {
        await worker.close(graceMs);
        this.#workers.delete(worker);
      }
    };
  }

  /** Aborts the job's handler if one of these workers runs it. */
  abort(id: string, cause: AbortCause): void {
    this.#workers.forEach((worker) => worker.runs.get(id)?.abort(cause));
  }

  forEach(visit: (worker: W) => void): void {
    this.#workers.forEach(visit);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#workers].map((worker) => worker.close()));
    this.#workers.clear();
  }
}
