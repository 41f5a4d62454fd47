import { pipeline, WhisperTextStreamer, type AutomaticSpeechRecognitionPipeline } from '@huggingface/transformers';
import { expose } from 'comlink';
import type { LoadProgress } from '#lib/core/engine-types.ts';
import { ModelNotInstalledError } from '#lib/core/errors.ts';
import type { ModelLoadRequest } from '#lib/core/model-load-request.ts';
import {
  transcriptOf,
  WHISPER_RATE,
  whisperOptions,
  type Transcript,
  type WhisperOutput
} from '#lib/core/speech/transcript.ts';
import { release, runError } from './runtime/common.ts';
import { loadModel } from './runtime/transformers.ts';
import { StoppedBetweenSteps, yieldBetweenSteps } from './runtime/transformers-internals.ts';

let loaded: { request: ModelLoadRequest; recognise: AutomaticSpeechRecognitionPipeline } | null = null;
let stopRequested = false;

/** A transcript and what it took: seconds of audio against milliseconds of work (the real-time factor). */
export interface TimedTranscript extends Transcript {
  audioS: number;
  ms: number;
  aborted: boolean;
}

const api = {
  /** Loads a Whisper model from the model cache; a failure leaves the runtime unusable (the bridge replaces the worker). */
  async load(
    request: ModelLoadRequest,
    onProgress: (progress: LoadProgress) => void,
    onDeviceLost: (message: string) => void
  ): Promise<{ loadMs: number }> {
    const started = performance.now();
    loaded = await loadModel(request, onProgress, onDeviceLost, async (progress_callback) => {
      const recognise = (await pipeline('automatic-speech-recognition', request.repo, {
        revision: request.revision,
        device: request.device,
        dtype: request.dtype as never,
        progress_callback
      })) as AutomaticSpeechRecognitionPipeline;
      yieldBetweenSteps(recognise.model, () => stopRequested);
      return { request, recognise };
    });
    return { loadMs: performance.now() - started };
  },

  /**
   * Transcribes 16 kHz mono `samples` (transferred here), streaming the words through `onPartial`
   * as they are decoded; `abort()` stops after the current token with what was heard so far.
   */
  async transcribe(
    samples: Float32Array,
    language: string | undefined,
    onPartial: (text: string) => void
  ): Promise<TimedTranscript> {
    if (!loaded) {
      throw new ModelNotInstalledError('No speech model is loaded');
    }
    const { recognise, request } = loaded;
    const started = performance.now();
    stopRequested = false;
    let heard = '';
    const streamer = new WhisperTextStreamer(recognise.tokenizer as never, {
      skip_prompt: true,
      callback_function: (text: string) => {
        heard += text;
        if (text) {
          onPartial(text);
        }
      }
    });
    const audioS = samples.length / WHISPER_RATE;
    let output: WhisperOutput;
    try {
      output = (await recognise(samples, { ...whisperOptions(language), streamer } as never)) as WhisperOutput;
    } catch (error) {
      if (!(error instanceof StoppedBetweenSteps)) {
        throw runError(request, error);
      }
      // Stopped: what was streamed so far is the transcript.
      output = { text: heard };
    } finally {
      release(onPartial);
    }
    return { ...transcriptOf(output, audioS), audioS, ms: performance.now() - started, aborted: stopRequested };
  },

  /** Stops the running transcription after the current token. */
  abort(): void {
    stopRequested = true;
  }
};

export type AsrWorkerApi = typeof api;
expose(api);
