import { describe, expect, it } from 'vitest';
import {
  isSoftwareAdapter,
  selectVariant,
  SOFTWARE_WEBGPU_REASON,
  unmetRequirement,
  type DeviceCapabilities
} from '#lib/core/capabilities.ts';
import { ModelLoadError } from '#lib/core/errors.ts';
import type { ModelEntry, ModelVariant } from '#lib/core/manifest.ts';

const GiB = 2 ** 30;
const file = [{ path: 'onnx/model.onnx' }];
const variant = (id: string, device: ModelVariant['device'], requires?: ModelVariant['requires']): ModelVariant => ({
  id,
  device,
  dtype: 'fp32',
  bytes: 1,
  requires,
  files: file
});

const model: ModelEntry = {
  id: 'm',
  name: 'Model',
  task: 'image-text-to-text',
  engine: 'transformers.js',
  architecture: 'idefics3',
  source: { repo: 'a/b', revision: 'main' },
  license: 'apache-2.0',
  variants: [
    variant('webgpu-fp16', 'webgpu', { shaderF16: true }),
    variant('webgpu-fp32', 'webgpu', { maxBufferSize: 2 * GiB }),
    variant('webgpu-fp32-small', 'webgpu'),
    variant('wasm-q8', 'wasm', { deviceMemoryGiB: 2 })
  ]
};

const desktopGpu: DeviceCapabilities = {
  webgpu: true,
  softwareAdapter: false,
  shaderF16: true,
  maxBufferSize: 4 * GiB,
  maxStorageBufferBindingSize: 2 * GiB,
  deviceMemoryGiB: 8
};
// A GPU without shader-f16 and with 1 GiB buffers.
const smallGpu: DeviceCapabilities = { ...desktopGpu, shaderF16: false, maxBufferSize: GiB };
// What headless Chromium reports here: the same limits, emulated on the CPU.
const swiftShader: DeviceCapabilities = { ...smallGpu, softwareAdapter: true };
const noGpu: DeviceCapabilities = {
  webgpu: false,
  softwareAdapter: false,
  shaderF16: false,
  maxBufferSize: 0,
  maxStorageBufferBindingSize: 0
};

describe('selectVariant', () => {
  it('takes the best variant a capable GPU can run', () => {
    expect(selectVariant(model, desktopGpu).variant.id).toBe('webgpu-fp16');
  });

  it('skips variants whose requirements are unmet and says why', () => {
    const choice = selectVariant(model, smallGpu);
    expect(choice.variant.id).toBe('webgpu-fp32-small');
    expect(choice.skipped).toEqual([
      { id: 'webgpu-fp16', reason: 'the GPU lacks shader-f16' },
      { id: 'webgpu-fp32', reason: 'GPU buffers are limited to 1024 MiB, the model needs 2048 MiB' }
    ]);
  });

  it('falls back to WASM without WebGPU', () => {
    expect(selectVariant(model, noGpu).variant.id).toBe('wasm-q8');
  });

  it('excludes a device that failed earlier (WebGPU lost → WASM)', () => {
    const choice = selectVariant(model, desktopGpu, { exclude: ['webgpu'] });
    expect(choice.variant.id).toBe('wasm-q8');
    expect(choice.skipped.map((s) => s.reason)).toEqual(Array(3).fill('webgpu failed earlier in this session'));
  });

  it('honours the user override when it fits, and ignores it when it does not', () => {
    expect(selectVariant(model, desktopGpu, { preferred: 'wasm-q8' }).variant.id).toBe('wasm-q8');
    const choice = selectVariant(model, noGpu, { preferred: 'webgpu-fp16' });
    expect(choice.variant.id).toBe('wasm-q8');
    expect(choice.skipped[0]).toEqual({ id: 'webgpu-fp16', reason: 'WebGPU is not available' });
  });

  it('refuses with every reason when nothing fits', () => {
    const lowMemory = { ...noGpu, deviceMemoryGiB: 1 };
    expect(() => selectVariant(model, lowMemory)).toThrow(ModelLoadError);
    expect(() => selectVariant(model, lowMemory)).toThrow(/wasm-q8: the device reports 1 GiB of memory/);
  });

  it('does not hold unknown device memory against a variant', () => {
    const { deviceMemoryGiB: _, ...unknownMemory } = noGpu as DeviceCapabilities;
    expect(unmetRequirement(model.variants[3]!, unknownMemory)).toBeNull();
  });

  it('prefers WASM on a software adapter, and says why WebGPU was passed over', () => {
    const choice = selectVariant(model, swiftShader);
    expect(choice.variant.id).toBe('wasm-q8');
    expect(choice.skipped).toEqual([
      { id: 'webgpu-fp16', reason: 'the GPU lacks shader-f16' },
      { id: 'webgpu-fp32', reason: 'GPU buffers are limited to 1024 MiB, the model needs 2048 MiB' },
      { id: 'webgpu-fp32-small', reason: SOFTWARE_WEBGPU_REASON }
    ]);
  });

  it("keeps the user's WebGPU choice on a software adapter", () => {
    expect(selectVariant(model, swiftShader, { preferred: 'webgpu-fp32-small' }).variant.id).toBe('webgpu-fp32-small');
  });

  it('still runs on a software adapter when no WASM variant fits', () => {
    const choice = selectVariant(model, { ...swiftShader, deviceMemoryGiB: 1 });
    expect(choice.variant.id).toBe('webgpu-fp32-small');
    expect(choice.skipped.map((s) => s.reason)).not.toContain(SOFTWARE_WEBGPU_REASON);
  });
});

describe('isSoftwareAdapter', () => {
  const gpu = { vendor: 'nvidia', architecture: 'ampere', description: '' };

  it('believes the browser where it says so', () => {
    expect(isSoftwareAdapter({ ...gpu, isFallbackAdapter: true })).toBe(true);
    expect(isSoftwareAdapter({ ...gpu, isFallbackAdapter: false })).toBe(false);
  });

  it('recognises software renderers by name where the browser does not say', () => {
    expect(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader', description: '' })).toBe(true);
    expect(
      isSoftwareAdapter({ vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 15.0.7, 256 bits)' })
    ).toBe(true);
    expect(
      isSoftwareAdapter({ vendor: 'microsoft', architecture: '', description: 'Microsoft Basic Render Driver' })
    ).toBe(true);
    expect(isSoftwareAdapter(gpu)).toBe(false);
  });
});
