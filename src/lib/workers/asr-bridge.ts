import { proxy, transfer } from 'comlink';
import type { ModelLoadRequest } from '#lib/core/model-load-request.ts';
import type { AsrWorkerApi, TimedTranscript } from '../../../workers/asr.worker.ts';
import { ModelWorkerBridge, type BridgeOptions } from './model-worker-bridge.ts';

export type { TimedTranscript } from '../../../workers/asr.worker.ts';

const defaultFactory = () =>
  new Worker(new URL('../../../workers/asr.worker.ts', import.meta.url), { type: 'module', name: 'asr' });

/** The speech-recognition worker: 16 kHz samples in, a transcript with timed segments out. */
export class AsrBridge extends ModelWorkerBridge<ModelLoadRequest, { loadMs: number }, AsrWorkerApi> {
  constructor(options: BridgeOptions = {}) {
    super(options.factory ?? defaultFactory, options);
  }

  /**
   * Transcribes `samples` (16 kHz mono, transferred: the caller no longer has them), streaming
   * words through `onPartial`. An abort stops after the current token; what was heard is returned.
   */
  transcribe(
    samples: Float32Array,
    language: string | undefined,
    onPartial: (text: string) => void,
    signal?: AbortSignal
  ): Promise<TimedTranscript> {
    return this.run(async (remote) => {
      const abort = () => void remote.abort();
      signal?.addEventListener('abort', abort, { once: true });
      try {
        return await remote.transcribe(transfer(samples, [samples.buffer]), language, proxy(onPartial));
      } finally {
        signal?.removeEventListener('abort', abort);
      }
    });
  }
}
