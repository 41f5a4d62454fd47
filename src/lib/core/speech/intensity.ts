/**
 * The loudness contour a speech analysis starts from, as Praat's "To Intensity" computes it
 * (de Jong & Wempe's syllable-nuclei script runs on that): a window three and a bit periods of
 * the lowest pitch long, slid by a fixed step, the window's mean removed, in dB.
 */

/** Seconds between analysis frames: Praat's default step for pitch and intensity. */
export const FRAME_STEP_S = 0.01;

export interface Intensity {
  /** dB of each frame (re an amplitude of 1; only differences are used). */
  db: Float32Array;
  /** Seconds between frames; frame i is centred at `i * step`. */
  step: number;
}

/** Below any real recording's quietest frame: digital silence is not minus infinity. */
const FLOOR_DB = -100;

/**
 * Intensity in dB every {@link FRAME_STEP_S} seconds, with a Hann window of `3.2 / minPitchHz`
 * seconds (Praat's rule: one period of the lowest pitch does not ripple the contour). 80 Hz (a
 * 40 ms window), not the script's 50 Hz: a fast reader's syllables stay apart, and voices under
 * 80 Hz are rare in adults and absent in children.
 */
export function intensityContour(samples: Float32Array, sampleRate: number, minPitchHz = 80): Intensity {
  const half = Math.round((3.2 / minPitchHz / 2) * sampleRate);
  const hop = FRAME_STEP_S * sampleRate;
  const count = Math.max(1, Math.floor(samples.length / hop) + 1);
  const window = new Float32Array(2 * half + 1);
  for (let i = 0; i < window.length; i++) {
    window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 1)) / (window.length + 1));
  }
  const db = new Float32Array(count);
  for (let frame = 0; frame < count; frame++) {
    const centre = Math.round(frame * hop);
    const from = Math.max(0, centre - half);
    const to = Math.min(samples.length - 1, centre + half);
    let weights = 0;
    let sum = 0;
    let squares = 0;
    for (let i = from; i <= to; i++) {
      const w = window[i - centre + half]!;
      const x = samples[i]!;
      weights += w;
      sum += w * x;
      squares += w * x * x;
    }
    // Weighted variance: the window's mean (DC, a slow drift) is not loudness.
    const power = weights > 0 ? squares / weights - (sum / weights) ** 2 : 0;
    db[frame] = power > 1e-10 ? 10 * Math.log10(power) : FLOOR_DB;
  }
  return { db, step: FRAME_STEP_S };
}

/** The value below which `fraction` of `values` lie (nearest rank on a sorted copy). */
export function quantile(values: ArrayLike<number>, fraction: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) {
    return Number.NaN;
  }
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(fraction * (sorted.length - 1))))]!;
}
