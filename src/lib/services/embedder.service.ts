import type { Embedder } from '#lib/core/embedder.ts';
import type { ModelEntry } from '#lib/core/manifest.ts';
import { modelLoadRequest } from '#lib/core/model-load-request.ts';
import type { LoadProgress } from '#lib/core/engine-types.ts';
import { EmbedBridge } from '#lib/workers/embed-bridge.ts';
import { modelRuntime } from './model-runtime.service.ts';
import { ortBase } from './registry.service.ts';
import type { Settings } from './settings.service.ts';

const runtime = modelRuntime('embed', (model, variant, host) =>
  modelLoadRequest(model, variant, 'feature-extraction', { modelHost: host, ortBase: ortBase() })
);
const bridge = new EmbedBridge({ events: runtime.events });

/** The embedding model, loaded in its worker, as the knowledge base's Embedder. */
export async function prepareEmbedder(
  model: ModelEntry,
  settings: Settings,
  onProgress: (progress: LoadProgress) => void
): Promise<Embedder> {
  await runtime.prepare(bridge, model, settings, onProgress);
  return { modelId: model.id, embed: (texts) => bridge.embed(texts) };
}
