/**
 * Shapes every on-device engine shares with its bridge and the UI, whatever runs the model
 * (transformers.js, onnxruntime-web, WebLLM …). Only types cross the worker boundary.
 */
import type { FrameAnnotations } from './annotations.ts';

/** Bytes of one model file read so far while a worker loads a model. */
export interface LoadProgress {
  file: string;
  loaded: number;
  total: number;
}

/** Tokens an answer may run to when the caller sets no limit: a few sentences, quick on a phone. */
export const DEFAULT_MAX_NEW_TOKENS = 128;

export interface GenerateOptions {
  /** At most this many tokens; DEFAULT_MAX_NEW_TOKENS when absent. */
  maxNewTokens?: number;
}

/** How one text generation went: the answer and where its time went. */
export interface GenerationStats {
  text: string;
  /** Tokens written. */
  tokens: number;
  /** Tokens the model read before writing: the prompt, image tokens included. */
  promptTokens: number;
  /** Request to model inputs: scaling and normalizing pixels (if any), tokenizing the prompt. */
  preprocessMs: number;
  /** Vision encoder share of time to first token; 0 when no image was encoded. */
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
  /** Regions the model found in the frame (Florence-2's text lines, objects, a found phrase). */
  annotations?: FrameAnnotations | null;
}
