import { expose, transfer } from 'comlink';
import { analyzeSpeech, type SpeechAnalysis, type SpeechAnalysisOptions } from '#lib/core/speech/analyze-speech.ts';

export interface TimedAnalysis {
  analysis: SpeechAnalysis;
  /** Time the analysis took in this worker. */
  ms: number;
}

const api = {
  /**
   * A reading-practice recording measured off the page's thread (a minute of audio is a few
   * hundred milliseconds of work on a tablet). `samples` arrive transferred, the contour goes back so.
   */
  analyze(samples: Float32Array, sampleRate: number, options: SpeechAnalysisOptions): TimedAnalysis {
    const started = performance.now();
    const analysis = analyzeSpeech(samples, sampleRate, options);
    const ms = performance.now() - started;
    return transfer({ analysis, ms }, [analysis.prosody.contour.buffer]);
  }
};

export type SpeechWorkerApi = typeof api;
expose(api);
