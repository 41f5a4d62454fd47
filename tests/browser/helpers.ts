import { parseManifest, type ModelEntry, type ModelVariant } from '#lib/core/manifest.ts';
import { vlmLoadRequest } from '#lib/core/vlm-load-request.ts';
import type { VlmLoadRequest } from '#lib/core/vlm-types.ts';
import manifestJson from '../../models-manifest.json';

export const registry = parseManifest(manifestJson);
export const mirror = new URL('/models/', location.origin).href;

export function devModel(repo: string): ModelEntry {
  const model = registry.models.find((m) => m.source.repo === repo);
  if (!model) {
    throw new Error(`No dev model ${repo} in models-manifest.json`);
  }
  return model;
}

export function variantOn(model: ModelEntry, device: ModelVariant['device']): ModelVariant {
  const variant = model.variants.find((v) => v.device === device);
  if (!variant) {
    throw new Error(`${model.id} has no ${device} variant`);
  }
  return variant;
}

export function loadRequest(model: ModelEntry, device: ModelVariant['device'], host = mirror): VlmLoadRequest {
  return vlmLoadRequest(model, variantOn(model, device), host, new URL('/ort/', location.origin).href);
}

/** A colourful test frame, as the camera would hand over. */
export async function testFrame(width = 320, height = 240): Promise<ImageBitmap> {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d')!;
  const gradient = context.createLinearGradient(0, 0, width, height);
  gradient.addColorStop(0, '#e11d48');
  gradient.addColorStop(1, '#2563eb');
  context.fillStyle = gradient;
  context.fillRect(0, 0, width, height);
  return createImageBitmap(canvas);
}
