import { describe, expect, it } from 'vitest';
import { formatBytes, formatPercent } from '#lib/core/format.ts';

describe('formatBytes', () => {
  it('names sizes in binary units, one decimal below 10', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(27 * 1024 * 1024)).toBe('27 MB');
    expect(formatBytes(1.25 * 1024 ** 3)).toBe('1.3 GB');
    // Past GB it stays in GB rather than inventing units the UI never needs.
    expect(formatBytes(3 * 1024 ** 4)).toBe('3072 GB');
  });
});

describe('formatPercent', () => {
  it('rounds down, so nothing reads 100% before it is done, and stays within 0–100%', () => {
    expect(formatPercent(0.999)).toBe('99%');
    expect(formatPercent(1)).toBe('100%');
    expect(formatPercent(512, 1024)).toBe('50%');
    expect(formatPercent(5, 0)).toBe('0%');
    expect(formatPercent(-0.2)).toBe('0%');
    expect(formatPercent(3, 2)).toBe('100%');
  });
});
