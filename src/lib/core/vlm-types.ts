/** Shapes only the VLM worker, its bridge and the UI share (engine-neutral ones: engine-types.ts). */
import type { ModelLoadRequest } from './model-load-request.ts';

export interface VlmLoadRequest extends ModelLoadRequest {
  /** Decides how prompt and image become model inputs (chat template vs moondream's format). */
  architecture: 'idefics3' | 'moondream1';
}

export type VlmFrame = ImageBitmap | VideoFrame;
