/**
 * Whisper through transformers.js, called the same way on the device (workers/asr.worker.ts) and
 * in the edge API's local backend, and its output read into one transcript shape.
 */

/** Whisper hears 16 kHz audio. */
export const WHISPER_RATE = 16_000;

export interface TranscriptSegment {
  /** Seconds from the start of the recording. */
  start: number;
  end: number;
  text: string;
}

export interface Transcript {
  text: string;
  /** The transcript in timed pieces; one for the whole recording when the model gives no times. */
  segments: TranscriptSegment[];
}

/** What transformers.js' speech-recognition pipeline returns with `return_timestamps: true`. */
export interface WhisperOutput {
  text: string;
  chunks?: { timestamp: [number | null, number | null]; text: string }[];
}

/**
 * The pipeline's options: 30 s windows overlapping by 5 s (recordings of any length), segment
 * times, and the language. transformers.js detects none: English unless told.
 */
export function whisperOptions(language = 'en') {
  return { language, task: 'transcribe', return_timestamps: true, chunk_length_s: 30, stride_length_s: 5 } as const;
}

/**
 * The pipeline's output over a recording of `durationS` seconds. A model that writes no
 * timestamps (or a last window cut short) leaves a time unknown: that segment runs from where the
 * last one ended to the end of the recording.
 */
export function transcriptOf(output: WhisperOutput, durationS: number): Transcript {
  let previousEnd = 0;
  const chunks = output.chunks ?? [{ timestamp: [null, null], text: output.text }];
  const segments = chunks.map(({ timestamp, text }) => {
    const start = timestamp[0] ?? previousEnd;
    const end = Math.min(durationS, timestamp[1] ?? durationS);
    previousEnd = end;
    return { start, end, text: text.trim() };
  });
  return { text: output.text.trim(), segments };
}
