import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { SpeechAnalysis } from '../../src/lib/core/speech/analyze-speech.ts';
import { ApiError } from '../http/errors.ts';
import type { SpeechOutcome, SpeechTask } from './speech-thread.ts';

type RunOptions = NonNullable<Parameters<Piscina['run']>[1]>;

export type SpeechRequest = Omit<SpeechTask, 'maxSeconds'>;

/** What `/api/v1/speech/*` runs recordings through. */
export interface SpeechAnalyzer {
  /** The analysis, or an ApiError 400 for audio that cannot be read or is too long. */
  analyze(request: SpeechRequest, signal: AbortSignal): Promise<SpeechAnalysis>;
  close(): Promise<void>;
}

/**
 * Speech analysis on worker threads (piscina): a minute of audio takes a CPU core for a tenth of
 * a second or more, which on the API's own thread would stall every other request meanwhile.
 * At most one thread per core but one (the event loop keeps one); threads end when idle.
 */
export function speechAnalyzer(options: { maxSeconds: number }): SpeechAnalyzer {
  const pool = new Piscina<SpeechTask, SpeechOutcome>({
    filename: new URL('./speech-thread.ts', import.meta.url).href,
    minThreads: 0,
    maxThreads: Math.max(1, availableParallelism() - 1),
    idleTimeout: 30_000
  });
  return {
    async analyze(request, signal) {
      // Moved to the thread, not copied; a small Buffer shares Node's pool, so it is copied out first.
      const whole = request.audio.byteOffset === 0 && request.audio.byteLength === request.audio.buffer.byteLength;
      const audio = whole ? request.audio : new Uint8Array(request.audio);
      const outcome = await pool.run(
        { ...request, audio, maxSeconds: options.maxSeconds },
        // piscina derives its transfer list type from an older MessagePort.postMessage signature.
        { signal, transferList: [audio.buffer] as unknown as RunOptions['transferList'] }
      );
      if (!outcome.ok) {
        throw new ApiError(outcome.status, outcome.code, outcome.message, { param: 'audioBase64' });
      }
      return outcome.analysis;
    },
    close: () => pool.close()
  };
}
