/**
 * Fundamental frequency (F0) every frame, by the McLeod pitch method (pitchy), in the range a
 * child's voice reaches: up to about 500 Hz, where adult-tuned trackers (75–300 Hz) fail.
 */
import { PitchDetector } from 'pitchy';
import { FRAME_STEP_S, quantile } from './intensity.ts';

export interface PitchOptions {
  /**
   * Lowest F0 looked for, in Hz; the window holds 2.4 of its periods. 75 Hz is Praat's default
   * floor (no child and few adults go lower), and at 16 kHz it keeps the window at 512 samples,
   * which halves the cost of each frame against 60 Hz (a 2,048-point FFT instead of 1,024).
   */
  minHz?: number;
  /** Highest F0 looked for, in Hz: children reach ~500 Hz, a margin above that. */
  maxHz?: number;
  /** The McLeod clarity (0–1) a frame needs to count as voiced. */
  minClarity?: number;
}

export interface PitchContour {
  /** Hz per frame, every {@link FRAME_STEP_S} seconds; 0 where unvoiced or silent. */
  hz: Float32Array;
  step: number;
}

export interface PitchSummary {
  /** Frames with a pitch. */
  voicedFrames: number;
  /** Mean F0 in Hz; null when nothing was voiced. */
  meanHz: number | null;
  medianHz: number | null;
  /** Mean F0 in semitones re 100 Hz (Praat's scale): pitch as the ear orders it. */
  meanSemitones: number | null;
  /** Spread between the 5th and 95th percentiles, in semitones: how much the voice moves. */
  rangeSemitones: number | null;
  /** Standard deviation in semitones. */
  sdSemitones: number | null;
}

/**
 * F0 of each frame centred every {@link FRAME_STEP_S} seconds. `sounding` (frame → bool) skips
 * frames already known to be silent, which are most of a recording's pauses.
 */
export function pitchContour(
  samples: Float32Array,
  sampleRate: number,
  options: PitchOptions = {},
  sounding: (frame: number) => boolean = () => true
): PitchContour {
  const { minHz = 75, maxHz = 600, minClarity = 0.6 } = options;
  const length = Math.ceil((2.4 / minHz) * sampleRate);
  const detector = PitchDetector.forFloat32Array(length);
  const window = new Float32Array(length);
  const hop = FRAME_STEP_S * sampleRate;
  const count = Math.max(1, Math.floor(samples.length / hop) + 1);
  const hz = new Float32Array(count);
  for (let frame = 0; frame < count; frame++) {
    if (!sounding(frame)) {
      continue;
    }
    const from = Math.round(frame * hop) - (length >> 1);
    if (from >= 0 && from + length <= samples.length) {
      window.set(samples.subarray(from, from + length));
    } else {
      window.fill(0);
      const first = Math.max(0, from);
      window.set(samples.subarray(first, Math.min(samples.length, from + length)), first - from);
    }
    const [pitch, clarity] = detector.findPitch(window, sampleRate);
    if (clarity >= minClarity && pitch >= minHz && pitch <= maxHz) {
      hz[frame] = pitch;
    }
  }
  dropOctaveJumps(hz);
  return { hz, step: FRAME_STEP_S };
}

/** Frames either side (50 ms) whose pitch a frame is judged against. */
const JUMP_REACH = 5;

/**
 * Drops the tracker's octave errors: a frame more than 7 semitones from the median of the voiced
 * frames around it (a voice does not leap half an octave and back within 50 ms) is called
 * unvoiced. Frames with fewer than three voiced neighbours are left as they are.
 */
function dropOctaveJumps(hz: Float32Array): void {
  const found = hz.slice();
  const around: number[] = [];
  for (let i = 0; i < found.length; i++) {
    if (found[i] === 0) {
      continue;
    }
    around.length = 0;
    for (let j = Math.max(0, i - JUMP_REACH); j <= Math.min(found.length - 1, i + JUMP_REACH); j++) {
      if (j !== i && found[j]! > 0) {
        around.push(found[j]!);
      }
    }
    if (around.length >= 3) {
      around.sort((a, b) => a - b);
      if (Math.abs(12 * Math.log2(found[i]! / around[around.length >> 1]!)) > 7) {
        hz[i] = 0;
      }
    }
  }
}

const semitones = (hz: number) => 12 * Math.log2(hz / 100);

export function summarisePitch({ hz }: PitchContour): PitchSummary {
  const voiced = hz.filter((value) => value > 0);
  if (voiced.length === 0) {
    return {
      voicedFrames: 0,
      meanHz: null,
      medianHz: null,
      meanSemitones: null,
      rangeSemitones: null,
      sdSemitones: null
    };
  }
  const tones = Array.from(voiced, semitones);
  const meanTone = tones.reduce((sum, tone) => sum + tone, 0) / tones.length;
  const variance = tones.reduce((sum, tone) => sum + (tone - meanTone) ** 2, 0) / tones.length;
  return {
    voicedFrames: voiced.length,
    meanHz: voiced.reduce((sum, value) => sum + value, 0) / voiced.length,
    medianHz: quantile(voiced, 0.5),
    meanSemitones: meanTone,
    rangeSemitones: semitones(quantile(voiced, 0.95)) - semitones(quantile(voiced, 0.05)),
    sdSemitones: Math.sqrt(variance)
  };
}
