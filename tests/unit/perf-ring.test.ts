import { describe, expect, it } from 'vitest';
import { PerfRing, quantile, summarize } from '#lib/core/perf-ring.ts';

describe('PerfRing', () => {
  it('keeps the last `capacity` figures, oldest first', () => {
    const ring = new PerfRing<number>(3);
    ring.push(1, 2);
    expect(ring.values()).toEqual([1, 2]);
    ring.push(3, 4, 5);
    expect(ring.values()).toEqual([3, 4, 5]);
    expect(ring.size).toBe(3);
  });

  it('hands out a copy, so a caller cannot change what it keeps', () => {
    const ring = new PerfRing<number>(2);
    ring.push(1);
    ring.values().push(9);
    expect(ring.values()).toEqual([1]);
  });
});

describe('quantile and summarize', () => {
  it('interpolates between ranks and ignores the order figures came in', () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([10], 0.95)).toBe(10);
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(quantile(hundred, 0.95)).toBeCloseTo(95.05);
    expect(quantile(hundred, 0)).toBe(1);
    expect(quantile(hundred, 1)).toBe(100);
  });

  it('has nothing to say without figures, rather than a zero', () => {
    expect(quantile([], 0.5)).toBeNull();
    expect(summarize([])).toBeNull();
  });

  it('summarizes count, p50, p95 and the latest figure', () => {
    expect(summarize([30, 10, 20])).toEqual({ count: 3, p50: 20, p95: 29, last: 20 });
  });
});
