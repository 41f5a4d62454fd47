// One speech analysis on a worker thread (see speech-analyzer.ts): decoding and the analysis run
// off the API's event loop, which keeps relaying chat requests meanwhile.
import { analyzeSpeech, type SpeechAnalysis } from '../../src/lib/core/speech/analyze-speech.ts';
import { ApiError } from '../http/errors.ts';
import { decodeAudio } from './decode-audio.ts';

export interface SpeechTask {
  audio: Uint8Array;
  /** The rate of bare PCM; a WAV file says its own. */
  sampleRate?: number;
  reference?: string;
  transcript?: string;
  /** The longest recording analysed, in seconds. */
  maxSeconds: number;
}

/** Errors cross the thread boundary as data: a class does not survive it. */
export type SpeechOutcome =
  { ok: true; analysis: SpeechAnalysis } | { ok: false; status: 400; code: string; message: string };

export default function analyze(task: SpeechTask): SpeechOutcome {
  try {
    const { samples, sampleRate } = decodeAudio(task.audio, task.sampleRate);
    const seconds = samples.length / sampleRate;
    if (seconds > task.maxSeconds) {
      return {
        ok: false,
        status: 400,
        code: 'audio_too_long',
        message: `The recording lasts ${Math.round(seconds)} s; at most ${task.maxSeconds} s are analysed at once`
      };
    }
    if (samples.length === 0) {
      return { ok: false, status: 400, code: 'audio_empty', message: 'The recording holds no samples' };
    }
    return {
      ok: true,
      analysis: analyzeSpeech(samples, sampleRate, { reference: task.reference, transcript: task.transcript })
    };
  } catch (error) {
    if (error instanceof ApiError || error instanceof RangeError) {
      return {
        ok: false,
        status: 400,
        code: error instanceof ApiError ? error.code : 'unsupported_audio',
        message: error.message
      };
    }
    throw error;
  }
}
