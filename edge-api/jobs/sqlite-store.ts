import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { inTransaction } from './sqlite-database.ts';
import { STALLED } from './handler-runs.ts';
import { TenantJobLimitError, type JobError, type JobState } from './job-queue.ts';
import type { ValidRequest } from './queue-settings.ts';
import type { JobRow } from './sqlite-rows.ts';

/** What a finished run leaves: a final state, or `queued` again (a retry) not before `runAt`. */
export type RunEnd =
  | { state: 'completed'; result: unknown }
  | { state: 'failed'; error: JobError }
  | { state: 'cancelled' }
  | { state: 'queued'; runAt: number };

/** What a lease renewal found. */
export type Renewal = 'renewed' | 'cancel_requested' | 'lost';

// A cancel requested while the job ran always wins over how the run ended.
const FINISH = `UPDATE jobs SET
  state = CASE WHEN cancel_requested THEN 'cancelled' ELSE :state END,
  result = CASE WHEN cancel_requested THEN NULL ELSE :result END,
  error_code = CASE WHEN cancel_requested THEN NULL ELSE :code END,
  error_message = CASE WHEN cancel_requested THEN NULL ELSE :message END,
  run_at = :run_at,
  finished_at = CASE WHEN cancel_requested OR :state <> 'queued' THEN :now END,
  lease_token = NULL, lease_until = NULL, version = version + 1
WHERE id = :id AND lease_token = :token AND state = 'running'
RETURNING *`;

// A run that ended without an outcome (crash, stall, shutdown) has counted as an attempt:
// the job runs again only while attempts are left.
const RELEASE = `state = CASE WHEN cancel_requested THEN 'cancelled' WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
  error_code = CASE WHEN cancel_requested OR attempts < max_attempts THEN NULL ELSE '${STALLED.code}' END,
  error_message = CASE WHEN cancel_requested OR attempts < max_attempts THEN NULL ELSE :message END,
  finished_at = CASE WHEN cancel_requested OR attempts >= max_attempts THEN :now END,
  run_at = :now, lease_token = NULL, lease_until = NULL, version = version + 1`;

const READY = `state = 'queued' AND run_at <= :now AND type IN (SELECT value FROM json_each(:types))`;

// The next job to run: the best ready one whose tenant is below its cap of running jobs. A run
// whose lease expired is over for the cap, even before recovery re-queues its job.
const NEXT = `SELECT seq FROM jobs AS candidate WHERE ${READY} AND (:cap IS NULL OR (
    SELECT count(*) FROM jobs WHERE tenant = candidate.tenant AND state = 'running' AND lease_until >= :now) < :cap)
  ORDER BY priority DESC, seq LIMIT 1`;

const SQL = {
  byId: 'SELECT * FROM jobs WHERE id = :id',
  byTenantAndId: 'SELECT * FROM jobs WHERE id = :id AND tenant = :tenant',
  byKey: 'SELECT * FROM jobs WHERE tenant = :tenant AND idempotency_key = :key',
  dropExpiredKey: 'DELETE FROM jobs WHERE tenant = :tenant AND idempotency_key = :key AND finished_at < :before',
  countQueued: `SELECT count(*) AS n FROM
    (SELECT 1 FROM jobs WHERE tenant = :tenant AND state IN ('queued', 'running') LIMIT :limit)`,
  insert: `INSERT INTO jobs (id, tenant, type, state, priority, input, max_attempts, idempotency_key, created_at, run_at)
    VALUES (:id, :tenant, :type, 'queued', :priority, :input, :max_attempts, :key, :now, :now) RETURNING *`,
  page: `SELECT * FROM jobs WHERE tenant = :tenant AND seq < :before AND (:state IS NULL OR state = :state)
    ORDER BY seq DESC LIMIT :limit`,
  next: NEXT,
  claim: `UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = :now,
      lease_token = :token, lease_until = :until, version = version + 1
    WHERE seq = (${NEXT}) RETURNING *`,
  renew: `UPDATE jobs SET lease_until = :until
    WHERE id = :id AND lease_token = :token AND state = 'running' AND lease_until >= :now
    RETURNING cancel_requested`,
  progress: `UPDATE jobs SET progress = :fraction, progress_message = :message, version = version + 1
    WHERE id = :id AND lease_token = :token AND state = 'running' RETURNING *`,
  finish: FINISH,
  release: `UPDATE jobs SET ${RELEASE} WHERE id = :id AND lease_token = :token AND state = 'running' RETURNING *`,
  anyExpired: `SELECT 1 FROM jobs WHERE state = 'running' AND lease_until < :now LIMIT 1`,
  recover: `UPDATE jobs SET ${RELEASE} WHERE state = 'running' AND lease_until < :now RETURNING *`,
  cancel: `UPDATE jobs SET
      state = CASE WHEN state = 'queued' THEN 'cancelled' ELSE state END,
      finished_at = CASE WHEN state = 'queued' THEN :now ELSE finished_at END,
      cancel_requested = CASE WHEN state = 'running' THEN 1 ELSE cancel_requested END,
      version = version + 1
    WHERE id = :id AND tenant = :tenant AND state IN ('queued', 'running') RETURNING *`,
  purge: 'DELETE FROM jobs WHERE finished_at < :before',
  versions: 'SELECT id, version FROM jobs WHERE id IN (SELECT value FROM json_each(:ids))',
  counts: 'SELECT state, count(*) AS n FROM jobs GROUP BY state'
} as const;

type Statement = keyof typeof SQL;

