import type { ModelEntry } from '#lib/core/manifest.ts';
import { vlmLoadRequest } from '#lib/core/vlm-load-request.ts';
import type { GenerationStats, LoadProgress } from '#lib/core/engine-types.ts';
import { VlmBridge } from '#lib/workers/vlm-bridge.ts';
import { modelRuntime, type ReadyModel } from './model-runtime.service.ts';
import { addObservation, thumbnailOf } from './observations.service.ts';
import { ortBase } from './registry.service.ts';
import type { Settings } from './settings.service.ts';

export type { ReadyModel } from './model-runtime.service.ts';

const runtime = modelRuntime((model, variant, host) => vlmLoadRequest(model, variant, host, ortBase()));
const bridge = new VlmBridge({ events: runtime.events });

/** Tells `listener` when the assistant's model moves from WebGPU to WASM (failed load, lost GPU). */
export function onBackendFallback(listener: (reason: string) => void): void {
  runtime.onFallback(listener);
}

/**
 * Makes `model` ready in the worker: the best variant this device can run among those that
 * are installed, falling back from WebGPU to WASM when WebGPU fails.
 */
export function prepareModel(
  model: ModelEntry,
  settings: Settings,
  onProgress: (progress: LoadProgress) => void
): Promise<ReadyModel> {
  return runtime.prepare(bridge, model, settings, onProgress);
}

export interface AskRequest {
  frame: ImageBitmap;
  prompt: string;
  source: 'camera' | 'upload' | 'continuous';
  maxNewTokens?: number;
}

/**
 * Asks the loaded model about a frame and records the observation. The frame is transferred
 * to the worker, so a thumbnail is taken first.
 */
export async function ask(
  ready: ReadyModel,
  request: AskRequest,
  onToken: (text: string) => void,
  signal?: AbortSignal
): Promise<GenerationStats> {
  const thumbnail = await thumbnailOf(request.frame, request.frame.width, request.frame.height);
  const stats = await bridge.generate(
    request.frame,
    request.prompt,
    { maxNewTokens: request.maxNewTokens },
    onToken,
    signal
  );
  const { text, ...timings } = stats;
  await addObservation({
    createdAt: Date.now(),
    prompt: request.prompt,
    answer: text,
    modelId: ready.model.id,
    variantId: ready.variant.id,
    thumbnail,
    stats: timings,
    source: request.source
  });
  return stats;
}

/** Long enough for a few cited sentences; the decoder's speed makes every token count on a phone. */
const COMPOSE_MAX_TOKENS = 256;

/**
 * Streams an answer that is not an observation of the scene — over retrieved passages, or a task
 * question the templates could not settle — about `frame` if given, else the prompt alone.
 * Nothing is recorded in the history.
 */
export function compose(
  prompt: string,
  frame: ImageBitmap | null,
  onToken: (text: string) => void,
  signal?: AbortSignal
): Promise<GenerationStats> {
  return bridge.generate(frame, prompt, { maxNewTokens: COMPOSE_MAX_TOKENS }, onToken, signal);
}
