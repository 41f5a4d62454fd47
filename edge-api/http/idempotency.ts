import type { MiddlewareHandler } from 'hono';
import type { Redis } from 'ioredis';
import type { AuthEnv } from '../security/principal.ts';
import { conflict, unprocessable } from './errors.ts';
import { idempotencyKeyOf } from './idempotency-key.ts';
import { sha256Hex } from './sha256-hex.ts';

/** A response kept so a retried request gets the same answer instead of running again. */
export interface StoredResponse {
  /** SHA-256 of the request body: the same key with another body is a client bug. */
  fingerprint: string;
  status: number;
  contentType: string;
  body: string;
}

export type Claim = { state: 'new' } | { state: 'in_progress' } | { state: 'done'; response: StoredResponse };

/** Where idempotent responses live: this process's memory, or Redis when several nodes serve the API. */
export interface IdempotencyStore {
  /** Claims `key` for a first request, or tells what happened to an earlier one. */
  claim(key: string, ttlMs: number): Promise<Claim>;
  complete(key: string, response: StoredResponse, ttlMs: number): Promise<void>;
  /** Forgets a claim whose request failed in a way worth retrying. */
  release(key: string): Promise<void>;
}

/** In one process; bounded, oldest entries leave first. */
export function memoryIdempotencyStore(maxEntries = 10_000): IdempotencyStore {
  const entries = new Map<string, { expires: number; response: StoredResponse | null }>();
  return {
    claim(key, ttlMs) {
      const now = Date.now();
      const entry = entries.get(key);
      if (entry && entry.expires > now) {
        return Promise.resolve(entry.response ? { state: 'done', response: entry.response } : { state: 'in_progress' });
      }
      entries.delete(key);
      entries.set(key, { expires: now + ttlMs, response: null });
      for (const oldest of entries.keys()) {
        if (entries.size <= maxEntries) {
          break;
        }
        entries.delete(oldest);
      }
      return Promise.resolve({ state: 'new' });
    },
    complete(key, response, ttlMs) {
      entries.set(key, { expires: Date.now() + ttlMs, response });
      return Promise.resolve();
    },
    release(key) {
      entries.delete(key);
      return Promise.resolve();
    }
  };
}

const IN_PROGRESS = '{"inProgress":true}';

/** Shared by every API node: a claim is `SET NX`, so two nodes never run the same keyed request. */
export function redisIdempotencyStore(redis: Redis, prefix = 'vh:idem:'): IdempotencyStore {
  return {
    async claim(key, ttlMs) {
      const claimed = await redis.set(prefix + key, IN_PROGRESS, 'PX', ttlMs, 'NX');
      if (claimed) {
        return { state: 'new' };
      }
      const stored = await redis.get(prefix + key);
      return !stored || stored === IN_PROGRESS
        ? { state: 'in_progress' }
        : { state: 'done', response: JSON.parse(stored) as StoredResponse };
    },
    async complete(key, response, ttlMs) {
      await redis.set(prefix + key, JSON.stringify(response), 'PX', ttlMs);
    },
    async release(key) {
      await redis.del(prefix + key);
    }
  };
}

/**
 * Honours `Idempotency-Key` on POSTs whose effect is their response (chat, embeddings): a retry
 * with the same key and body within `ttlMs` gets the first response back (`Idempotent-Replayed:
 * true`) instead of paying for the model again; the same key with another body is a 422, and a
 * retry while the first is still running a 409. Only successful answers are kept: a failed
 * request may be retried with its key, and a stream is claimed only while it runs.
 */
export function idempotentResponses(store: IdempotencyStore, ttlMs = 24 * 3_600_000): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const key = c.req.method === 'POST' ? idempotencyKeyOf(c) : undefined;
    if (!key) {
      await next();
      return;
    }
    const fingerprint = await sha256Hex(await c.req.text());
    const storeKey = `${c.get('principal').tenant}:${c.req.path}:${key}`;
    const claim = await store.claim(storeKey, ttlMs);
    if (claim.state === 'in_progress') {
      throw conflict('A request with this Idempotency-Key is still being answered', 'idempotency_key_in_use');
    }
    if (claim.state === 'done') {
      if (claim.response.fingerprint !== fingerprint) {
        throw unprocessable(
          'This Idempotency-Key was already used for a different request',
          'idempotency_key_reused',
          'idempotency-key'
        );
      }
      const { status, contentType, body } = claim.response;
      c.res = new Response(body, {
        status,
        headers: { 'content-type': contentType, 'idempotent-replayed': 'true' }
      });
      return;
    }
    let kept = false;
    try {
      await next();
      const contentType = c.res.headers.get('content-type') ?? '';
      if (c.res.ok && !contentType.startsWith('text/event-stream')) {
        const body = await c.res.clone().text();
        await store.complete(storeKey, { fingerprint, status: c.res.status, contentType, body }, ttlMs);
        kept = true;
      }
    } finally {
      if (!kept) {
        await store.release(storeKey);
      }
    }
  };
}
