import { ModelLoadError } from './errors.ts';
import type { ModelEntry, ModelVariant } from './manifest.ts';
import { modelLoadRequest } from './model-load-request.ts';
import type { VlmLoadRequest } from './vlm-types.ts';

const VLM_ARCHITECTURES = new Set<string>(['idefics3', 'smolvlm', 'llava_onevision', 'moondream1', 'florence2']);

function isVlmArchitecture(architecture: ModelEntry['architecture']): architecture is VlmLoadRequest['architecture'] {
  return VLM_ARCHITECTURES.has(architecture);
}

/** What the VLM worker needs to load `variant` of `model` from the cache filled from `modelHost`. */
export function vlmLoadRequest(
  model: ModelEntry,
  variant: ModelVariant,
  modelHost: string,
  ortBase: string
): VlmLoadRequest {
  const { architecture } = model;
  if (!isVlmArchitecture(architecture)) {
    throw new ModelLoadError(`${model.name} is not a vision-language model`);
  }
  return { ...modelLoadRequest(model, variant, 'image-text-to-text', { modelHost, ortBase }), architecture };
}
