/** Shapes only the VLM worker, its bridge and the UI share (engine-neutral ones: engine-types.ts). */
import type { ModelLoadRequest } from './model-load-request.ts';

export interface VlmLoadRequest extends ModelLoadRequest {
  /** Decides how prompt and image become model inputs (chat template, moondream's format, Florence-2's tasks). */
  architecture: 'idefics3' | 'smolvlm' | 'llava_onevision' | 'moondream1' | 'florence2';
}

export type VlmFrame = ImageBitmap | VideoFrame;
