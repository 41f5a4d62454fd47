import type { ModelLoadRequest } from '#lib/core/model-load-request.ts';
import type { EmbedWorkerApi } from '../../../workers/embed.worker.ts';
import { ModelWorkerBridge, type BridgeOptions } from './model-worker-bridge.ts';

const defaultFactory = () =>
  new Worker(new URL('../../../workers/embed.worker.ts', import.meta.url), { type: 'module', name: 'embed' });

/** The sentence-embedding worker: text in, normalized vectors out. */
export class EmbedBridge extends ModelWorkerBridge<ModelLoadRequest, { loadMs: number; dim: number }, EmbedWorkerApi> {
  constructor(options: BridgeOptions = {}) {
    super(options.factory ?? defaultFactory, options);
  }

  /** Embeddings of `texts`, `texts.length × dim` floats in one array. */
  embed(texts: string[]): Promise<{ vectors: Float32Array; dim: number; ms: number }> {
    return this.run((remote) => remote.embed(texts));
  }
}
