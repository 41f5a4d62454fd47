/** A bucket holds up to `capacity` tokens and gains `refillPerSecond` of them continuously. */
export interface BucketLimits {
  capacity: number;
  refillPerSecond: number;
}

export interface TakeResult {
  /** Whether `cost` tokens were taken; a refused request takes nothing. */
  allowed: boolean;
  /** Tokens left after this request (fractional: refill is continuous). */
  tokens: number;
}

/**
 * Where buckets live. Limits travel with each call, so one store serves every limit and a
 * changed limit applies on the next request without migrating stored state.
 */
export interface BucketStore {
  take(key: string, cost: number, limits: BucketLimits): Promise<TakeResult>;
}

export interface MemoryBucketStore extends BucketStore {
  /** Buckets held now (for tests and metrics). */
  readonly size: number;
}

export interface MemoryBucketStoreOptions {
  /** Hard bound on buckets held; past it the least recently used one is dropped. */
  maxBuckets?: number;
  /** Milliseconds from any origin; monotonic by default so wall-clock jumps do not refill buckets. */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
  /** When the bucket will be full again: from then on it is the same as no bucket at all. */
  fullAt: number;
}

/** Tokens in a bucket at `now`; a clock that went backwards refills nothing. */
function refilled(tokens: number, at: number, now: number, limits: BucketLimits): number {
  return Math.min(limits.capacity, tokens + (Math.max(0, now - at) * limits.refillPerSecond) / 1000);
}

/**
 * One process's buckets, for a single node. Memory stays bounded: buckets that have refilled are
 * dropped as they reach the least recently used end, and past `maxBuckets` the least recently
 * used bucket goes even if it is not full (its tenant then starts again from a full bucket,
 * which only happens with more active tenants than the bound).
 */
export function memoryBucketStore(options: MemoryBucketStoreOptions = {}): MemoryBucketStore {
  const maxBuckets = options.maxBuckets ?? 10_000;
  if (!Number.isInteger(maxBuckets) || maxBuckets < 1) {
    throw new RangeError('maxBuckets must be a positive integer');
  }
  const now = options.now ?? (() => performance.now());
  // Map iteration follows insertion order; re-inserting on every use keeps it least-recent first.
  const buckets = new Map<string, Bucket>();

  const evict = (time: number) => {
    for (const [key, bucket] of buckets) {
      if (buckets.size <= maxBuckets && bucket.fullAt > time) {
        break;
      }
      buckets.delete(key);
    }
  };

  return {
    get size() {
      return buckets.size;
    },
    take(key, cost, limits) {
      const time = now();
      const bucket = buckets.get(key);
      const available = bucket ? refilled(bucket.tokens, bucket.at, time, limits) : limits.capacity;
      const allowed = available >= cost;
      const tokens = allowed ? available - cost : available;
      const at = Math.max(time, bucket?.at ?? time);
      buckets.delete(key);
      buckets.set(key, { tokens, at, fullAt: at + ((limits.capacity - tokens) / limits.refillPerSecond) * 1000 });
      evict(time);
      return Promise.resolve({ allowed, tokens });
    }
  };
}
