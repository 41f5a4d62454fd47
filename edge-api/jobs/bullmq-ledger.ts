import type { Redis } from 'ioredis';
import type { JobRecord } from './job-queue.ts';
import { luaCommands } from './lua-scripts.ts';

/** What admitting a job found. */
export type Admission = { kind: 'created' } | { kind: 'existing'; id: string } | { kind: 'refused' };

/** Whether a job a worker took may run: `wait` while its tenant is at its cap, `cancelled` when a cancel came first. */
export type Start = 'run' | 'wait' | 'cancelled';

// How long an admitted job may take to appear in BullMQ (admission and `add` are two steps).
const PENDING_MS = 30_000;

/**
 * Every multi-key change, as one Lua script in lua/ (whose header lists its KEYS and ARGV); those
 * that include common.lua take its ARGV[1..3] from `#common()`. Some read or write BullMQ's own
 * keys (job hashes, locks, the delayed set): tests/edge-api/jobs/bullmq-internals.test.ts guards
 * each of those, so a BullMQ upgrade that changes them fails there.
 */
const defineLedgerCommands = luaCommands({
  ledgerAdmit: 'admit-5.lua',
  ledgerStart: 'start-5.lua',
  ledgerHold: 'hold-6.lua',
  ledgerPromotable: 'promotable-3.lua',
  ledgerCancel: 'cancel-3.lua',
  ledgerSettle: 'settle-5.lua',
  ledgerRollback: 'rollback-3.lua',
  ledgerSweep: 'sweep-4.lua'
});

const SWEEP_BATCH = 500;

/**
 * The adapter's own small Redis keys beside BullMQ's (which has no notion of tenants): each
 * tenant's job list (for `list`), active set (for the backlog cap), running and held sets (for
 * the cap on running jobs), idempotency keys, cancel flags and the records of cancelled jobs.
 * Every multi-key change is one Lua script, so atomic.
 */
export class BullmqLedger {
  readonly #client: ReturnType<typeof defineLedgerCommands>;
  readonly #base: string;
  readonly #jobPrefix: string;
  readonly #delayed: string;
  readonly #retentionMs: number;
  /** The pub/sub channel on which cancels of running jobs are announced (payload: the job id). */
  readonly cancelChannel: string;
  /** The pub/sub channel on which jobs that took a running slot are announced (payload: the job id). */
  readonly startChannel: string;

  constructor(client: Redis, bullPrefix: string, queueName: string, retentionMs: number) {
    this.#client = defineLedgerCommands(client);
    this.#jobPrefix = `${bullPrefix}:${queueName}:`;
    this.#delayed = `${this.#jobPrefix}delayed`;
    this.#base = `${bullPrefix}:${queueName}:vision-hub`;
    this.#retentionMs = retentionMs;
    this.cancelChannel = `${this.#base}:cancels`;
    this.startChannel = `${this.#base}:starts`;
  }

