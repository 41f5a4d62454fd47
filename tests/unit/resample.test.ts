import { describe, expect, it } from 'vitest';
import { resample } from '../../src/lib/core/speech/resample.ts';

const sine = (hz: number, rate: number, seconds: number) =>
  Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => Math.sin((2 * Math.PI * hz * i) / rate));

/** The largest deviation from `hz` sampled at `rate`, away from the edges the filter cannot see past. */
function worstError(samples: Float32Array, hz: number, rate: number): number {
  let worst = 0;
  for (let i = rate / 10; i < samples.length - rate / 10; i++) {
    worst = Math.max(worst, Math.abs(samples[i]! - Math.sin((2 * Math.PI * hz * i) / rate)));
  }
  return worst;
}

const rms = (samples: Float32Array, margin: number) => {
  let sum = 0;
  for (let i = margin; i < samples.length - margin; i++) {
    sum += samples[i]! ** 2;
  }
  return Math.sqrt(sum / (samples.length - 2 * margin));
};

describe('resample', () => {
  it.each([
    [44_100, 16_000, 440],
    [48_000, 16_000, 3_000],
    [22_050, 16_000, 1_000],
    [8_000, 16_000, 1_000],
    [16_000, 44_100, 2_500]
  ])('%i Hz → %i Hz keeps a %i Hz tone (within 0.5%%) and the duration', (from, to, hz) => {
    const out = resample(sine(hz, from, 1), from, to);
    expect(out.length).toBe(to);
    expect(worstError(out, hz, to)).toBeLessThan(0.005);
  });

  it('filters out what the new rate cannot hold instead of folding it back down (aliasing)', () => {
    // 12 kHz at 48 kHz would alias to 4 kHz at 16 kHz; the filter leaves less than 1% of it.
    const out = resample(sine(12_000, 48_000, 1), 48_000, 16_000);
    expect(rms(out, 1_600)).toBeLessThan(0.01 * Math.SQRT1_2);
  });

  it('returns the same samples when the rates match, and refuses a rate of zero', () => {
    const samples = sine(440, 16_000, 0.1);
    expect(resample(samples, 16_000, 16_000)).toBe(samples);
    expect(() => resample(samples, 0, 16_000)).toThrow(RangeError);
  });
});
