import { describe, expect, it } from 'vitest';
import { backoffDelay, isTransientStatus, parseRetryAfter, retryDelay } from '#lib/core/backoff.ts';
import { nextRetryAt, OUTBOX_BACKOFF } from '#lib/core/edge-outbox.ts';

const options = { baseMs: 500, maxMs: 8_000 };

describe('backoff', () => {
  it('doubles its ceiling each attempt up to the maximum, with the wait anywhere below it', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map((attempt) => backoffDelay(attempt, options, 0.999_999))).toEqual([
      500, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000
    ]);
    expect(backoffDelay(3, options, 0)).toBe(0);
    expect(backoffDelay(3, options, 0.5)).toBe(2_000);
  });

  it('with equal jitter, waits at least half the ceiling (a failed job never comes straight back)', () => {
    const equal = { ...options, jitter: 'equal' } as const;
    expect(backoffDelay(3, equal, 0)).toBe(2_000);
    expect(backoffDelay(3, equal, 0.999_999)).toBe(4_000);
    expect(backoffDelay(10, equal, 0.5)).toBe(6_000);
  });

  it('spreads clients that failed together', () => {
    const waits = new Set(Array.from({ length: 50 }, () => backoffDelay(4, options)));
    expect(waits.size).toBeGreaterThan(40);
    expect(Math.max(...waits)).toBeLessThanOrEqual(8_000);
  });

  it('reads Retry-After as seconds or as an HTTP date, and ignores what it cannot read', () => {
    const now = Date.parse('2026-11-22T10:00:00Z');
    expect(parseRetryAfter('5', now)).toBe(5_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Sun, 22 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter('-3', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });

  it('waits what the server asked, else its own jittered backoff', () => {
    expect(retryDelay(0, 7_000, options, 0.1)).toBe(7_000);
    expect(retryDelay(0, 0, options, 0.9)).toBe(0);
    expect(retryDelay(2, null, options, 0.5)).toBe(1_000);
  });

  it('retries only statuses that mean "not now"', () => {
    expect([429, 502, 503, 504].every(isTransientStatus)).toBe(true);
    expect([400, 401, 404, 409, 413, 422, 500].some(isTransientStatus)).toBe(false);
  });

  it('the outbox waits at least a second, grows to five minutes, and honours Retry-After', () => {
    const now = 1_000_000;
    expect(nextRetryAt(1, null, now, 0)).toBe(now + 1_000);
    expect(nextRetryAt(1, null, now, 0.999_999)).toBe(now + OUTBOX_BACKOFF.baseMs);
    expect(nextRetryAt(30, null, now, 0.999_999)).toBe(now + OUTBOX_BACKOFF.maxMs);
    expect(nextRetryAt(1, 42_000, now, 0)).toBe(now + 42_000);
  });
});
