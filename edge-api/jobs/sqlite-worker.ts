import { randomUUID } from 'node:crypto';
import { HandlerRuns, type HandlerRun, type RunOutcome } from './handler-runs.ts';
import type { JobHandler, RunningWorker, WorkerOptions } from './job-queue.ts';
import type { QueueSettings } from './queue-settings.ts';
import { toJobRecord, type JobRow } from './sqlite-rows.ts';
import type { RunEnd, SqliteJobStore } from './sqlite-store.ts';
import { backoffDelay, type BackoffOptions } from '../../src/lib/core/backoff.ts';
import { isFinalJobState } from '../../src/lib/core/edge-wire.ts';

/** What a worker shares with the queue that started it. */
export interface SqliteWorkerContext {
  store: SqliteJobStore;
  settings: QueueSettings;
  /** The idle wait between looks for jobs enqueued by other processes. */
  pollMs: number;
  /** Tells this process's followers about a change the worker made. */
  publish(row: JobRow): void;
  /** Wakes the other workers, here and in other processes: a job was re-queued or a slot freed. */
  claimable(): void;
}

/** A timer that can be cut short: the worker sleeps on it and an enqueue (here or in another process) wakes it. */
class Wakeup {
  #wake: (() => void) | undefined;
  #pending = false;

  sleep(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wake(), ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  wake(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    if (wake) {
      wake();
    } else {
      this.#pending = true;
    }
  }
}

function runEnd(
  outcome: Exclude<RunOutcome, { kind: 'lost' | 'handback' }>,
  attempt: number,
  backoff: BackoffOptions,
  now: number
): RunEnd {
  switch (outcome.kind) {
    case 'completed':
      return { state: 'completed', result: outcome.result };
    case 'failed':
      return { state: 'failed', error: outcome.error };
    case 'cancelled':
      return { state: 'cancelled' };
    case 'retry':
      return { state: 'queued', runAt: now + backoffDelay(attempt - 1, backoff) };
  }
}

/**
 * Runs jobs from the SQLite queue in this process: claims as many as it has free slots (best
 * priority first), keeps their leases alive while they run, notices cancels requested from any
 * process when it renews them, and re-queues jobs whose worker died (their lease expired).
 */
export class SqliteWorker implements RunningWorker {
  /** Its running handlers, for an in-process cancel to reach. */
  readonly runs = new HandlerRuns();
  readonly #context: SqliteWorkerContext;
  readonly #handlers: Record<string, JobHandler>;
  readonly #options: WorkerOptions;
  readonly #wakeup = new Wakeup();
  readonly #heartbeat: NodeJS.Timeout;
  readonly #loop: Promise<void>;
  #closing = false;

  constructor(context: SqliteWorkerContext, handlers: Record<string, JobHandler>, options: WorkerOptions) {
    this.#context = context;
    this.#handlers = handlers;
    this.#options = options;
    // Also how soon a cancel from another process reaches the handler: at most a second.
    const heartbeatMs = Math.min(context.settings.leaseMs / 3, 1000);
    this.#heartbeat = setInterval(() => this.#renewLeases(), heartbeatMs);
    this.#loop = this.#claimLoop();
  }

  /** A job may be claimable (enqueued, re-queued, a tenant's slot freed): look now rather than at the next poll. */
  wake(): void {
    this.#wakeup.wake();
  }

  async close(graceMs = 10_000): Promise<void> {
    this.#closing = true;
    this.#wakeup.wake();
    await this.#loop;
    await this.runs.drain(graceMs);
    clearInterval(this.#heartbeat);
  }

  async #claimLoop(): Promise<void> {
    const { store, settings, pollMs } = this.#context;
    const types = Object.keys(this.#handlers);
    let recoveredAt = 0;
    while (!this.#closing) {
      try {
        const now = Date.now();
        if (now - recoveredAt >= pollMs) {
          recoveredAt = now;
          const recovered = store.recoverExpired(now);
          recovered.forEach((row) => this.#context.publish(row));
          if (recovered.length > 0) {
            this.#context.claimable();
          }
        }
        const free = this.#options.concurrency - this.runs.size;
        if (free > 0) {
          const claimed = store.claim(types, free, randomUUID(), settings.leaseMs, now, settings.maxRunningPerTenant);
          for (const row of claimed) {
            this.#context.publish(row);
            void this.runs
              .track(toJobRecord(row), row.lease_token!, (run) => this.#run(run))
              .then(
                () => this.#wakeup.wake(),
                (error: unknown) => settings.onError(error)
              );
          }
        }
      } catch (error) {
        settings.onError(error);
      }
      await this.#wakeup.sleep(pollMs);
    }
  }

  async #run(run: HandlerRun): Promise<void> {
    const { store, settings } = this.#context;
    const { id } = run.job;
    const outcome = await run.execute(this.#handlers[run.job.type]!, async (fraction, message) => {
      const row = store.progress(id, run.lease, fraction, message);
      if (row) {
        this.#context.publish(row);
      }
    });
    if (outcome.kind === 'lost') {
      return;
    }
    const now = Date.now();
    const row =
      outcome.kind === 'handback'
        ? store.release(id, run.lease, now)
        : store.finish(id, run.lease, runEnd(outcome, run.job.attempts, settings.retryBackoff, now), now);
    if (row) {
      this.#context.publish(row);
      this.#context.claimable();
      if (isFinalJobState(row.state)) {
        this.#options.onFinished?.(toJobRecord(row));
      }
    }
  }

  #renewLeases(): void {
    const { store, settings } = this.#context;
    for (const run of this.runs.values()) {
      try {
        const renewal = store.renew(run.job.id, run.lease, settings.leaseMs, Date.now());
        if (renewal === 'lost') {
          run.abort('lease_lost');
        } else if (renewal === 'cancel_requested') {
          run.abort('cancelled');
        }
      } catch (error) {
        settings.onError(error);
      }
    }
  }
}
