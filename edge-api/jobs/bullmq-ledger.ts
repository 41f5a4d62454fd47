import type { Redis } from 'ioredis';
import type { JobRecord } from './job-queue.ts';

/** What admitting a job found. */
export type Admission = { kind: 'created' } | { kind: 'existing'; id: string } | { kind: 'refused' };

/** Whether a job a worker took may run: `wait` while its tenant is at its cap, `cancelled` when a cancel came first. */
export type Start = 'run' | 'wait' | 'cancelled';

// Digits of a held job's place in its tenant's list, in front of its id in the held set.
const PLACE_DIGITS = 15;

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

// A tenant's held set: its jobs parked in BullMQ's delayed set until one of its running slots
// frees. Scored by BullMQ's priority (lower first); members of one score sort as text, so each
// starts with the job's place in its tenant's list, zero-padded: the oldest first.
const HELD = `local function heldMember(list, id)
  return string.format('%0${PLACE_DIGITS}d:', tonumber(redis.call('ZSCORE', list, id)) or 0) .. id
end`;

// Takes the tenant's best held job out of its held set, for the caller to promote, if the tenant
// has a free slot. After COMMON (for its `running`).
const NEXT_HELD = `local function nextHeld(runningSet, held, cap)
  if running(runningSet) >= tonumber(cap) then
    return false
  end
  local member = redis.call('ZPOPMIN', held)[1]
  return member and string.sub(member, ${PLACE_DIGITS + 2})
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

// KEYS: active set, running set, cancel flag, held set, tenant's list.
// ARGV: (common), id, cap, starts channel.
// A job held back gives back the start BullMQ counted when it handed the job over (attempts count
// runs), so that waiting for a slot never uses up its attempts. A job a worker holds is never
// held (its recheck delay may have brought it back): a later end must not promote it, out of
// a retry's backoff perhaps. A start is announced: BullMQ has no event for it, and whoever read
// the job since BullMQ's `active` event saw it queued.
const START = `${COMMON}
${HELD}
local id = ARGV[4]
redis.call('ZREM', KEYS[4], heldMember(KEYS[5], id))
if redis.call('EXISTS', KEYS[3]) == 1 then
  return 'cancelled'
end
local count = running(KEYS[2])
if redis.call('SISMEMBER', KEYS[2], id) == 1 or count < tonumber(ARGV[5]) then
  redis.call('SADD', KEYS[2], id)
  redis.call('PUBLISH', ARGV[6], id)
  return 'run'
end
local job = ARGV[1] .. id
if redis.call('HINCRBY', job, 'ats', -1) == 0 then
  redis.call('HDEL', job, 'processedOn')
end
return 'wait'`;

// KEYS: active set, running set, held set, tenant's list, cancel flag, BullMQ's delayed set.
// ARGV: (common), id, cap, BullMQ priority.
// Records a job as held once its worker parked it (delayed), not as its start answers `wait`: a
// promotion before then would be refused, the job still being active. A slot that freed in
// between is found here instead: this returns the job to promote then (the tenant's best held
// one). It returns the job itself when a cancel came first, for its next start to end it (a
// cancel after this finds it held).
const HOLD = `${COMMON}
${HELD}
${NEXT_HELD}
local id = ARGV[4]
if redis.call('EXISTS', KEYS[5]) == 1 then
  return id
end
-- Not delayed any more: removed by a cancel meanwhile.
if redis.call('ZSCORE', KEYS[6], id) then
  redis.call('ZADD', KEYS[3], ARGV[6], heldMember(KEYS[4], id))
end
return nextHeld(KEYS[2], KEYS[3], ARGV[5])`;

// KEYS: active set, running set, held set. ARGV: (common), cap.
const PROMOTABLE = `${COMMON}
${NEXT_HELD}
return nextHeld(KEYS[2], KEYS[3], ARGV[4])`;

// KEYS: cancel flag, held set, tenant's list. ARGV: id, retention ms.
// Returns 1 when the job was held, for the caller to promote it: its next start ends it.
const CANCEL = `${HELD}
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
return redis.call('ZREM', KEYS[2], heldMember(KEYS[3], ARGV[1]))`;

// KEYS: active set, idempotency key, cancelled set, held set, tenant's list.
// ARGV: id, retention ms, has key, cancelled at.
// The idempotency key lives while the job is active, then for the retention period. A job
// cancelled while it was held leaves its held set.
const SETTLE = `${HELD}
redis.call('ZREM', KEYS[4], heldMember(KEYS[5], ARGV[1]))
redis.call('ZREM', KEYS[1], ARGV[1])
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
  ledgerStart: { numberOfKeys: 5, lua: START },
  ledgerHold: { numberOfKeys: 6, lua: HOLD },
  ledgerPromotable: { numberOfKeys: 3, lua: PROMOTABLE },
  ledgerCancel: { numberOfKeys: 3, lua: CANCEL },
  ledgerSettle: { numberOfKeys: 5, lua: SETTLE },
  ledgerRollback: { numberOfKeys: 3, lua: ROLLBACK },
  ledgerSweep: { numberOfKeys: 4, lua: SWEEP }
};

type LedgerClient = Redis & Record<keyof typeof COMMANDS, Script>;

const SWEEP_BATCH = 500;

/**
 * The adapter's own small Redis keys beside BullMQ's (which has no notion of tenants): each
 * tenant's job list (for `list`), active set (for the backlog cap), running and held sets (for
 * the cap on running jobs), idempotency keys, cancel flags and the records of cancelled jobs.
 * Every multi-key change is one Lua script, so atomic.
 */
export class BullmqLedger {
  readonly #client: LedgerClient;
  readonly #base: string;
  readonly #jobPrefix: string;
  readonly #delayed: string;
  readonly #retentionMs: number;
  /** The pub/sub channel on which cancels of running jobs are announced (payload: the job id). */
  readonly cancelChannel: string;
  /** The pub/sub channel on which jobs that took a running slot are announced (payload: the job id). */
  readonly startChannel: string;

  constructor(client: Redis, bullPrefix: string, queueName: string, retentionMs: number) {
    for (const [name, definition] of Object.entries(COMMANDS)) {
      client.defineCommand(name, definition);
    }
    this.#client = client as LedgerClient;
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
