import * as z from 'zod/mini';
import { ManifestError } from './errors.ts';

const sha256 = z.string().check(z.regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lowercase hex digits'));
const positiveInt = z.number().check(z.int(), z.positive());

const modelFile = z.object({
  path: z.string().check(z.minLength(1), z.regex(/^[^/].*[^/]$/, 'file paths are relative to the repo')),
  /** Exact bytes and hash of a pinned file; both are checked after download when present. */
  size: z.optional(positiveInt),
  sha256: z.optional(sha256),
  /** Not every repo has it (e.g. generation_config.json); a 404 skips it instead of failing. */
  optional: z.optional(z.boolean())
});

const requirements = z.object({
  webgpu: z.optional(z.boolean()),
  shaderF16: z.optional(z.boolean()),
  /** Bytes of the largest single GPU buffer the variant needs. */
  maxBufferSize: z.optional(positiveInt),
  maxStorageBufferBindingSize: z.optional(positiveInt),
  /** `navigator.deviceMemory` in GiB (Chromium rounds it down to 0.25–8). */
  deviceMemoryGiB: z.optional(z.number().check(z.positive()))
});

const variant = z.object({
  id: z.string().check(z.regex(/^[a-z0-9-]+$/)),
  device: z.enum(['webgpu', 'wasm']),
  /** transformers.js dtype, one for all parts or one per ONNX part (e.g. `vision_encoder`). */
  dtype: z.union([z.string(), z.record(z.string(), z.string())]),
  requires: z.optional(requirements),
  /** Total download in bytes (exact when every file is pinned): quota checks and progress. */
  bytes: positiveInt,
  files: z.array(modelFile).check(z.minLength(1))
});

const entry = z.object({
  id: z.string().check(z.regex(/^[a-z0-9][a-z0-9.-]*$/)),
  name: z.string().check(z.minLength(1)),
  task: z.enum(['image-text-to-text', 'feature-extraction', 'text-generation', 'automatic-speech-recognition']),
  engine: z.enum(['transformers.js']),
  architecture: z.enum([
    'idefics3',
    'smolvlm',
    'llava_onevision',
    'moondream1',
    'florence2',
    'bert',
    'llama',
    'whisper'
  ]),
  source: z.object({
    repo: z.string().check(z.regex(/^[\w.-]+\/[\w.-]+$/, 'repo must be owner/name')),
    revision: z.string().check(z.minLength(1))
  }),
  license: z.string().check(z.minLength(1)),
  /** Generated test model, served by the local mirror only. */
  dev: z.optional(z.boolean()),
  variants: z.array(variant).check(z.minLength(1))
});

const manifest = z.object({
  version: z.literal(1),
  models: z.array(entry).check(z.minLength(1))
});

export type ModelFile = z.infer<typeof modelFile>;
export type VariantRequirements = z.infer<typeof requirements>;
export type ModelVariant = z.infer<typeof variant>;
export type ModelEntry = z.infer<typeof entry>;
export type ModelManifest = z.infer<typeof manifest>;

/** Validates a registry; every problem is listed with its path, so a bad edit is easy to find. */
export function parseManifest(input: unknown): ModelManifest {
  const result = manifest.safeParse(input);
  if (!result.success) {
    throw new ManifestError(`models-manifest.json is invalid:\n${z.prettifyError(result.error)}`);
  }
  const seen = new Set<string>();
  for (const model of result.data.models) {
    if (seen.has(model.id)) {
      throw new ManifestError(`models-manifest.json is invalid: duplicate model id "${model.id}"`);
    }
    seen.add(model.id);
    const variantIds = new Set(model.variants.map((v) => v.id));
    if (variantIds.size !== model.variants.length) {
      throw new ManifestError(`models-manifest.json is invalid: duplicate variant id in "${model.id}"`);
    }
  }
  return result.data;
}

export function findModel(registry: ModelManifest, id: string): ModelEntry {
  const model = registry.models.find((m) => m.id === id);
  if (!model) {
    throw new ManifestError(`Unknown model "${id}"`);
  }
  return model;
}

/** True when every file of the variant has a pinned size and sha256. */
export function isPinned(v: ModelVariant): boolean {
  return v.files.every((f) => f.size !== undefined && f.sha256 !== undefined);
}
