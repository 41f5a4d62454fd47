import type { MedgemmaAnalyzeRequest } from '#lib/core/edge-wire.ts';
import { testFrame } from './helpers.ts';

/** A camera-like JPEG as a data: URL, the way the app sends frames to MedGemma. */
export async function jpegDataUrl(): Promise<string> {
  const frame = await testFrame(160, 120);
  const canvas = new OffscreenCanvas(frame.width, frame.height);
  canvas.getContext('2d')!.drawImage(frame, 0, 0);
  const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.7 });
  const bytes = new Uint8Array(await blob.arrayBuffer());
  return `data:image/jpeg;base64,${btoa(String.fromCharCode(...bytes))}`;
}

/** `maxTokens` makes a job long: the random-weight model rarely stops before its limit. */
export async function analysisRequest(prompt: string, maxTokens?: number): Promise<MedgemmaAnalyzeRequest> {
  return {
    type: 'medgemma.analyze',
    input: { images: [{ url: await jpegDataUrl() }], prompt, ...(maxTokens && { max_tokens: maxTokens }) }
  };
}
