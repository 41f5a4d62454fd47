/**
 * What every worker does the same way, whatever engine runs its model: a run that failed because
 * the GPU went away becomes the DeviceLostError the bridge falls back on, a lost WebGPU device is
 * reported, and comlink callbacks are released once done. No engine is imported here.
 */
import { releaseProxy, type Remote } from 'comlink';
import { DeviceLostError } from '#lib/core/errors.ts';
import type { ModelLoadRequest } from '#lib/core/model-load-request.ts';

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

/** Calls `onDeviceLost` when `device` is lost (not when the runtime destroys it on purpose, as on dispose). */
export function watchDeviceLost(device: GPUDevice | undefined, onDeviceLost: (message: string) => void): void {
  void device?.lost.then((info) => {
    if (info.reason !== 'destroyed') {
      onDeviceLost(info.message || 'The GPU device was lost');
    }
  });
}
