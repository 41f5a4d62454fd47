import type { ModelEntry, ModelVariant } from '#lib/core/manifest.ts';
import { vlmLoadRequest } from '#lib/core/vlm-load-request.ts';
import type { VlmLoadRequest } from '#lib/core/vlm-types.ts';
import { installModel } from '#lib/services/model-install.service.ts';

const mirror = new URL('/models/', location.origin).href;
const required = ['config.json', 'preprocessor_config.json', 'tokenizer.json', 'tokenizer_config.json'];
const optional = ['generation_config.json', 'processor_config.json', 'special_tokens_map.json'];
const onnx = ['onnx/embed_tokens.onnx', 'onnx/vision_encoder.onnx', 'onnx/decoder_model_merged.onnx'];

const variant: ModelVariant = {
  id: 'fp32',
  device: 'wasm',
  dtype: 'fp32',
  bytes: 1,
  files: [
    ...required.map((path) => ({ path })),
    ...optional.map((path) => ({ path, optional: true })),
    ...onnx.map((path) => ({ path }))
  ]
};

/**
 * The architecture-faithful random SmolVLM-256M that `npm run bench` generates (real layer
 * counts and widths, so timings are honest; the weights are noise). Installed through the real
 * installer from the local mirror; sizes are not pinned because the generator writes them.
 */
export const BENCH_SMOLVLM = {
  /** SmolVLM-256M's vision encoder input: 512×512 (32×32 patches of 16 pixels). */
  imageSize: 512,
  entry: {
    id: 'smolvlm-256m-faithful',
    name: 'SmolVLM-256M (architecture-faithful, random weights)',
    task: 'image-text-to-text',
    engine: 'transformers.js',
    architecture: 'idefics3',
    source: { repo: 'vision-hub-dev/smolvlm-256m-faithful', revision: 'main' },
    license: 'apache-2.0',
    dev: true,
    variants: [variant]
  } satisfies ModelEntry
};

export async function installBenchModel(): Promise<void> {
  await installModel(BENCH_SMOLVLM.entry, variant, mirror, () => undefined);
}

export function benchLoadRequest(device: 'wasm' | 'webgpu'): VlmLoadRequest {
  const onDevice = { ...variant, device };
  return vlmLoadRequest(BENCH_SMOLVLM.entry, onDevice, mirror, new URL('/ort/', location.origin).href);
}
