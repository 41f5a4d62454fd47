/** Shapes only the VLM worker, its bridge and the UI share (engine-neutral ones: engine-types.ts). */
import type { ModelLoadRequest } from './model-load-request.ts';

/** The registry's architectures the VLM worker runs: the camera's models. */
export const VLM_ARCHITECTURES = ['idefics3', 'smolvlm', 'llava_onevision', 'moondream1', 'florence2'] as const;
export type VlmArchitecture = (typeof VLM_ARCHITECTURES)[number];

export function isVlmArchitecture(architecture: string): architecture is VlmArchitecture {
  return (VLM_ARCHITECTURES as readonly string[]).includes(architecture);
}

export interface VlmLoadRequest extends ModelLoadRequest {
  /** Decides how prompt and image become model inputs (chat template, moondream's format, Florence-2's tasks). */
  architecture: VlmArchitecture;
}

export type VlmFrame = ImageBitmap | VideoFrame;