  /** Checks the idempotency key and the cap, then records the new job `id` as the tenant's. */
  async admit(id: string, tenant: string, idempotencyKey: string | undefined, cap: number): Promise<Admission> {
    const [kind, existing] = (await this.#client.ledgerAdmit(
      this.#active(tenant),
      this.#keyOf(tenant, idempotencyKey),
      this.#list(tenant),
      `${this.#base}:seq`,
      `${this.#base}:tenants`,
      ...this.#common(),
      id,
      cap,
      tenant,
      idempotencyKey === undefined ? 0 : 1
    )) as [Admission['kind'], string];
    return kind === 'existing' ? { kind, id: existing } : { kind };
  }

  /**
   * Takes one of the tenant's `cap` running slots for a job a worker was just handed (holding
   * BullMQ's lock on it). A slot is held for as long as that lock lives, so it is freed when the
   * job leaves the active state, and when its worker dies: the lock expires with the lease.
   */
  async startRun(id: string, tenant: string, cap: number): Promise<Start> {
    return (await this.#client.ledgerStart(
      this.#active(tenant),
      this.#running(tenant),
      this.#cancelFlag(id),
      this.#held(tenant),
      this.#list(tenant),
      ...this.#common(),
      id,
      cap,
      this.startChannel
    )) as Start;
  }

  /**
   * Records as held a job whose start answered `wait`, once its worker parked it in BullMQ's
   * delayed set. Returns a job to promote, if any: the tenant's best held one when one of its
   * slots is free (a run ended meanwhile), or this one when a cancel came first.
   */
  async hold(id: string, tenant: string, cap: number, bullPriority: number): Promise<string | null> {
    return (await this.#client.ledgerHold(
      this.#active(tenant),
      this.#running(tenant),
      this.#held(tenant),
      this.#list(tenant),
      this.#cancelFlag(id),
      this.#delayed,
      ...this.#common(),
      id,
      cap,
      bullPriority
    )) as string | null;
  }

  /** Takes the tenant's best held job off the held set, for the caller to promote, when one of its slots is free. */
  async nextHeld(tenant: string, cap: number): Promise<string | null> {
    return (await this.#client.ledgerPromotable(
      this.#active(tenant),
      this.#running(tenant),
      this.#held(tenant),
      ...this.#common(),
      cap
    )) as string | null;
  }

  /** Whether the job holds one of its tenant's running slots. */
  async isRunning(tenant: string, id: string): Promise<boolean> {
    return (await this.#client.sismember(this.#running(tenant), id)) === 1;
  }

  /** Undoes an admission whose job BullMQ could not add. */
  async rollback(id: string, tenant: string, idempotencyKey: string | undefined): Promise<void> {
    await this.#client.ledgerRollback(
      this.#active(tenant),
      this.#list(tenant),
      this.#keyOf(tenant, idempotencyKey),
      id,
      idempotencyKey === undefined ? 0 : 1
    );
  }

  /** Records that a job reached a final state: it leaves the cap, its idempotency key starts to age. */
  async settle(job: JobRecord): Promise<void> {
    await this.#client.ledgerSettle(
      this.#active(job.tenant),
      this.#keyOf(job.tenant, job.idempotencyKey),
      `${this.#base}:cancelled`,
      this.#held(job.tenant),
      this.#list(job.tenant),
      job.id,
      this.#retentionMs,
      job.idempotencyKey === undefined ? 0 : 1,
      job.state === 'cancelled' ? job.finishedAt! : ''
    );
  }

  /**
   * Flags a job a worker has for cancel and tells the process running it. True when the job was
   * held instead (parked since): then it is no longer, and the caller must promote it.
   */
  async requestCancel(id: string, tenant: string): Promise<boolean> {
    const held = await this.#client.ledgerCancel(
      this.#cancelFlag(id),
      this.#held(tenant),
      this.#list(tenant),
      id,
      this.#retentionMs
    );
    await this.#client.publish(this.cancelChannel, id);
    return held === 1;
  }

  /** Whether a cancel was requested while the job ran. */
  async cancelRequested(id: string): Promise<boolean> {
    return (await this.#client.exists(this.#cancelFlag(id))) === 1;
  }

  /** Keeps the record of a cancelled job once BullMQ forgets the job. */
  async keepCancelled(job: JobRecord): Promise<void> {
    await this.#client.set(this.#cancelled(job.id), JSON.stringify(job), 'PX', this.#retentionMs);
  }

  /** Drops a cancel record written for a job that turned out to be running already. */
  async forgetCancelled(id: string): Promise<void> {
    await this.#client.del(this.#cancelled(id));
  }

  /** The record of a cancelled job BullMQ no longer has. */
  async cancelledRecord(id: string): Promise<JobRecord | null> {
    const json = await this.#client.get(this.#cancelled(id));
    return json === null ? null : (JSON.parse(json) as JobRecord);
  }

  /** Cancelled jobs still within retention. */
  async cancelledCount(now: number): Promise<number> {
    const set = `${this.#base}:cancelled`;
    await this.#client.zremrangebyscore(set, '-inf', now - this.#retentionMs);
    return this.#client.zcard(set);
  }

  /** Up to `count` of the tenant's job ids listed before position `before`, newest first. */
  async page(tenant: string, before: number, count: number): Promise<{ id: string; position: number }[]> {
    const flat = await this.#client.zrevrangebyscore(
      this.#list(tenant),
      `(${before}`,
      '-inf',
      'WITHSCORES',
      'LIMIT',
      0,
      count
    );
    const page = [];
    for (let i = 0; i < flat.length; i += 2) {
      page.push({ id: flat[i]!, position: Number(flat[i + 1]) });
    }
    return page;
  }

  /** Drops from the tenants' lists the jobs that no longer exist (purged by retention), and ended runs from their running sets. */
  async sweep(): Promise<void> {
    const tenants = `${this.#base}:tenants`;
    for (const tenant of await this.#client.smembers(tenants)) {
      for (let start = 0; ;) {
        const [seen, removed] = (await this.#client.ledgerSweep(
          this.#active(tenant),
          this.#list(tenant),
          tenants,
          this.#running(tenant),
          ...this.#common(),
          tenant,
          start,
          SWEEP_BATCH
        )) as [number, number];
        if (seen < SWEEP_BATCH) {
          break;
        }
        start += seen - removed;
      }
    }
  }

  #common(): (string | number)[] {
    return [this.#jobPrefix, `${this.#base}:cancelled:`, PENDING_MS];
  }

  #keyOf(tenant: string, idempotencyKey: string | undefined): string {
    // The tenant's length keeps tenant "a:b" with key "c" apart from tenant "a" with key "b:c".
    // Scripts always take this key; without an idempotency key it is never read or written.
    return `${this.#base}:key:${tenant.length}:${tenant}:${idempotencyKey ?? ''}`;
  }

  #active(tenant: string): string {
    return `${this.#base}:active:${tenant}`;
  }

  #running(tenant: string): string {
    return `${this.#base}:running:${tenant}`;
  }

  #held(tenant: string): string {
    return `${this.#base}:held:${tenant}`;
  }

  #list(tenant: string): string {
    return `${this.#base}:jobs:${tenant}`;
  }

  #cancelFlag(id: string): string {
    return `${this.#base}:cancel:${id}`;
  }

  #cancelled(id: string): string {
    return `${this.#base}:cancelled:${id}`;
  }
}
