import { ModelLoadError } from './errors.ts';
import type { ModelEntry, ModelVariant } from './manifest.ts';

/** What a model worker needs to load one variant of a model from the model cache. */
export interface ModelLoadRequest {
  modelId: string;
  repo: string;
  revision: string;
  device: 'webgpu' | 'wasm';
  dtype: string | Record<string, string>;
  /** Base URL the model files were installed from; the model cache is keyed by it. */
  modelHost: string;
  /** Absolute URL of the folder with onnxruntime-web's runtime files. */
  ortBase: string;
}

/** The load request for `variant` of `model`, refusing a model made for another task. */
export function modelLoadRequest(
  model: ModelEntry,
  variant: ModelVariant,
  task: ModelEntry['task'],
  hosts: { modelHost: string; ortBase: string }
): ModelLoadRequest {
  if (model.task !== task) {
    throw new ModelLoadError(`${model.name} is a ${model.task} model, not ${task}`);
  }
  return {
    modelId: model.id,
    repo: model.source.repo,
    revision: model.source.revision,
    device: variant.device,
    dtype: variant.dtype,
    ...hosts
  };
}
