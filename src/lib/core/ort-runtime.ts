/**
 * The onnxruntime-web build transformers.js loads (its WebGPU bundle uses the asyncify
 * runtime for both the WebGPU and WASM providers). The app serves these itself.
 */
export const ORT_RUNTIME_PATH = '/ort/';
export const ORT_RUNTIME_FILES = [
  'ort-wasm-simd-threaded.asyncify.mjs',
  'ort-wasm-simd-threaded.asyncify.wasm'
] as const;
