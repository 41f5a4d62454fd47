import { describe, expect, it } from 'vitest';
import { frameDifference, frameSignature } from '#lib/core/frame-diff.ts';

const rgba = (pixels: number, value: (i: number) => number) =>
  new Uint8ClampedArray(pixels * 4).map((_, i) => (i % 4 === 3 ? 255 : value(Math.floor(i / 4))));

describe('frame difference', () => {
  it('is 0 for identical frames and 1 for black vs white', () => {
    const black = frameSignature(rgba(64, () => 0));
    const white = frameSignature(rgba(64, () => 255));
    expect(frameDifference(black, black)).toBe(0);
    expect(frameDifference(black, white)).toBeCloseTo(1, 2);
  });

  it('sees a small change as small and a moved object as larger', () => {
    const base = frameSignature(rgba(1024, (i) => i % 256));
    const noisy = frameSignature(rgba(1024, (i) => (i % 256) + (i % 7 === 0 ? 3 : 0)));
    const moved = frameSignature(rgba(1024, (i) => (i < 512 ? 255 : i % 256)));
    expect(frameDifference(base, noisy)).toBeLessThan(0.01);
    expect(frameDifference(base, moved)).toBeGreaterThan(0.2);
  });

  it('treats frames of different sizes as changed', () => {
    expect(frameDifference(new Uint8Array(4), new Uint8Array(8))).toBe(1);
  });
});