/** The SQL of the SQLite adapter: every statement prepared once, each write fenced where it must be. */
export class SqliteJobStore {
  readonly #db: DatabaseSync;
  readonly #statements: Record<Statement, StatementSync>;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#statements = Object.fromEntries(
      Object.entries(SQL).map(([name, text]) => [name, db.prepare(text)])
    ) as Record<Statement, StatementSync>;
  }

  /**
   * Stores a new job, or finds the tenant's job with the same idempotency key (one finished
   * longer than `retentionMs` ago no longer counts), all in one write transaction.
   */
  enqueue(
    request: ValidRequest & { id: string },
    limits: { maxQueued: number; retentionMs: number },
    now: number
  ): { row: JobRow; created: boolean } {
    const { tenant, idempotencyKey: key } = request;
    return inTransaction(this.#db, () => {
      if (key !== undefined) {
        this.#statements.dropExpiredKey.run({ tenant, key, before: now - limits.retentionMs });
        const existing = this.#row('byKey', { tenant, key });
        if (existing) {
          return { row: existing, created: false };
        }
      }
      const { n: queued } = this.#statements.countQueued.get({ tenant, limit: limits.maxQueued }) as { n: number };
      if (queued >= limits.maxQueued) {
        throw new TenantJobLimitError(tenant, limits.maxQueued);
      }
      const row = this.#row('insert', {
        id: request.id,
        tenant,
        type: request.type,
        priority: request.priority,
        input: JSON.stringify(request.input ?? null),
        max_attempts: request.maxAttempts,
        key: key ?? null,
        now
      });
      return { row: row!, created: true };
    });
  }

  /** The tenant's job (nothing for another tenant's id). */
  get(tenant: string, id: string): JobRow | undefined {
    return this.#row('byTenantAndId', { tenant, id });
  }

  /** Any tenant's job, for followers that already checked the tenant. */
  getById(id: string): JobRow | undefined {
    return this.#row('byId', { id });
  }

  /** Up to `limit` of the tenant's jobs older than position `before`, newest first. */
  page(tenant: string, before: number, limit: number, state: JobState | null): JobRow[] {
    return this.#statements.page.all({ tenant, before, limit, state }) as unknown as JobRow[];
  }

  /**
   * Claims up to `limit` ready jobs of the given types for `leaseMs`, best priority first, then
   * oldest, passing over those of tenants with `maxRunning` jobs running (null: no cap).
   */
  claim(
    types: string[],
    limit: number,
    token: string,
    leaseMs: number,
    now: number,
    maxRunning: number | null
  ): JobRow[] {
    const next = { now, types: JSON.stringify(types), cap: maxRunning };
    // A read first: an idle poll then never takes the write lock that other processes wait for.
    if (!this.#statements.next.get(next)) {
      return [];
    }
    // One at a time, so that each claim counts the runs the previous ones started.
    return inTransaction(this.#db, () => {
      const rows: JobRow[] = [];
      while (rows.length < limit) {
        const row = this.#row('claim', { ...next, token, until: now + leaseMs });
        if (!row) {
          break;
        }
        rows.push(row);
      }
      return rows;
    });
  }

  /** Extends a lease that has not expired yet: one that has may already be another worker's. */
  renew(id: string, token: string, leaseMs: number, now: number): Renewal {
    const row = this.#statements.renew.get({ id, token, now, until: now + leaseMs }) as
      { cancel_requested: number } | undefined;
    return !row ? 'lost' : row.cancel_requested ? 'cancel_requested' : 'renewed';
  }

  /** Records a running job's progress, if `token` still holds its lease. */
  progress(id: string, token: string, fraction: number, message: string | undefined): JobRow | undefined {
    return this.#row('progress', { id, token, fraction, message: message ?? null });
  }

  /** Records how a run ended, if `token` still holds the job's lease (else nothing happens). */
  finish(id: string, token: string, end: RunEnd, now: number): JobRow | undefined {
    return this.#row('finish', {
      id,
      token,
      now,
      state: end.state,
      // A handler that returned nothing leaves no result (not `null`), as with BullMQ.
      result: end.state === 'completed' && end.result != null ? JSON.stringify(end.result) : null,
      code: end.state === 'failed' ? end.error.code : null,
      message: end.state === 'failed' ? end.error.message : null,
      run_at: end.state === 'queued' ? end.runAt : now
    });
  }

  /** Gives a job back to the queue without an outcome (its worker is closing). */
  release(id: string, token: string, now: number): JobRow | undefined {
    return this.#row('release', { id, token, now, message: STALLED.message });
  }

  /** Re-queues (or fails, without attempts left) the jobs whose lease expired: their worker died or stalled. */
  recoverExpired(now: number): JobRow[] {
    if (!this.#statements.anyExpired.get({ now })) {
      return [];
    }
    return this.#statements.recover.all({ now, message: STALLED.message }) as unknown as JobRow[];
  }

  /** Cancels a queued job, flags a running one; returns the job as it is now (null: not the tenant's). */
  cancel(tenant: string, id: string, now: number): JobRow | undefined {
    return this.#row('cancel', { tenant, id, now }) ?? this.get(tenant, id);
  }

  /** Deletes the jobs that finished before `before`; returns how many. */
  purge(before: number): number {
    return Number(this.#statements.purge.run({ before }).changes);
  }

  /** The change counter of each of these jobs that still exists. */
  versions(ids: string[]): Map<string, number> {
    const rows = this.#statements.versions.all({ ids: JSON.stringify(ids) }) as { id: string; version: number }[];
    return new Map(rows.map((row) => [row.id, row.version]));
  }

  /** Jobs per state. */
  counts(): Record<JobState, number> {
    const counts: Record<JobState, number> = { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
    for (const { state, n } of this.#statements.counts.all() as { state: JobState; n: number }[]) {
      counts[state] = n;
    }
    return counts;
  }

  #row(statement: Statement, parameters: Record<string, string | number | null>): JobRow | undefined {
    return this.#statements[statement].get(parameters) as JobRow | undefined;
  }
}
