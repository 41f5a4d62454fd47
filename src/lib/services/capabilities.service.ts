import { isSoftwareAdapter, type DeviceCapabilities } from '#lib/core/capabilities.ts';

/** Whether `adapter` runs WebGPU on the CPU; older Chromium has the flag on the adapter, newer on its info. */
export function runsInSoftware(adapter: GPUAdapter): boolean {
  const { info } = adapter;
  return isSoftwareAdapter({
    vendor: info.vendor,
    architecture: info.architecture,
    description: info.description,
    isFallbackAdapter:
      (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ??
      (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter
  });
}

/** Measures WebGPU and memory limits; works in the page and in workers. */
export async function detectCapabilities(): Promise<DeviceCapabilities> {
  const deviceMemoryGiB = (navigator as Navigator & { deviceMemory?: number }).deviceMemory;
  const none: DeviceCapabilities = {
    webgpu: false,
    softwareAdapter: false,
    shaderF16: false,
    maxBufferSize: 0,
    maxStorageBufferBindingSize: 0
  };
  const adapter = await navigator.gpu?.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
  if (!adapter) {
    return { ...none, deviceMemoryGiB };
  }
  const { info } = adapter;
  return {
    webgpu: true,
    // SwiftShader leaves the description empty: "google swiftshader" still says what runs.
    adapter: info.description || [info.vendor, info.architecture].filter(Boolean).join(' ') || 'unknown GPU',
    softwareAdapter: runsInSoftware(adapter),
    shaderF16: adapter.features.has('shader-f16'),
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    deviceMemoryGiB
  };
}
