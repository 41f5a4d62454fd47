import type { Context, MiddlewareHandler } from 'hono';
import type { Config } from '../config.ts';
import { tooManyRequests } from '../http/errors.ts';
import type { Logger } from '../http/logger.ts';
import type { AuthEnv, Principal } from './principal.ts';
import { redisBucketStore } from './redis-bucket-store.ts';
import { memoryBucketStore, type BucketLimits, type BucketStore, type TakeResult } from './token-bucket.ts';

/** Tokens a request takes: a number, or decided per request (e.g. by route or body size). */
export type RequestCost = number | ((c: Context<AuthEnv>) => number);

export interface RateLimitOptions {
  /** `memoryBucketStore()` for one node, `redisBucketStore()` to share limits between nodes. */
  store: BucketStore;
  /** Requests a tenant may make at once: the bucket's capacity (`RATE_LIMIT_BURST`). */
  burst: number;
  /** Sustained requests per second: the refill rate (`RATE_LIMIT_PER_SECOND`). */
  perSecond: number;
  /** Tokens one request takes (default 1); heavy routes cost more from the same per-tenant bucket. */
  cost?: RequestCost;
  /** Where an unreachable store is reported. */
  log: Pick<Logger, 'warn'>;
}

/** While the store is down every request fails open; one warning per interval is enough to see it. */
const STORE_WARNING_INTERVAL_MS = 10_000;

/**
 * Per-tenant token bucket, keyed by `principal.tenant`: mount after `authenticate()`. A refused
 * request is a 429 in the OpenAI error shape with `Retry-After` (seconds until it would be
 * admitted); every limited response carries `RateLimit-Limit`, `RateLimit-Remaining` and
 * `RateLimit-Reset` (seconds until the bucket is full again).
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler<AuthEnv> {
  const { store, burst, perSecond, cost = 1 } = options;
  checkLimits(burst, perSecond);
  if (typeof cost === 'number') {
    checkCost(cost, burst);
  }
  const limits: BucketLimits = { capacity: burst, refillPerSecond: perSecond };
  const storeFailed = storeFailureReporter(options.log);

  return async (c, next) => {
    // Typed as always set, but only if authenticate() ran first: a wiring mistake must not pass silently.
    const principal = c.get('principal') as Principal | undefined;
    if (!principal) {
      throw new Error('rateLimit() needs the principal: mount it after authenticate()');
    }
    const price = typeof cost === 'number' ? cost : checkCost(cost(c), burst);
    let result: TakeResult;
    try {
      result = await store.take(principal.tenant, price, limits);
    } catch (error) {
      // Deliberately fail open: a limiter whose store is down must not take the API down with it.
      // The cost is unlimited traffic for as long as the outage lasts, which the warning makes visible.
      storeFailed(error, principal.tenant);
      await next();
      return;
    }
    const headers = rateLimitHeaders(result.tokens, limits);
    if (!result.allowed) {
      const retryAfterS = (price - result.tokens) / perSecond;
      const error = tooManyRequests(
        `Rate limit exceeded: ${burst} requests at once, ${perSecond} per second; retry in ${Math.max(1, Math.ceil(retryAfterS))} s`,
        retryAfterS
      );
      Object.assign(error.headers, headers);
      throw error;
    }
    // Before the route runs: headers added once a response exists make Hono rebuild it.
    for (const [name, value] of Object.entries(headers)) {
      c.header(name, value);
    }
    await next();
  };
}

function checkLimits(burst: number, perSecond: number): void {
  if (!(Number.isFinite(burst) && burst > 0 && Number.isFinite(perSecond) && perSecond > 0)) {
    throw new RangeError('Rate limit burst and per-second rate must be positive numbers');
  }
}

function checkCost(cost: number, burst: number): number {
  if (!(Number.isFinite(cost) && cost > 0 && cost <= burst)) {
    // A cost above the burst could never be paid: every such request would be refused forever.
    throw new RangeError(`Rate limit cost must be positive and at most the burst (${burst}), got ${cost}`);
  }
  return cost;
}

function rateLimitHeaders(tokens: number, limits: BucketLimits): Record<string, string> {
  return {
    'ratelimit-limit': String(limits.capacity),
    'ratelimit-remaining': String(Math.max(0, Math.floor(tokens))),
    'ratelimit-reset': String(Math.max(0, Math.ceil((limits.capacity - tokens) / limits.refillPerSecond)))
  };
}

function storeFailureReporter(log: Pick<Logger, 'warn'>) {
  let lastWarningAt = -Infinity;
  let unlimited = 0;
  return (error: unknown, tenant: string) => {
    unlimited += 1;
    const now = performance.now();
    if (now - lastWarningAt < STORE_WARNING_INTERVAL_MS) {
      return;
    }
    log.warn('Rate limit store unavailable: requests pass unlimited', {
      detail: error instanceof Error ? error.message : String(error),
      tenant,
      unlimitedSinceLastWarning: unlimited
    });
    lastWarningAt = now;
    unlimited = 0;
  };
}

export interface RateLimiter {
  /** The per-tenant limit as middleware: mount it after `authenticate()`. */
  middleware: MiddlewareHandler<AuthEnv>;
  /** Closes the store's Redis connection, if any. */
  close(): Promise<void>;
}

/**
 * The limiter the environment asks for: buckets in Redis when `REDIS_URL` is set (shared by
 * every node), else in this process's memory; `RATE_LIMIT_BURST` and `RATE_LIMIT_PER_SECOND`.
 */
export function rateLimitFromConfig(
  config: Config,
  log: Pick<Logger, 'warn'>,
  options: { cost?: RequestCost } = {}
): RateLimiter {
  const redis = config.REDIS_URL ? redisBucketStore({ url: config.REDIS_URL }) : undefined;
  const middleware = rateLimit({
    store: redis ?? memoryBucketStore(),
    burst: config.RATE_LIMIT_BURST,
    perSecond: config.RATE_LIMIT_PER_SECOND,
    cost: options.cost,
    log
  });
  return { middleware, close: async () => redis?.close() };
}
