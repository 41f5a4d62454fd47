import { describe, expect, it } from 'vitest';
import { ModelNotInstalledError } from '#lib/core/errors.ts';
import { modelLoadRequest, type ModelLoadRequest } from '#lib/core/model-load-request.ts';
import type { LoadProgress } from '#lib/core/engine-types.ts';
import { installModel } from '#lib/services/model-install.service.ts';
import { EmbedBridge } from '#lib/workers/embed-bridge.ts';
import { devModel, mirror, variantOn } from './helpers.ts';

const bert = devModel('vision-hub-dev/tiny-bert');
const hosts = { modelHost: mirror, ortBase: new URL('/ort/', location.origin).href };
const requestOn = (device: 'wasm' | 'webgpu'): ModelLoadRequest =>
  modelLoadRequest(bert, variantOn(bert, device), 'feature-extraction', hosts);

const texts = Array.from({ length: 40 }, (_, i) => `Passage ${i}: step ${i % 7} of the coffee recipe.`);

function row(vectors: Float32Array, dim: number, i: number): Float32Array {
  return vectors.subarray(i * dim, (i + 1) * dim);
}

describe('EmbedBridge', () => {
  it('embeds in batches on WASM: one normalized vector per text, independent of the batch', async () => {
    await installModel(bert, variantOn(bert, 'wasm'), mirror, () => undefined);
    const bridge = new EmbedBridge();
    const progress: LoadProgress[] = [];
    const { dim } = await bridge.load(requestOn('wasm'), (p) => progress.push(p));
    expect(progress.some((p) => p.file.endsWith('model.onnx'))).toBe(true);
    expect(dim).toBeGreaterThan(0);

    const { vectors } = await bridge.embed(texts);
    expect(vectors.length).toBe(texts.length * dim);
    for (let i = 0; i < texts.length; i += 1) {
      const norm = Math.hypot(...row(vectors, dim, i));
      expect(norm).toBeCloseTo(1, 4);
    }
    // A text embedded alone gets the same vector as inside a padded batch.
    const alone = await bridge.embed([texts[13]!]);
    row(vectors, dim, 13).forEach((value, j) => expect(value).toBeCloseTo(alone.vectors[j]!, 4));
    // Different texts get different vectors.
    expect([...row(vectors, dim, 0)]).not.toEqual([...row(vectors, dim, 1)]);
    bridge.dispose();
  });

  it('embeds on WebGPU when the browser has an adapter, matching WASM', async () => {
    await installModel(bert, variantOn(bert, 'webgpu'), mirror, () => undefined);
    const wasm = new EmbedBridge();
    const gpu = new EmbedBridge();
    await wasm.load(requestOn('wasm'), () => undefined);
    const { request } = await gpu.load(requestOn('webgpu'), () => undefined);
    expect(request.device).toBe('webgpu');
    const [a, b] = await Promise.all([wasm.embed(texts.slice(0, 4)), gpu.embed(texts.slice(0, 4))]);
    a.vectors.forEach((value, j) => expect(value).toBeCloseTo(b.vectors[j]!, 3));
    wasm.dispose();
    gpu.dispose();
  });

  it('says the model is not installed when its files are not in the cache, and refuses to embed', async () => {
    const bridge = new EmbedBridge();
    const elsewhere = { ...requestOn('wasm'), modelHost: 'https://models.invalid/' };
    await expect(bridge.load(elsewhere, () => undefined)).rejects.toBeInstanceOf(ModelNotInstalledError);
    await expect(bridge.embed(['x'])).rejects.toThrow(/No model is loaded/);
    bridge.dispose();
  });
});
