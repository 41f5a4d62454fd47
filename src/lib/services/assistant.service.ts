import { selectVariant, type DeviceCapabilities } from '#lib/core/capabilities.ts';
import { ModelNotInstalledError } from '#lib/core/errors.ts';
import type { ModelEntry, ModelVariant } from '#lib/core/manifest.ts';
import { vlmLoadRequest } from '#lib/core/vlm-load-request.ts';
import type { GenerationStats, LoadProgress, VlmLoadRequest } from '#lib/core/vlm-types.ts';
import { db } from '#lib/db/index.ts';
import { detectCapabilities } from '#lib/workers/capabilities.ts';
import { VlmBridge } from '#lib/workers/vlm-bridge.ts';
import { addObservation, thumbnailOf } from './observations.service.ts';
import { ortBase } from './registry.service.ts';
import type { Settings } from './settings.service.ts';

export interface ReadyModel {
  model: ModelEntry;
  variant: ModelVariant;
  loadMs: number;
}

let onFallback: (reason: string) => void = () => undefined;
const bridge = new VlmBridge({ events: { onFallback: (reason) => onFallback(reason) } });
/** Devices that failed in this page's lifetime; WebGPU is not retried after a crash or loss. */
const failedDevices = new Set<ModelVariant['device']>();
let capabilities: Promise<DeviceCapabilities> | undefined;

export function onBackendFallback(listener: (reason: string) => void): void {
  onFallback = (reason) => {
    failedDevices.add('webgpu');
    listener(reason);
  };
}

function loadRequest(model: ModelEntry, variant: ModelVariant, host: string): VlmLoadRequest {
  return vlmLoadRequest(model, variant, host, ortBase());
}

/**
 * Makes `model` ready in the worker: the best variant this device can run among those that
 * are installed, falling back from WebGPU to WASM when WebGPU fails.
 */
export async function prepareModel(
  model: ModelEntry,
  settings: Settings,
  onProgress: (progress: LoadProgress) => void
): Promise<ReadyModel> {
  const installed = await db.models.get(model.id);
  if (!installed) {
    throw new ModelNotInstalledError(`${model.name} is not installed yet`);
  }
  capabilities ??= detectCapabilities();
  const caps = await capabilities;
  const { variant } = selectVariant(model, caps, {
    preferred: settings.variantOverrides[model.id] ?? installed.variantId,
    exclude: [...failedDevices]
  });
  const current = bridge.loaded;
  if (current && current.modelId === model.id && current.device === variant.device) {
    return { model, variant, loadMs: 0 };
  }
  const wasm = model.variants.find((v) => v.device === 'wasm');
  const result = await bridge.load(
    loadRequest(model, variant, installed.host),
    onProgress,
    wasm && variant.device === 'webgpu' ? loadRequest(model, wasm, installed.host) : undefined
  );
  if (result.request.device !== variant.device) {
    failedDevices.add(variant.device);
  }
  const used = model.variants.find((v) => v.device === result.request.device && v.dtype === result.request.dtype);
  return { model, variant: used ?? variant, loadMs: result.loadMs };
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
