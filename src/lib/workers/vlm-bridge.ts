import { proxy, transfer } from 'comlink';
import type { GenerateOptions, GenerationStats } from '#lib/core/engine-types.ts';
import type { VlmFrame, VlmLoadRequest } from '#lib/core/vlm-types.ts';
import type { VlmWorkerApi } from '../../../workers/vlm.worker.ts';
import { ModelWorkerBridge, type BridgeOptions } from './model-worker-bridge.ts';

export type { BridgeEvents } from './model-worker-bridge.ts';
export type { WorkerFactory } from './worker-handle.ts';

const defaultFactory = () =>
  new Worker(new URL('../../../workers/vlm.worker.ts', import.meta.url), { type: 'module', name: 'vlm' });

/** The vision-language model worker: answers questions about frames, token by token. */
export class VlmBridge extends ModelWorkerBridge<VlmLoadRequest, { loadMs: number }, VlmWorkerApi> {
  constructor(options: BridgeOptions = {}) {
    super(options.factory ?? defaultFactory, options);
  }

  /**
   * Streams an answer, about `frame` or (null) about the prompt alone. The frame is transferred
   * to the worker (and closed there). An abort signal stops decoding after the current token;
   * the partial answer is still returned.
   */
  generate(
    frame: VlmFrame | null,
    prompt: string,
    options: GenerateOptions,
    onToken: (text: string) => void,
    signal?: AbortSignal
  ): Promise<GenerationStats> {
    return this.run(
      async (remote) => {
        const abort = () => void remote.abort();
        signal?.addEventListener('abort', abort, { once: true });
        try {
          return await remote.generate(frame && transfer(frame, [frame]), prompt, options, proxy(onToken));
        } finally {
          signal?.removeEventListener('abort', abort);
        }
      },
      () => frame?.close()
    );
  }

  /**
   * Benchmark only (tests/bench/frame-handoff): the frame hand-off alone — transfer, scale and
   * normalize — without running the model. Not for the app.
   */
  benchPreprocess(frame: VlmFrame): Promise<{ ms: number; shape: number[] }> {
    return this.run(
      (remote) => remote.benchPreprocess(transfer(frame, [frame])),
      () => frame.close()
    );
  }
}
