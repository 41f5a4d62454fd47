/**
 * transformers.js as every worker built on it runs it: it reads only the model cache the
 * installer filled, its ONNX Runtime comes from this app's origin, a lost GPU is reported, and a
 * failed load becomes an error the bridge understands. Only workers that use transformers.js
 * import this module (importing it configures nothing; `loadModel` does).
 */
import { env } from '@huggingface/transformers';
import type { LoadProgress } from '#lib/core/engine-types.ts';
import { ModelLoadError, ModelNotInstalledError } from '#lib/core/errors.ts';
import type { ModelLoadRequest } from '#lib/core/model-load-request.ts';
import { MODEL_CACHE_NAME } from '#lib/core/model-cache.ts';
import { release } from './common.ts';
import { configureOrt, watchOrtDevice } from './onnx-web.ts';

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

/**
 * Points transformers.js at the model cache the installer filled (files come only from there)
 * and its ONNX Runtime at this app's origin. `loadModel` calls it; tests that drive
 * transformers.js in the page call it themselves.
 */
export function configureTransformers(request: ModelLoadRequest): void {
  env.allowLocalModels = false;
  env.allowRemoteModels = true;
  env.fetch = cacheOnlyFetch(request.modelHost);
  env.useBrowserCache = true;
  env.cacheKey = MODEL_CACHE_NAME;
  env.remoteHost = request.modelHost;
  // The service worker caches /ort/ already; the default would store a second 27 MB copy with the models.
  env.useWasmCache = false;
  configureOrt(env.backends.onnx, request.ortBase);
}

/** transformers.js's progress events → the bridge's per-file progress. */
function progressCallback(onProgress: (progress: LoadProgress) => void) {
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

/**
 * The load protocol every transformers.js worker follows: point transformers.js at the model
 * cache, run `build` with a progress callback, turn a failure into the error the bridge acts on,
 * release the callbacks it no longer needs, and report a lost GPU from then on.
 */
export async function loadModel<T>(
  request: ModelLoadRequest,
  onProgress: (progress: LoadProgress) => void,
  onDeviceLost: (message: string) => void,
  build: (progress_callback: ReturnType<typeof progressCallback>) => Promise<T>
): Promise<T> {
  configureTransformers(request);
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
    await watchOrtDevice(env.backends.onnx, onDeviceLost);
  }
  return built;
}
