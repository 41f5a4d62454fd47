import { ErrorCode, type Queue } from 'bullmq';
import type { BullmqLedger, Start } from './bullmq-ledger.ts';
import { toBullPriority, type BullJob, type JobData } from './bullmq-records.ts';

/**
 * The cap on each tenant's running jobs, which BullMQ (no per-tenant concurrency) knows nothing
 * of. A worker handed a job of a tenant at its cap parks it in BullMQ's delayed set, recorded as
 * held; every end of a run of that tenant promotes its best held job. So a held job starts as
 * soon as a slot frees, and no worker looks at it in the meantime.
 */
export class TenantSlots {
  readonly #ledger: BullmqLedger;
  readonly #queue: Queue<JobData, unknown>;
  readonly #cap: number;
  readonly #recheckMs: number;
  readonly #onError: (error: unknown) => void;

  /** `recheckMs`: how long a job stays parked should its promotion be lost (a worker died in between). */
  constructor(
    ledger: BullmqLedger,
    queue: Queue<JobData, unknown>,
    cap: number,
    recheckMs: number,
    onError: (error: unknown) => void
  ) {
    this.#ledger = ledger;
    this.#queue = queue;
    this.#cap = cap;
    this.#recheckMs = recheckMs;
    this.#onError = onError;
  }

  /**
   * Takes a slot of the job's tenant for a job a worker was handed (holding BullMQ's lock on it).
   * On `wait` the job is parked: the worker must leave it to BullMQ.
   */
  async take(job: BullJob, token: string): Promise<Start> {
    const start = await this.#ledger.startRun(job.id!, job.data.tenant, this.#cap);
    if (start === 'wait') {
      await job.moveToDelayed(Date.now() + this.#recheckMs, token);
      // The job is no longer the worker's: a failure from here on is only reported, and the
      // recheck brings the job back.
      await this.#hold(job).catch(this.#onError);
    }
    return start;
  }

  /** Promotes the tenant's best held job if it has a free slot: due once a run of the tenant ended (its lock is gone). */
  async freed(tenant: string): Promise<void> {
    await this.#promoteFrom(tenant, await this.#ledger.nextHeld(tenant, this.#cap));
  }

  /** Promotes a job taken off the held set by a cancel, for its next start to end it. */
  async promoteCancelled(tenant: string, id: string): Promise<void> {
    await this.#promoteFrom(tenant, id);
  }

  async #hold(job: BullJob): Promise<void> {
    const { tenant, priority } = job.data;
    await this.#promoteFrom(tenant, await this.#ledger.hold(job.id!, tenant, this.#cap, toBullPriority(priority)));
  }

  /**
   * Promotes `id`; when it is no longer delayed (cancelled, or brought back by its recheck), the
   * tenant's next best held job in its place, so that a freed slot is never left unused.
   */
  async #promoteFrom(tenant: string, id: string | null): Promise<void> {
    let next = id;
    while (next !== null && !(await this.#promote(next))) {
      next = await this.#ledger.nextHeld(tenant, this.#cap);
    }
  }

  /** Whether the job was delayed, and is waiting now. */
  async #promote(id: string): Promise<boolean> {
    try {
      await this.#queue.getBackend().promote(id);
      return true;
    } catch (error) {
      if ((error as { code?: unknown }).code === ErrorCode.JobNotInState) {
        return false;
      }
      throw error;
    }
  }
}
