import { Hono } from 'hono';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleError, notFound } from '../../../edge-api/http/errors.ts';
import type { AuthEnv } from '../../../edge-api/security/principal.ts';
import { rateLimit, type RateLimitOptions } from '../../../edge-api/security/rate-limit.ts';
import { redisBucketStore, type RedisBucketStore } from '../../../edge-api/security/redis-bucket-store.ts';
import { memoryBucketStore, type BucketStore } from '../../../edge-api/security/token-bucket.ts';
import { freePort, startRedis, type RedisServer } from '../support/redis.ts';

interface Warning {
  message: string;
  fields?: Record<string, unknown>;
}

/** A tiny app: the tenant comes from a header (standing in for authenticate()), then the limiter. */
function appWith(options: Omit<RateLimitOptions, 'log'>, warnings: Warning[] = []) {
  const unexpected: unknown[] = [];
  const app = new Hono<AuthEnv>()
    .onError(handleError((error) => unexpected.push(error)))
    .use((c, next) => {
      c.set('principal', { tenant: c.req.header('x-tenant') ?? 'acme', subject: 'test', via: 'api-key' });
      return next();
    })
    .use(rateLimit({ ...options, log: { warn: (message, fields) => warnings.push({ message, fields }) } }))
    .get('/ok', (c) => c.json({ ok: true }))
    .get('/heavy', (c) => c.json({ ok: true }))
    .get('/missing', () => {
      throw notFound('nothing here');
    });
  return Object.assign(app, { unexpected });
}

const call = (app: Hono<AuthEnv>, tenant = 'acme', path = '/ok') =>
  app.request(path, { headers: { 'x-tenant': tenant } });

const statuses = async (app: Hono<AuthEnv>, count: number, tenant = 'acme') => {
  const result: number[] = [];
  for (let i = 0; i < count; i += 1) {
    result.push((await call(app, tenant)).status);
  }
  return result;
};

const rateHeaders = (res: Response) => ({
  limit: res.headers.get('ratelimit-limit'),
  remaining: res.headers.get('ratelimit-remaining'),
  reset: res.headers.get('ratelimit-reset')
});

/** A clock the test moves by hand, in milliseconds. */
function manualClock(start = 1_000_000) {
  let time = start;
  return { now: () => time, advance: (ms: number) => void (time += ms) };
}

/**
 * The same bucket arithmetic, whichever store holds the buckets: run once against memory and
 * once against a real Redis (the Lua script), both on an injected clock.
 */
function bucketMath(name: string, makeStore: (now: () => number) => BucketStore) {
  describe(`token bucket math (${name})`, () => {
    it('admits a burst, refuses the next request with Retry-After, then refills at the rate', async () => {
      const clock = manualClock();
      const app = appWith({ store: makeStore(clock.now), burst: 3, perSecond: 2 });
      const first = await call(app);
      expect(rateHeaders(first)).toEqual({ limit: '3', remaining: '2', reset: '1' });
      expect(await statuses(app, 2)).toEqual([200, 200]);

      const refused = await call(app);
      expect(refused.status).toBe(429);
      // One token at 2 per second is 0.5 s away: Retry-After rounds up to whole seconds.
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(rateHeaders(refused)).toEqual({ limit: '3', remaining: '0', reset: '2' });
      expect(await refused.json()).toEqual({
        error: {
          message: expect.stringContaining('Rate limit exceeded'),
          type: 'rate_limit_error',
          param: null,
          code: 'rate_limited'
        }
      });

      clock.advance(499);
      expect((await call(app)).status).toBe(429);
      clock.advance(1);
      expect(await statuses(app, 2)).toEqual([200, 429]);

      // Refill stops at the capacity however long the bucket sits idle.
      clock.advance(60_000);
      expect(await statuses(app, 4)).toEqual([200, 200, 200, 429]);
      expect(app.unexpected).toEqual([]);
    });

    it('says how long until a token in Retry-After, counting a partial refill', async () => {
      const clock = manualClock();
      const app = appWith({ store: makeStore(clock.now), burst: 1, perSecond: 0.25 });
      expect((await call(app)).status).toBe(200);
      expect((await call(app)).headers.get('retry-after')).toBe('4');
      clock.advance(1_000);
      const res = await call(app);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('3');
      clock.advance(3_000);
      expect((await call(app)).status).toBe(200);
    });

    it('keeps one bucket per tenant', async () => {
      const clock = manualClock();
      const app = appWith({ store: makeStore(clock.now), burst: 2, perSecond: 1 });
      expect(await statuses(app, 3, 'tenant-a')).toEqual([200, 200, 429]);
      expect(await statuses(app, 3, 'tenant-b')).toEqual([200, 200, 429]);
      expect((await call(app, 'tenant-a')).status).toBe(429);
    });

    it('charges heavy requests more from the same bucket', async () => {
      const clock = manualClock();
      const store = makeStore(clock.now);
      const app = appWith({ store, burst: 5, perSecond: 1, cost: (c) => (c.req.path === '/heavy' ? 2 : 1) });
      expect((await call(app, 'acme', '/heavy')).headers.get('ratelimit-remaining')).toBe('3');
      expect((await call(app, 'acme', '/heavy')).headers.get('ratelimit-remaining')).toBe('1');
      const refused = await call(app, 'acme', '/heavy');
      expect(refused.status).toBe(429);
      // One token left, two needed, one per second.
      expect(refused.headers.get('retry-after')).toBe('1');
      // The last token still pays for a light request.
      expect((await call(app, 'acme', '/ok')).status).toBe(200);
    });

    it('adds the headers to error responses from later handlers too', async () => {
      const clock = manualClock();
      const app = appWith({ store: makeStore(clock.now), burst: 10, perSecond: 1 });
      const res = await call(app, 'acme', '/missing');
      expect(res.status).toBe(404);
      expect(rateHeaders(res)).toEqual({ limit: '10', remaining: '9', reset: '1' });
    });
  });
}

