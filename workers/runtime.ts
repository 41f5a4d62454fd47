/**
 * What every model worker does the same way: transformers.js reads only the model cache the
 * installer filled, ONNX Runtime comes from this app's origin, a lost GPU is reported, and a
 * failed load becomes an error the bridge understands.
 */
import { env } from '@huggingface/transformers';
import { releaseProxy, type Remote } from 'comlink';
import { DeviceLostError, ModelLoadError, ModelNotInstalledError } from '#lib/core/errors.ts';
import type { ModelLoadRequest } from '#lib/core/model-load-request.ts';
import { MODEL_CACHE_NAME } from '#lib/core/model-cache.ts';
import { ORT_RUNTIME_FILES } from '#lib/core/ort-runtime.ts';

/** A cache miss under the model host means the model is not (fully) installed: 404, never a download. */
function cacheOnlyFetch(modelHost: string): typeof fetch {
  return (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url.startsWith(modelHost)) {
      return Promise.resolve(new Response(null, { status: 404, statusText: 'Not installed' }));
    }
    return fetch(input, init);
  };
}

/** Files come only from the model cache the installer filled; the ORT runtime from this app's origin. */
function configureRuntime(request: ModelLoadRequest): void {
  env.allowLocalModels = false;
  env.allowRemoteModels = true;
  env.fetch = cacheOnlyFetch(request.modelHost);
  env.useBrowserCache = true;
  env.cacheKey = MODEL_CACHE_NAME;
  env.remoteHost = request.modelHost;
  // The service worker caches /ort/ already; the default would store a second 27 MB copy with the models.
  env.useWasmCache = false;
  const [mjs, wasm] = ORT_RUNTIME_FILES;
  const onnx = env.backends.onnx;
  if (onnx.wasm) {
    onnx.wasm.wasmPaths = { mjs: request.ortBase + mjs, wasm: request.ortBase + wasm };
  }
}

/** Calls `onDeviceLost` when the WebGPU device ONNX Runtime uses is lost (not when it is destroyed on unload). */
async function watchDevice(onDeviceLost: (message: string) => void): Promise<void> {
  const device = (await env.backends.onnx.webgpu?.device) as GPUDevice | undefined;
  void device?.lost.then((info) => {
    if (info.reason !== 'destroyed') {
      onDeviceLost(info.message || 'The GPU device was lost');
    }
  });
}

/** transformers.js's progress events → the bridge's per-file progress. */
function progressCallback(onProgress: (progress: { file: string; loaded: number; total: number }) => void) {
  return (info: { status: string; file?: string; loaded?: number; total?: number }) => {
    if (info.status === 'progress' && info.file) {
      onProgress({ file: info.file, loaded: info.loaded ?? 0, total: info.total ?? 0 });
    }
  };
}

/** A failed load as the error the bridge acts on: "not installed" offers an install, anything else a reload. */
function loadError(request: ModelLoadRequest, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && error.name === 'ModelFileNotFoundError') {
    return new ModelNotInstalledError(`Model files for ${request.modelId} are missing: install it first`, {
      cause: error
    });
  }
  return new ModelLoadError(`Could not load ${request.modelId} on ${request.device}: ${message}`, { cause: error });
}

/** A run that failed because the GPU went away, as the DeviceLostError the bridge falls back on. */
export function runError(request: ModelLoadRequest, error: unknown): unknown {
  const message = error instanceof Error ? error.message : String(error);
  if (request.device === 'webgpu' && /device (is )?lost|GPUDevice|destroyed/i.test(message)) {
    return new DeviceLostError(`The GPU stopped responding: ${message}`, { cause: error });
  }
  return error;
}

/** Callbacks arrive as comlink proxies; releasing closes their message channel. */
export function release(callback: unknown): void {
  (callback as Remote<unknown>)[releaseProxy]();
}

/**
 * The load protocol every model worker follows: point transformers.js at the model cache, run
 * `build` with a progress callback, turn a failure into the error the bridge acts on, release the
 * callbacks it no longer needs, and report a lost GPU from then on.
 */
export async function loadModel<T>(
  request: ModelLoadRequest,
  onProgress: (progress: { file: string; loaded: number; total: number }) => void,
  onDeviceLost: (message: string) => void,
  build: (progress_callback: ReturnType<typeof progressCallback>) => Promise<T>
): Promise<T> {
  configureRuntime(request);
  let built: T;
  try {
    built = await build(progressCallback(onProgress));
  } catch (error) {
    release(onDeviceLost);
    throw loadError(request, error);
  } finally {
    release(onProgress);
  }
  if (request.device === 'webgpu') {
    await watchDevice(onDeviceLost);
  }
  return built;
}
