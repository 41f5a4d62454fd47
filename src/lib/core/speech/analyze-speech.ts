/**
 * A reading-practice recording measured: pauses, speaking and articulation rate, pitch, and —
 * given what was said and what was to be read — the oral-reading-fluency counts. The same code
 * runs in the app's worker and behind the edge API's `/api/v1/speech/*`.
 */
import { intensityContour } from './intensity.ts';
import { segment, type PauseOptions, type Span } from './pauses.ts';
import { pitchContour, summarisePitch, type PitchOptions, type PitchSummary } from './pitch.ts';
import { syllableNuclei, type NucleusOptions } from './syllables.ts';
import { alignWords, type WordAlignment } from './word-alignment.ts';

export interface SpeechAnalysisOptions extends PauseOptions, PitchOptions, NucleusOptions {
  /** The passage the reader was given. */
  reference?: string;
  /** What they said (a transcript from Whisper, or typed by the teacher). */
  transcript?: string;
}

export interface FluencyMetrics {
  /** The whole recording, in seconds. */
  durationS: number;
  /** From the first sound to the last: the silence before and after is not the reader's. */
  speakingS: number;
  /** Time actually sounding (speaking time without the pauses). */
  phonationS: number;
  pauseCount: number;
  /** Mean and longest pause in seconds; 0 without pauses. */
  meanPauseS: number;
  longestPauseS: number;
  pauses: Span[];
  syllables: number;
  /** Syllables per second of speaking time, pauses included. */
  speechRate: number;
  /** Syllables per second of phonation: how fast the reader speaks between pauses. */
  articulationRate: number;
  /** Seconds from the start of the recording of each syllable nucleus. */
  nuclei: number[];
}

export interface ReadingMetrics extends Omit<WordAlignment, 'ops'> {
  /** Words read correctly per minute of speaking time. */
  wordsCorrectPerMinute: number;
  /** Share of the passage's words read correctly (0–1). */
  accuracy: number;
  ops: WordAlignment['ops'];
}

export interface SpeechAnalysis {
  sampleRate: number;
  fluency: FluencyMetrics;
  prosody: PitchSummary & {
    /** F0 in Hz every `stepS` seconds, 0 where unvoiced: the contour a chart draws. */
    contour: Float32Array;
    stepS: number;
  };
  /** Only with both a reference passage and a transcript. */
  reading: ReadingMetrics | null;
}

const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Mono samples in [-1, 1] at `sampleRate`. */
export function analyzeSpeech(
  samples: Float32Array,
  sampleRate: number,
  options: SpeechAnalysisOptions = {}
): SpeechAnalysis {
  if (!(sampleRate >= 4000 && sampleRate <= 192_000)) {
    throw new RangeError(`A sample rate of ${sampleRate} Hz is not one audio is recorded at (4–192 kHz).`);
  }
  const intensity = intensityContour(samples, sampleRate);
  const { thresholdDb, sounding, pauses } = segment(samples, sampleRate, intensity, options);
  const loud = (frame: number) => intensity.db[frame]! >= thresholdDb;
  const pitch = pitchContour(samples, sampleRate, options, loud);
  const nuclei = syllableNuclei(intensity, pitch, thresholdDb, options);

  const durationS = samples.length / sampleRate;
  const speakingS = sounding.length === 0 ? 0 : sounding.at(-1)!.end - sounding[0]!.start;
  const pauseLengths = pauses.map((pause) => pause.end - pause.start);
  const pausedS = pauseLengths.reduce((sum, length) => sum + length, 0);
  const phonationS = speakingS - pausedS;
  const fluency: FluencyMetrics = {
    durationS: round(durationS),
    speakingS: round(speakingS),
    phonationS: round(phonationS),
    pauseCount: pauses.length,
    meanPauseS: pauses.length === 0 ? 0 : round(pausedS / pauses.length),
    longestPauseS: round(Math.max(0, ...pauseLengths)),
    pauses: pauses.map(({ start, end }) => ({ start: round(start), end: round(end) })),
    syllables: nuclei.length,
    speechRate: speakingS > 0 ? round(nuclei.length / speakingS) : 0,
    articulationRate: phonationS > 0 ? round(nuclei.length / phonationS) : 0,
    nuclei: nuclei.map((time) => round(time))
  };

  const reading =
    options.reference !== undefined && options.transcript !== undefined
      ? scoreReading(options.reference, options.transcript, speakingS)
      : null;
  return {
    sampleRate,
    fluency,
    prosody: { ...summarisePitch(pitch), contour: pitch.hz, stepS: pitch.step },
    reading
  };
}

/**
 * The passage read against what was said, word by word, over `speakingS` seconds of speaking
 * time; for a transcript that arrives after the recording was measured.
 */
export function scoreReading(reference: string, transcript: string, speakingS: number): ReadingMetrics {
  const alignment = alignWords(reference, transcript);
  return {
    ...alignment,
    wordsCorrectPerMinute: speakingS > 0 ? round((alignment.correct / speakingS) * 60, 1) : 0,
    accuracy: alignment.referenceWords > 0 ? round(alignment.correct / alignment.referenceWords) : 0
  };
}