bucketMath('memory', (now) => memoryBucketStore({ now }));

describe('rate limit middleware', () => {
  it('refuses a cost the burst could never pay, and non-positive limits', () => {
    const store = memoryBucketStore();
    const log = { warn: () => undefined };
    expect(() => rateLimit({ store, burst: 5, perSecond: 1, cost: 6, log })).toThrow(/at most the burst/);
    expect(() => rateLimit({ store, burst: 5, perSecond: 1, cost: 0, log })).toThrow(RangeError);
    expect(() => rateLimit({ store, burst: 0, perSecond: 1, log })).toThrow(RangeError);
    expect(() => rateLimit({ store, burst: 5, perSecond: Number.NaN, log })).toThrow(RangeError);
  });

  it('is a 500 (a wiring mistake), not an unlimited pass, when no principal is set', async () => {
    const errors: unknown[] = [];
    const app = new Hono<AuthEnv>()
      .onError(handleError((error) => errors.push(error)))
      .use(rateLimit({ store: memoryBucketStore(), burst: 1, perSecond: 1, log: { warn: () => undefined } }))
      .get('/ok', (c) => c.text('ok'));
    expect((await app.request('/ok')).status).toBe(500);
    expect(String(errors[0])).toMatch(/after authenticate\(\)/);
  });

  it('fails open and warns once per interval when the store throws', async () => {
    const warnings: Warning[] = [];
    const broken: BucketStore = { take: () => Promise.reject(new Error('store down')) };
    const app = appWith({ store: broken, burst: 1, perSecond: 1 }, warnings);
    expect(await statuses(app, 3)).toEqual([200, 200, 200]);
    expect(warnings).toEqual([
      { message: expect.stringContaining('unavailable'), fields: expect.objectContaining({ detail: 'store down' }) }
    ]);
  });
});

describe('memory bucket store', () => {
  const limits = { capacity: 2, refillPerSecond: 1 };

  it('never holds more than maxBuckets', async () => {
    const store = memoryBucketStore({ maxBuckets: 100, now: manualClock().now });
    for (let i = 0; i < 1_000; i += 1) {
      await store.take(`tenant-${i}`, 1, limits);
      expect(store.size).toBeLessThanOrEqual(100);
    }
    expect(store.size).toBe(100);
  });

  it('drops idle buckets once they have refilled, keeps those still draining', async () => {
    const clock = manualClock();
    const store = memoryBucketStore({ now: clock.now });
    for (let i = 0; i < 50; i += 1) {
      await store.take(`idle-${i}`, 1, limits);
    }
    expect(store.size).toBe(50);
    clock.advance(500);
    await store.take('active', 1, limits);
    // Half a token refilled: no idle bucket is full yet, so none may be forgotten.
    expect(store.size).toBe(51);
    clock.advance(500);
    await store.take('active', 1, limits);
    expect(store.size).toBe(1);
  });

  it('evicts the least recently used bucket past the bound, not the one just used', async () => {
    const store = memoryBucketStore({ maxBuckets: 2, now: manualClock().now });
    await store.take('a', 1, limits);
    await store.take('b', 1, limits);
    await store.take('a', 1, limits);
    await store.take('c', 1, limits);
    // `a` kept its state (empty); `b` was evicted and starts from a full bucket again.
    expect(await store.take('a', 1, limits)).toEqual({ allowed: false, tokens: 0 });
    expect(await store.take('b', 1, limits)).toEqual({ allowed: true, tokens: 1 });
  });

  it('refills nothing when the clock goes backwards', async () => {
    const clock = manualClock();
    const store = memoryBucketStore({ now: clock.now });
    await store.take('a', 2, limits);
    clock.advance(-5_000);
    expect(await store.take('a', 1, limits)).toEqual({ allowed: false, tokens: 0 });
  });
});

