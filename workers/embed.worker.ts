import { pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers';
import { expose, transfer } from 'comlink';
import type { LoadProgress } from '#lib/core/engine-types.ts';
import { ModelNotInstalledError } from '#lib/core/errors.ts';
import type { ModelLoadRequest } from '#lib/core/model-load-request.ts';
import { runError } from './runtime/common.ts';
import { loadModel } from './runtime/transformers.ts';

let loaded: { request: ModelLoadRequest; extractor: FeatureExtractionPipeline; dim: number } | null = null;

/** Texts per model run: large enough to fill SIMD lanes / GPU work, small enough to keep memory flat. */
const BATCH = 16;

const api = {
  /**
   * Loads a sentence-embedding model from the model cache onto `request.device` and reports the
   * vector dimension. A failure leaves this worker's runtime unusable: the bridge replaces it.
   */
  async load(
    request: ModelLoadRequest,
    onProgress: (progress: LoadProgress) => void,
    onDeviceLost: (message: string) => void
  ): Promise<{ loadMs: number; dim: number }> {
    const started = performance.now();
    loaded = await loadModel(request, onProgress, onDeviceLost, async (progress_callback) => {
      const extractor = await pipeline('feature-extraction', request.repo, {
        revision: request.revision,
        device: request.device,
        dtype: request.dtype as never,
        progress_callback
      });
      // One probe tells the width of the vectors (and compiles the GPU pipelines before real work).
      const probe = await extractor('probe', { pooling: 'mean', normalize: true });
      return { request, extractor, dim: probe.dims.at(-1) ?? 0 };
    });
    return { loadMs: performance.now() - started, dim: loaded.dim };
  },

  /**
   * Mean-pooled, L2-normalized embeddings of `texts`, row after row in one Float32Array
   * (`texts.length × dim`), transferred back without a copy.
   */
  async embed(texts: string[]): Promise<{ vectors: Float32Array; dim: number; ms: number }> {
    if (!loaded) {
      throw new ModelNotInstalledError('No embedding model is loaded');
    }
    const { extractor, dim, request } = loaded;
    const started = performance.now();
    const vectors = new Float32Array(texts.length * dim);
    try {
      for (let i = 0; i < texts.length; i += BATCH) {
        const output = await extractor(texts.slice(i, i + BATCH), { pooling: 'mean', normalize: true });
        vectors.set(output.data as Float32Array, i * dim);
        output.dispose();
      }
    } catch (error) {
      throw runError(request, error);
    }
    return transfer({ vectors, dim, ms: performance.now() - started }, [vectors.buffer]);
  }
};

export type EmbedWorkerApi = typeof api;
expose(api);
