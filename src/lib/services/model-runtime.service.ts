import { selectVariant, type DeviceCapabilities } from '#lib/core/capabilities.ts';
import { ModelNotInstalledError } from '#lib/core/errors.ts';
import type { ModelEntry, ModelVariant } from '#lib/core/manifest.ts';
import type { ModelLoadRequest } from '#lib/core/model-load-request.ts';
import type { LoadProgress } from '#lib/core/engine-types.ts';
import { db } from '#lib/db/index.ts';
import type { BridgeEvents } from '#lib/workers/model-worker-bridge.ts';
import { detectCapabilities } from './capabilities.service.ts';
import { appEvents, type AppEvents } from './app-events.ts';
import type { Settings } from './settings.service.ts';

export type EngineName = AppEvents['engine:fallback']['engine'];

export interface ReadyModel {
  model: ModelEntry;
  variant: ModelVariant;
  loadMs: number;
}

/** The part of a worker bridge that loading needs. */
interface LoadingBridge<R extends ModelLoadRequest> {
  readonly loaded: R | null;
  load(
    request: R,
    onProgress: (progress: LoadProgress) => void,
    wasmFallback?: R
  ): Promise<{ loadMs: number; request: R }>;
  /** Stops the worker, freeing the model's memory. */
  dispose(): void;
}

let capabilities: Promise<DeviceCapabilities> | undefined;

/** The last model each engine loaded, and the bridge that holds it (until an idle stop or a crash). */
const loads = new Map<EngineName, { bridge: LoadingBridge<ModelLoadRequest>; ready: ReadyModel }>();

/** Which models occupy GPU or WASM memory on this device now, by engine. */
export function residentModels(): Map<EngineName, ReadyModel> {
  const resident = new Map<EngineName, ReadyModel>();
  for (const [engine, { bridge, ready }] of loads) {
    if (bridge.loaded?.modelId === ready.model.id && bridge.loaded.device === ready.variant.device) {
      resident.set(engine, ready);
    }
  }
  return resident;
}

/** Frees the memory of `modelId` in whichever engine holds it (it is being uninstalled, say). */
export function releaseModel(modelId: string): void {
  for (const [engine, { bridge }] of loads) {
    if (bridge.loaded?.modelId === modelId) {
      bridge.dispose();
      loads.delete(engine);
    }
  }
}

/**
 * Loads models into one worker bridge the same way for every engine: the best installed variant
 * this device can run, WebGPU → WASM when WebGPU fails, and WebGPU not retried after it failed or
 * the GPU was lost in this page's lifetime. Build the bridge with `events` so losses are counted;
 * a move to WASM is told to the app as `engine:fallback`.
 */
export function modelRuntime<R extends ModelLoadRequest>(
  engine: EngineName,
  toRequest: (model: ModelEntry, variant: ModelVariant, host: string) => R
) {
  const failedDevices = new Set<ModelVariant['device']>();
  const events: BridgeEvents = {
    onFallback: (reason) => {
      failedDevices.add('webgpu');
      appEvents.emit('engine:fallback', { engine, reason });
    }
  };
  return {
    events,
    /** Makes `model` ready in `bridge`; a no-op when it is loaded there already. */
    async prepare(
      bridge: LoadingBridge<R>,
      model: ModelEntry,
      settings: Settings,
      onProgress: (progress: LoadProgress) => void
    ): Promise<ReadyModel> {
      const installed = await db.models.get(model.id);
      if (!installed) {
        throw new ModelNotInstalledError(`${model.name} is not installed yet`);
      }
      capabilities ??= detectCapabilities();
      const { variant } = selectVariant(model, await capabilities, {
        preferred: settings.variantOverrides[model.id] ?? installed.variantId,
        exclude: [...failedDevices]
      });
      const current = bridge.loaded;
      if (current && current.modelId === model.id && current.device === variant.device) {
        return { model, variant, loadMs: 0 };
      }
      const wasm = model.variants.find((v) => v.device === 'wasm');
      const result = await bridge.load(
        toRequest(model, variant, installed.host),
        onProgress,
        wasm && variant.device === 'webgpu' ? toRequest(model, wasm, installed.host) : undefined
      );
      if (result.request.device !== variant.device) {
        failedDevices.add(variant.device);
      }
      const used = model.variants.find((v) => v.device === result.request.device && v.dtype === result.request.dtype);
      const ready = { model, variant: used ?? variant, loadMs: result.loadMs };
      loads.set(engine, { bridge, ready });
      return ready;
    }
  };
}