describe('Redis bucket store', () => {
  let redis: RedisServer;
  let inspect: Redis;
  const stores: RedisBucketStore[] = [];
  let prefixes = 0;
  /** A store on its own connection (one per API node), with a fresh key namespace per test. */
  const node = (prefix: string, now?: () => number) => {
    const store = redisBucketStore({ url: redis.url, keyPrefix: prefix, now });
    stores.push(store);
    return store;
  };
  const freshPrefix = () => `test-${(prefixes += 1)}:`;

  beforeAll(async () => {
    redis = await startRedis();
    inspect = new Redis(redis.url);
  });

  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    inspect.disconnect();
    await redis.stop();
  });

  bucketMath('redis', (now) => node(freshPrefix(), now));

  it('shares one bucket between two nodes', async () => {
    const prefix = freshPrefix();
    // Server time: at 0.001 per second a token takes over 16 minutes to come back.
    const nodeA = appWith({ store: node(prefix), burst: 4, perSecond: 0.001 });
    const nodeB = appWith({ store: node(prefix), burst: 4, perSecond: 0.001 });
    const seen = [];
    for (const app of [nodeA, nodeB, nodeA, nodeB, nodeA, nodeB]) {
      const res = await call(app);
      seen.push([res.status, res.headers.get('ratelimit-remaining')]);
    }
    expect(seen).toEqual([
      [200, '3'],
      [200, '2'],
      [200, '1'],
      [200, '0'],
      [429, '0'],
      [429, '0']
    ]);
    // Tenants stay apart in Redis too.
    expect((await call(nodeB, 'other')).status).toBe(200);
  });

  it('admits exactly the burst out of 200 concurrent requests spread over two nodes', async () => {
    const prefix = freshPrefix();
    const nodes = [node(prefix), node(prefix)].map((store) => appWith({ store, burst: 50, perSecond: 0.001 }));
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => call(nodes[i % 2] ?? nodes[0]!)));
    const counts = { 200: 0, 429: 0 };
    for (const res of results) {
      counts[res.status as 200 | 429] += 1;
    }
    expect(counts).toEqual({ 200: 50, 429: 150 });
    expect(nodes.flatMap((app) => app.unexpected)).toEqual([]);
  });

  it('stores a bucket with a TTL of the time it takes to refill', async () => {
    const prefix = freshPrefix();
    const app = appWith({ store: node(prefix), burst: 4, perSecond: 0.5 });
    expect((await call(app, 'ttl-tenant')).status).toBe(200);
    const ttl = await inspect.pttl(`${prefix}ttl-tenant`);
    // One token to refill at 0.5 per second (2 s) plus a second of margin.
    expect(ttl).toBeGreaterThan(2_000);
    expect(ttl).toBeLessThanOrEqual(3_000);
  });

  it('fails open, and says so in the log, when Redis goes away', async () => {
    const own = await startRedis();
    const store = redisBucketStore({ url: own.url });
    stores.push(store);
    const warnings: Warning[] = [];
    const app = appWith({ store, burst: 1, perSecond: 0.001 }, warnings);
    expect(await statuses(app, 2)).toEqual([200, 429]);
    await own.stop();
    const res = await call(app);
    expect(res.status).toBe(200);
    // No bucket was read, so there is nothing honest to put in the headers.
    expect(res.headers.get('ratelimit-remaining')).toBeNull();
    expect((await call(app)).status).toBe(200);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toMatch(/unavailable/);
  });

  it('fails open when Redis was never reachable', async () => {
    const store = redisBucketStore({ url: `redis://127.0.0.1:${await freePort()}` });
    stores.push(store);
    const warnings: Warning[] = [];
    const app = appWith({ store, burst: 1, perSecond: 1 }, warnings);
    expect(await statuses(app, 3)).toEqual([200, 200, 200]);
    expect(warnings).toHaveLength(1);
  });
});
