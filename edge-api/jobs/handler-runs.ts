import { PermanentJobError, type JobError, type JobHandler, type JobRecord } from './job-queue.ts';

/** Why a running handler's signal was aborted. */
export type AbortCause = 'cancelled' | 'lease_lost' | 'shutdown';

/** How a run ended, as the adapter must record it. */
export type RunOutcome =
  | { kind: 'completed'; result: unknown }
  | { kind: 'retry'; error: JobError }
  | { kind: 'failed'; error: JobError }
  | { kind: 'cancelled' }
  /** The lease was lost: another worker owns the job now, nothing may be recorded. */
  | { kind: 'lost' }
  /** The worker is closing and its grace ran out: give the job back for another worker. */
  | { kind: 'handback' };

/** The error of a job whose last allowed run was interrupted by a crash, a stall or a shutdown. */
export const STALLED: JobError = {
  code: 'stalled',
  message: 'The job was interrupted (its worker crashed, stalled or shut down) and has no attempts left'
};

const ABORT_MESSAGES: Record<AbortCause, string> = {
  cancelled: 'The job was cancelled',
  lease_lost: "The worker lost the job's lease",
  shutdown: 'The worker is shutting down'
};

const ERROR_CODE = /^[\w.-]{1,64}$/;

/** `Promise.withResolvers`, which the edge API's ES2023 lib does not declare yet. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/** A thrown value as a job error: its message, and its `code` when it has a sensible one. */
export function toJobError(error: unknown): JobError {
  if (!(error instanceof Error)) {
    return { message: String(error), code: 'job_failed' };
  }
  const code: unknown = (error as { code?: unknown }).code;
  return { message: error.message, code: typeof code === 'string' && ERROR_CODE.test(code) ? code : 'job_failed' };
}

/** One handler running one job, with the abort signal it is given and the reason it was aborted. */
export class HandlerRun {
  readonly job: JobRecord;
  /** The claim's fencing token (BullMQ's lock token): writes about this run must present it. */
  readonly lease: string;
  readonly #controller = new AbortController();
  readonly #shutdown = deferred();
  #cause: AbortCause | undefined;

  constructor(job: JobRecord, lease: string) {
    this.job = job;
    this.lease = lease;
  }

  /** Aborts the handler's signal; the first cause wins. */
  abort(cause: AbortCause): void {
    if (this.#cause) {
      return;
    }
    this.#cause = cause;
    this.#controller.abort(new DOMException(ABORT_MESSAGES[cause], 'AbortError'));
    if (cause === 'shutdown') {
      this.#shutdown.resolve();
    }
  }

  /**
   * Runs the handler and says how the run ended. A shutdown does not wait for the handler to
   * notice its signal: the job is handed back at once and the handler's late outcome dropped.
   */
  async execute(
    handler: JobHandler,
    reportProgress: (fraction: number, message?: string) => Promise<void>
  ): Promise<RunOutcome> {
    const signal = this.#controller.signal;
    const context = {
      signal,
      attempt: this.job.attempts,
      // Once aborted, the job may belong to another worker already: its progress is not ours to set.
      progress: (fraction: number, message?: string) =>
        signal.aborted ? Promise.resolve() : reportProgress(fraction, message)
    };
    const abandoned = this.#shutdown.promise.then(() => ({ abandoned: true as const }));
    try {
      const settled = await Promise.race([handler(this.job, context).then((result) => ({ result })), abandoned]);
      return 'result' in settled ? this.#ended({ kind: 'completed', result: settled.result }) : { kind: 'handback' };
    } catch (error) {
      const final = error instanceof PermanentJobError || this.job.attempts >= this.job.maxAttempts;
      return this.#ended({ kind: final ? 'failed' : 'retry', error: toJobError(error) });
    }
  }

  #ended(outcome: RunOutcome): RunOutcome {
    switch (this.#cause) {
      case 'cancelled':
        return { kind: 'cancelled' };
      case 'lease_lost':
        return { kind: 'lost' };
      case 'shutdown':
        return { kind: 'handback' };
      default:
        return outcome;
    }
  }
}

/** The runs of one worker: lets a cancel or a lost lease reach a handler, and `close` wait for them. */
export class HandlerRuns {
  readonly #runs = new Map<string, HandlerRun>();
  #emptied = deferred();

  /** How many are running. */
  get size(): number {
    return this.#runs.size;
  }

  /** The run of the job `id`, if it runs here. */
  get(id: string): HandlerRun | undefined {
    return this.#runs.get(id);
  }

  /** The runs in progress. */
  values(): IterableIterator<HandlerRun> {
    return this.#runs.values();
  }

  /** Tracks a run of `job` while `work` handles it (run, then record the outcome). */
  async track(job: JobRecord, lease: string, work: (run: HandlerRun) => Promise<void>): Promise<void> {
    const run = new HandlerRun(job, lease);
    this.#runs.set(job.id, run);
    try {
      await work(run);
    } finally {
      this.#runs.delete(job.id);
      if (this.#runs.size === 0) {
        this.#emptied.resolve();
        this.#emptied = deferred();
      }
    }
  }

  /** Waits for the runs to end; after `graceMs`, aborts those left so that they hand their jobs back. */
  async drain(graceMs: number): Promise<void> {
    if (this.#runs.size === 0) {
      return;
    }
    const emptied = this.#emptied.promise;
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace over'>((resolve) => {
      timer = setTimeout(() => resolve('grace over'), graceMs);
    });
    const first = await Promise.race([emptied, graceOver]);
    clearTimeout(timer);
    if (first === 'grace over') {
      for (const run of this.#runs.values()) {
        run.abort('shutdown');
      }
      await emptied;
    }
  }
}
