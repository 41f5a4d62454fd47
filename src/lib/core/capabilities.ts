import { ModelLoadError } from './errors.ts';
import type { ModelEntry, ModelVariant } from './manifest.ts';

/** What this device can do, as measured by `detectCapabilities()` in the page or a worker. */
export interface DeviceCapabilities {
  webgpu: boolean;
  /** The adapter's description, e.g. "google swiftshader" (for display only). */
  adapter?: string;
  /**
   * WebGPU is emulated on the CPU (SwiftShader, llvmpipe …): the same model ran at 21–29 tokens/s
   * there against 406 on WASM, so the automatic choice prefers WASM.
   */
  softwareAdapter: boolean;
  shaderF16: boolean;
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  /** GiB, when the browser tells (`navigator.deviceMemory`). */
  deviceMemoryGiB?: number;
}

export interface VariantChoice {
  variant: ModelVariant;
  /** Why each better-ranked variant was passed over, for the UI ("no shader-f16 on this GPU"). */
  skipped: { id: string; reason: string }[];
}

/** The `GPUAdapterInfo` fields that tell a software renderer from a GPU. */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
  /** Missing before Chromium 136 (and in other browsers that predate it). */
  isFallbackAdapter?: boolean;
}

/** CPU renderers browsers fall back to where no GPU driver is usable. */
const SOFTWARE_RENDERER = /swiftshader|llvmpipe|lavapipe|softpipe|software|microsoft basic render/i;

/** True when WebGPU runs on the CPU: the browser says so, or the adapter names a software renderer. */
export function isSoftwareAdapter(info: AdapterInfo): boolean {
  return (
    info.isFallbackAdapter === true || SOFTWARE_RENDERER.test(`${info.vendor} ${info.architecture} ${info.description}`)
  );
}

/** Why an otherwise usable WebGPU variant is passed over on a software adapter. */
export const SOFTWARE_WEBGPU_REASON = "this device's WebGPU runs in software; the CPU is faster here";

/** Why `variant` cannot run on `caps`, or null when it can. */
export function unmetRequirement(variant: ModelVariant, caps: DeviceCapabilities): string | null {
  const req = variant.requires ?? {};
  if ((variant.device === 'webgpu' || req.webgpu) && !caps.webgpu) {
    return 'WebGPU is not available';
  }
  if (req.shaderF16 && !caps.shaderF16) {
    return 'the GPU lacks shader-f16';
  }
  if (req.maxBufferSize && caps.maxBufferSize < req.maxBufferSize) {
    return `GPU buffers are limited to ${formatMiB(caps.maxBufferSize)}, the model needs ${formatMiB(req.maxBufferSize)}`;
  }
  if (req.maxStorageBufferBindingSize && caps.maxStorageBufferBindingSize < req.maxStorageBufferBindingSize) {
    return `GPU storage bindings are limited to ${formatMiB(caps.maxStorageBufferBindingSize)}`;
  }
  if (req.deviceMemoryGiB && caps.deviceMemoryGiB !== undefined && caps.deviceMemoryGiB < req.deviceMemoryGiB) {
    return `the device reports ${caps.deviceMemoryGiB} GiB of memory, the model needs ${req.deviceMemoryGiB} GiB`;
  }
  return null;
}

/**
 * Picks the first variant (the manifest lists them best first) that fits the device, WASM
 * first where WebGPU runs in software. `preferred` is the user's override: honoured when it fits. `exclude` drops devices that
 * already failed in this session (a WebGPU load error or a lost device forces WASM).
 */
export function selectVariant(
  model: ModelEntry,
  caps: DeviceCapabilities,
  options: { preferred?: string; exclude?: ModelVariant['device'][] } = {}
): VariantChoice {
  const usable = (v: ModelVariant): string | null =>
    options.exclude?.includes(v.device) ? `${v.device} failed earlier in this session` : unmetRequirement(v, caps);

  const preferred = model.variants.find((v) => v.id === options.preferred);
  const skipped: VariantChoice['skipped'] = [];
  if (preferred) {
    const reason = usable(preferred);
    if (!reason) {
      return { variant: preferred, skipped };
    }
    skipped.push({ id: preferred.id, reason });
  }
  const others = model.variants.filter((v) => v !== preferred);
  const firstFit = (
    demoteWebgpu: boolean
  ): { variant: ModelVariant | undefined; skipped: VariantChoice['skipped'] } => {
    const passedOver = [...skipped];
    for (const variant of others) {
      const reason = usable(variant) ?? (demoteWebgpu && variant.device === 'webgpu' ? SOFTWARE_WEBGPU_REASON : null);
      if (!reason) {
        return { variant, skipped: passedOver };
      }
      passedOver.push({ id: variant.id, reason });
    }
    return { variant: undefined, skipped: passedOver };
  };
  // On a software adapter WebGPU is the last resort: where no WASM variant fits, a slow GPU still beats none.
  const demoted = caps.softwareAdapter ? firstFit(true) : null;
  const { variant, skipped: passedOver } = demoted?.variant ? demoted : firstFit(false);
  if (!variant) {
    throw new ModelLoadError(
      `${model.name} cannot run on this device: ${passedOver.map((s) => `${s.id}: ${s.reason}`).join('; ')}`
    );
  }
  return { variant, skipped: passedOver };
}

function formatMiB(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)} MiB`;
}
