import { Redis, type RedisStatus } from 'ioredis';
import type { BucketLimits, BucketStore, TakeResult } from './token-bucket.ts';

/**
 * Refill, take and save in one script, so concurrent requests from every API node see each
 * other's takes (a GET then SET from two nodes would both admit the last token). Time comes from
 * the server's `TIME` so nodes with skewed clocks agree, unless the caller passes `now` (tests).
 * `%.17g` keeps fractional tokens exact: Lua numbers returned as such are truncated to integers.
 * The key expires once the bucket would be full again, when it is the same as no key at all.
 *
 * KEYS[1] bucket hash {tokens, at}; ARGV capacity, refill per second, cost, now in ms or ''.
 */
const TAKE_SCRIPT = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if not tokens or not at then
  tokens = capacity
  at = now
end
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate / 1000)
at = math.max(at, now)
local allowed = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.17g', at))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate * 1000) + 1000)
return { allowed, string.format('%.17g', tokens) }
`;

interface BucketCommands {
  takeTokens(key: string, capacity: number, rate: number, cost: number, now: string): Promise<[number, string]>;
}

export interface RedisBucketStoreOptions {
  /** `redis://` or `rediss://` (`REDIS_URL`). */
  url: string;
  /** Namespace of the bucket keys; a key per tenant follows it. */
  keyPrefix?: string;
  /** How long a request may wait on Redis before it is let through unlimited. */
  commandTimeoutMs?: number;
  /** Milliseconds; omitted: the Redis server's clock, shared by every node. */
  now?: () => number;
}

export interface RedisBucketStore extends BucketStore {
  close(): Promise<void>;
}

/** Not connected and not about to be: a command would only sit in the offline queue. */
const DOWN: ReadonlySet<RedisStatus> = new Set(['reconnecting', 'close', 'end']);

/**
 * Buckets shared by every API node through Redis. The store owns its connection, tuned to fail
 * fast: while Redis is down `take` rejects at once (the middleware then fails open), and a
 * stalled server costs a request at most `commandTimeoutMs`. Commands sent while the first
 * connection is still being made wait for it, so a freshly started node limits from the start.
 */
export function redisBucketStore(options: RedisBucketStoreOptions): RedisBucketStore {
  const prefix = options.keyPrefix ?? 'vision-hub:rate:';
  const redis = new Redis(options.url, {
    commandTimeout: options.commandTimeoutMs ?? 250,
    maxRetriesPerRequest: 1,
    scripts: { takeTokens: { numberOfKeys: 1, lua: TAKE_SCRIPT } }
  }) as Redis & BucketCommands;
  // Without a listener ioredis prints every reconnect failure; the middleware logs failed takes.
  redis.on('error', () => undefined);

  return {
    async take(key: string, cost: number, limits: BucketLimits): Promise<TakeResult> {
      if (DOWN.has(redis.status)) {
        throw new Error(`Redis is unreachable (${redis.status})`);
      }
      const now = options.now ? String(options.now()) : '';
      const [allowed, tokens] = await redis.takeTokens(
        prefix + key,
        limits.capacity,
        limits.refillPerSecond,
        cost,
        now
      );
      return { allowed: allowed === 1, tokens: Number(tokens) };
    },
    async close() {
      if (DOWN.has(redis.status)) {
        // QUIT would wait for a reconnection that may never come.
        redis.disconnect();
        return;
      }
      await redis.quit();
    }
  };
}
