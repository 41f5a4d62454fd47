import manifestJson from '../../../models-manifest.json';
import { parseManifest, type ModelEntry, type ModelManifest } from '#lib/core/manifest.ts';
import { ORT_RUNTIME_PATH } from '#lib/core/ort-runtime.ts';

export const DEFAULT_MODEL_HOST = 'https://huggingface.co/';

let parsed: ModelManifest | null = null;

/** The model registry, validated once; a bad manifest throws a ManifestError listing every problem. */
export function registry(): ModelManifest {
  parsed ??= parseManifest(manifestJson);
  return parsed;
}

/** Models for one task, real ones first; generated test models are listed last and labelled as such. */
export function modelsFor(task: ModelEntry['task']): ModelEntry[] {
  const models = registry().models.filter((m) => m.task === task);
  return [...models.filter((m) => !m.dev), ...models.filter((m) => m.dev)];
}

/** Generated dev models come from this app's own mirror; real ones from the configured host. */
export function modelHostFor(model: ModelEntry, configuredHost: string): string {
  return model.dev ? new URL('/models/', location.origin).href : configuredHost;
}

export function ortBase(): string {
  return new URL(ORT_RUNTIME_PATH, location.origin).href;
}
