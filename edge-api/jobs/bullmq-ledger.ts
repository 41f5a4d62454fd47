import type { Redis } from 'ioredis';
import type { JobRecord } from './job-queue.ts';

/** What admitting a job found. */
export type Admission = { kind: 'created' } | { kind: 'existing'; id: string } | { kind: 'refused' };

/** Whether a job a worker took may run: `wait` while its tenant is at its cap, `cancelled` when a cancel came first. */
export type Start = 'run' | 'wait' | 'cancelled';

// How long an admitted job may take to appear in BullMQ (admission and `add` are two steps).
const PENDING_MS = 30_000;

// Shared by the scripts. KEYS[1] is always the tenant's active set: job id -> admission time.
// ARGV[1..3]: BullMQ's job key prefix, the cancelled records' prefix, PENDING_MS.
const COMMON = `local time = redis.call('TIME')
local now = time[1] * 1000 + math.floor(time[2] / 1000)
local function adding(id)
  local admitted = redis.call('ZSCORE', KEYS[1], id)
  return admitted and now - tonumber(admitted) < tonumber(ARGV[3])
end
local function exists(id)
  return redis.call('EXISTS', ARGV[1] .. id, ARGV[2] .. id) > 0 or adding(id)
end
local function ended(id)
  local job = ARGV[1] .. id
  if redis.call('EXISTS', job) == 1 then
    return redis.call('HEXISTS', job, 'finishedOn') == 1
  end
  return not adding(id)
end
local function running(set)
  for _, id in ipairs(redis.call('SMEMBERS', set)) do
    if redis.call('EXISTS', ARGV[1] .. id .. ':lock') == 0 then
      redis.call('SREM', set, id)
    end
  end
  return redis.call('SCARD', set)
end`;

// KEYS: active set, idempotency key, tenant's list, sequence, tenants.
// ARGV: (common), id, cap, tenant, has key.
// The active set may keep ids whose end was never recorded (a worker died in between): at the
// cap it is reconciled against BullMQ before anyone is refused.
const ADMIT = `${COMMON}
if ARGV[7] == '1' then
  local existing = redis.call('GET', KEYS[2])
  if existing and exists(existing) then
    return {'existing', existing}
  end
end
local cap = tonumber(ARGV[5])
if redis.call('ZCARD', KEYS[1]) >= cap then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    if ended(id) then
      redis.call('ZREM', KEYS[1], id)
    end
  end
  if redis.call('ZCARD', KEYS[1]) >= cap then
    return {'refused', ''}
  end
end
local id = ARGV[4]
redis.call('ZADD', KEYS[1], now, id)
redis.call('ZADD', KEYS[3], redis.call('INCR', KEYS[4]), id)
redis.call('SADD', KEYS[5], ARGV[6])
if ARGV[7] == '1' then
  redis.call('SET', KEYS[2], id)
end
return {'created', id}`;

// KEYS: active set, running set, cancel flag. ARGV: (common), id, cap.
// A job held back gives back the start BullMQ counted when it handed the job over (attempts count
// runs), so that waiting for a slot never uses up its attempts.
const START = `${COMMON}
local id = ARGV[4]
if redis.call('EXISTS', KEYS[3]) == 1 then
  return 'cancelled'
end
local count = running(KEYS[2])
if redis.call('SISMEMBER', KEYS[2], id) == 1 or count < tonumber(ARGV[5]) then
  redis.call('SADD', KEYS[2], id)
  return 'run'
end
local job = ARGV[1] .. id
if redis.call('HINCRBY', job, 'ats', -1) == 0 then
  redis.call('HDEL', job, 'processedOn')
end
return 'wait'`;

// KEYS: active set, idempotency key, cancelled set. ARGV: id, retention ms, has key, cancelled at.
// The idempotency key lives while the job is active, then for the retention period.
const SETTLE = `redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[3] == '1' and redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
if ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
end`;

// KEYS: active set, list, idempotency key. ARGV: id, has key.
const ROLLBACK = `redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] == '1' and redis.call('GET', KEYS[3]) == ARGV[1] then
  redis.call('DEL', KEYS[3])
end`;

// KEYS: active set, tenant's list, tenants, running set. ARGV: (common), tenant, start, count.
const SWEEP = `${COMMON}
running(KEYS[4])
local ids = redis.call('ZRANGE', KEYS[2], ARGV[5], ARGV[5] + ARGV[6] - 1)
local removed = 0
for _, id in ipairs(ids) do
  if not exists(id) then
    redis.call('ZREM', KEYS[2], id)
    removed = removed + 1
  end
end
if redis.call('ZCARD', KEYS[2]) == 0 then
  redis.call('SREM', KEYS[3], ARGV[4])
end
return {#ids, removed}`;

type Script = (...keysThenArgs: (string | number)[]) => Promise<unknown>;

/** The scripts as commands of the client: ioredis runs them by hash, sending them again after a Redis restart. */
const COMMANDS = {
  ledgerAdmit: { numberOfKeys: 5, lua: ADMIT },
  ledgerStart: { numberOfKeys: 3, lua: START },
  ledgerSettle: { numberOfKeys: 3, lua: SETTLE },
  ledgerRollback: { numberOfKeys: 3, lua: ROLLBACK },
  ledgerSweep: { numberOfKeys: 4, lua: SWEEP }
};

type LedgerClient = Redis & Record<keyof typeof COMMANDS, Script>;

const SWEEP_BATCH = 500;

/**
 * The adapter's own small Redis keys beside BullMQ's (which has no notion of tenants): each
 * tenant's job list (for `list`), active set (for the backlog cap), running set (for the cap on
 * running jobs), idempotency keys, cancel flags and the records of cancelled jobs. Every
 * multi-key change is one Lua script, so atomic.
 */
export class BullmqLedger {
  readonly #client: LedgerClient;
  readonly #base: string;
  readonly #jobPrefix: string;
  readonly #retentionMs: number;
  /** The pub/sub channel on which cancels of running jobs are announced (payload: the job id). */
  readonly cancelChannel: string;

  constructor(client: Redis, bullPrefix: string, queueName: string, retentionMs: number) {
    for (const [name, definition] of Object.entries(COMMANDS)) {
      client.defineCommand(name, definition);
    }
    this.#client = client as LedgerClient;
    this.#jobPrefix = `${bullPrefix}:${queueName}:`;
    this.#base = `${bullPrefix}:${queueName}:vision-hub`;
    this.#retentionMs = retentionMs;
    this.cancelChannel = `${this.#base}:cancels`;
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
      ...this.#common(),
      id,
      cap
    )) as Start;
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
      job.id,
      this.#retentionMs,
      job.idempotencyKey === undefined ? 0 : 1,
      job.state === 'cancelled' ? job.finishedAt! : ''
    );
  }

  /** Flags a running job for cancel and tells the process running it. */
  async requestCancel(id: string): Promise<void> {
    await this.#client.set(this.#cancelFlag(id), '1', 'PX', this.#retentionMs);
    await this.#client.publish(this.cancelChannel, id);
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
