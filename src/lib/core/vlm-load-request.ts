import { ModelLoadError } from './errors.ts';
import type { ModelEntry, ModelVariant } from './manifest.ts';
import { modelLoadRequest } from './model-load-request.ts';
import { isVlmArchitecture, type VlmLoadRequest } from './vlm-types.ts';

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
