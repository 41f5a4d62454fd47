/**
 * Sounding and silent stretches from the intensity contour: a frame sounds when it is within
 * `silenceDb` of the recording's loud end (de Jong & Wempe: 25 dB under the 0.99 quantile, so the
 * threshold follows the recording's level, not the microphone's gain). A silence is a pause when
 * it lies between two sounding stretches and lasts at least `minPauseS`.
 */
import { quantile, type Intensity } from './intensity.ts';

export interface Span {
  /** Seconds from the start of the recording. */
  start: number;
  end: number;
}

export interface PauseOptions {
  /** dB under the 0.99 quantile of intensity below which a frame is silent. */
  silenceDb?: number;
  /** Shortest silence that counts as a pause, in seconds (250 ms: the reading-fluency convention). */
  minPauseS?: number;
  /** Shortest sound kept, in seconds: a click or a breath between pauses is not speech. */
  minSoundS?: number;
}

export interface Segmentation {
  /** The dB level that separates sound from silence in this recording. */
  thresholdDb: number;
  /** Speech: sounding stretches, with gaps shorter than a pause closed. */
  sounding: Span[];
  /** The silences between them (never the silence before the first word or after the last). */
  pauses: Span[];
}

/**
 * Where sound starts and stops, to the millisecond: the intensity window (40 ms) sees a sound
 * coming about 15 ms early and going as late, which would cut as much off every pause. Each edge
 * is moved to where a 5 ms window first (or last) reaches the threshold, within the frame's reach.
 */
function refineEdges(samples: Float32Array, sampleRate: number, spans: Span[], thresholdDb: number): void {
  const half = Math.round(0.0025 * sampleRate);
  const threshold = 10 ** (thresholdDb / 10);
  const loud = (time: number) => {
    const centre = Math.round(time * sampleRate);
    const from = Math.max(0, centre - half);
    const to = Math.min(samples.length, centre + half);
    let power = 0;
    for (let i = from; i < to; i++) {
      power += samples[i]! * samples[i]!;
    }
    return to > from && power / (to - from) >= threshold;
  };
  const reach = 0.03;
  for (const span of spans) {
    for (let t = span.start - reach; t < span.start + reach; t += 0.001) {
      if (loud(t)) {
        span.start = Math.max(0, t);
        break;
      }
    }
    for (let t = span.end + reach; t > span.end - reach; t -= 0.001) {
      if (loud(t)) {
        span.end = Math.min(samples.length / sampleRate, t);
        break;
      }
    }
  }
}

export function segment(
  samples: Float32Array,
  sampleRate: number,
  intensity: Intensity,
  options: PauseOptions = {}
): Segmentation {
  const { silenceDb = 25, minPauseS = 0.25, minSoundS = 0.05 } = options;
  const { db, step } = intensity;
  const thresholdDb = Math.max(quantile(db, 0.99) - silenceDb, quantile(db, 0));
  // Raw runs of sounding frames; frame i covers [i - ½, i + ½) steps.
  const runs: Span[] = [];
  let startFrame = -1;
  for (let i = 0; i <= db.length; i++) {
    const loud = i < db.length && db[i]! >= thresholdDb;
    if (loud && startFrame < 0) {
      startFrame = i;
    } else if (!loud && startFrame >= 0) {
      runs.push({ start: Math.max(0, (startFrame - 0.5) * step), end: (i - 0.5) * step });
      startFrame = -1;
    }
  }
  refineEdges(samples, sampleRate, runs, thresholdDb);
  const sounding: Span[] = [];
  for (const run of runs) {
    if (run.end - run.start < minSoundS) {
      continue;
    }
    const last = sounding.at(-1);
    if (last && run.start - last.end < minPauseS) {
      last.end = run.end;
    } else {
      sounding.push({ ...run });
    }
  }
  const pauses = sounding.slice(1).map((span, i) => ({ start: sounding[i]!.end, end: span.start }));
  return { thresholdDb, sounding, pauses };
}
