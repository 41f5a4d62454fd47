import { ModelLoadError } from './errors.ts';
import type { ModelEntry, ModelVariant } from './manifest.ts';

/** What this device can do, as measured by `detectCapabilities()` in the page or a worker. */
export interface DeviceCapabilities {
  webgpu: boolean;
  /** The adapter's description, e.g. "SwiftShader" (for display only). */
  adapter?: string;
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
 * Picks the first variant (the manifest lists them best first) that fits the device.
 * `preferred` is the user's override: honoured when it fits. `exclude` drops devices that
 * already failed in this session (a WebGPU load error or a lost device forces WASM).
 */
export function selectVariant(
  model: ModelEntry,
  caps: DeviceCapabilities,
  options: { preferred?: string; exclude?: ModelVariant['device'][] } = {}
): VariantChoice {
  const skipped: VariantChoice['skipped'] = [];
  const usable = (v: ModelVariant): string | null =>
    options.exclude?.includes(v.device) ? `${v.device} failed earlier in this session` : unmetRequirement(v, caps);

  const preferred = model.variants.find((v) => v.id === options.preferred);
  if (preferred) {
    const reason = usable(preferred);
    if (!reason) {
      return { variant: preferred, skipped };
    }
    skipped.push({ id: preferred.id, reason });
  }
  for (const variant of model.variants) {
    if (variant === preferred) {
      continue;
    }
    const reason = usable(variant);
    if (!reason) {
      return { variant, skipped };
    }
    skipped.push({ id: variant.id, reason });
  }
  throw new ModelLoadError(
    `${model.name} cannot run on this device: ${skipped.map((s) => `${s.id}: ${s.reason}`).join('; ')}`
  );
}

function formatMiB(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)} MiB`;
}
