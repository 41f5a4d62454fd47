import type { ModelEntry, ModelVariant } from '#lib/core/manifest.ts';
import { modelLoadRequest, type ModelLoadRequest } from '#lib/core/model-load-request.ts';
import { vlmLoadRequest } from '#lib/core/vlm-load-request.ts';
import type { VlmLoadRequest } from '#lib/core/vlm-types.ts';
import { installModel } from '#lib/services/model-install.service.ts';
import { FLORENCE_BENCH } from './florence-request.ts';

const mirror = new URL('/models/', location.origin).href;
const ortBase = new URL('/ort/', location.origin).href;

/** An fp32 variant over the generator's files; sizes are not pinned because the generator writes them. */
function fp32(required: string[], optional: string[]): ModelVariant {
  return {
    id: 'fp32',
    device: 'wasm',
    dtype: 'fp32',
    bytes: 1,
    files: [...required.map((path) => ({ path })), ...optional.map((path) => ({ path, optional: true }))]
  };
}

/**
 * The architecture-faithful random models `npm run bench` generates (real layer counts and
 * widths, so timings are honest; the weights are noise), installed through the real installer
 * from the local mirror.
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
    variants: [
      fp32(
        [
          'config.json',
          'preprocessor_config.json',
          'tokenizer.json',
          'tokenizer_config.json',
          'onnx/embed_tokens.onnx',
          'onnx/vision_encoder.onnx',
          'onnx/decoder_model_merged.onnx'
        ],
        ['generation_config.json', 'processor_config.json', 'special_tokens_map.json']
      )
    ]
  } satisfies ModelEntry
};

export const BENCH_MINILM: ModelEntry = {
  id: 'minilm-l6-faithful',
  name: 'all-MiniLM-L6-v2 (architecture-faithful, random weights)',
  task: 'feature-extraction',
  engine: 'transformers.js',
  architecture: 'bert',
  source: { repo: 'vision-hub-dev/minilm-l6-faithful', revision: 'main' },
  license: 'apache-2.0',
  dev: true,
  variants: [
    fp32(['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx'], ['special_tokens_map.json'])
  ]
};

export const BENCH_FLORENCE2: ModelEntry = {
  id: 'florence2-base-faithful',
  name: 'Florence-2-base (architecture-faithful, random weights)',
  task: 'image-text-to-text',
  engine: 'transformers.js',
  architecture: 'florence2',
  source: { repo: FLORENCE_BENCH.repo, revision: 'main' },
  license: 'mit',
  dev: true,
  variants: [
    fp32(
      [
        'config.json',
        'preprocessor_config.json',
        'tokenizer.json',
        'tokenizer_config.json',
        'onnx/embed_tokens.onnx',
        'onnx/vision_encoder.onnx',
        'onnx/encoder_model.onnx',
        'onnx/decoder_model_merged.onnx'
      ],
      ['generation_config.json', 'special_tokens_map.json']
    )
  ]
};

export async function installBenchModel(entry: ModelEntry = BENCH_SMOLVLM.entry): Promise<void> {
  await installModel(entry, entry.variants[0]!, mirror, () => undefined);
}

export function benchLoadRequest(device: 'wasm' | 'webgpu', entry: ModelEntry = BENCH_SMOLVLM.entry): VlmLoadRequest {
  return vlmLoadRequest(entry, { ...entry.variants[0]!, device }, mirror, ortBase);
}

export function benchEmbedRequest(device: 'wasm' | 'webgpu'): ModelLoadRequest {
  return modelLoadRequest(BENCH_MINILM, { ...BENCH_MINILM.variants[0]!, device }, 'feature-extraction', {
    modelHost: mirror,
    ortBase
  });
}
