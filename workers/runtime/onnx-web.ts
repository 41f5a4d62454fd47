/**
 * onnxruntime-web as this app runs it, whoever drives it: transformers.js (which exposes ORT's
 * `env` as `env.backends.onnx`) or a worker that imports onnxruntime-web itself and passes `ort.env`.
 * The runtime files come from this app's origin (offline must work), never from a CDN.
 */
import { ORT_RUNTIME_FILES } from '#lib/core/ort-runtime.ts';
import { watchDeviceLost } from './common.ts';

/** The part of onnxruntime-web's `env` configured here (typed locally: ORT is not a direct dependency). */
export interface OrtEnv {
  wasm?: { wasmPaths?: string | URL | { mjs?: string | URL; wasm?: string | URL } };
  webgpu?: { readonly device: Promise<GPUDevice> };
}

/** Points ORT at the runtime files this app serves under `ortBase`. */
export function configureOrt(ortEnv: OrtEnv, ortBase: string): void {
  const [mjs, wasm] = ORT_RUNTIME_FILES;
  if (ortEnv.wasm) {
    ortEnv.wasm.wasmPaths = { mjs: ortBase + mjs, wasm: ortBase + wasm };
  }
}

/** Calls `onDeviceLost` when the WebGPU device ORT runs on is lost. */
export async function watchOrtDevice(ortEnv: OrtEnv, onDeviceLost: (message: string) => void): Promise<void> {
  watchDeviceLost(await ortEnv.webgpu?.device, onDeviceLost);
}
