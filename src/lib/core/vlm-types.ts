/** Shapes shared by the VLM worker, its bridge and the UI (only types cross the boundary). */
import type { ModelLoadRequest } from './model-load-request.ts';

export interface VlmLoadRequest extends ModelLoadRequest {
  /** Decides how prompt and image become model inputs (chat template vs moondream's format). */
  architecture: 'idefics3' | 'moondream1';
}

export interface LoadProgress {
  file: string;
  loaded: number;
  total: number;
}

export interface GenerateOptions {
  maxNewTokens?: number;
}

export interface GenerationStats {
  text: string;
  tokens: number;
  /** Frame and prompt to model inputs: scaling and normalizing pixels, tokenizing the prompt. */
  preprocessMs: number;
  /** Vision encoder share of time to first token. */
  visionMs: number;
  /** Text prefill share: time to first token less preprocessing and vision. */
  prefillMs: number;
  /** From the start of the request to the first streamed token. */
  timeToFirstTokenMs: number;
  totalMs: number;
  /** Decode speed after the first token. */
  tokensPerSecond: number;
  device: 'webgpu' | 'wasm';
  aborted: boolean;
}

export type VlmFrame = ImageBitmap | VideoFrame;
