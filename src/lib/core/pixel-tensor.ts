/**
 * The image half of a VLM processor, done fast: transformers.js preprocesses with per-pixel JS
 * over RawImage plus an ORT resize (hundreds of ms per frame). Here the canvas resizes and one
 * table-driven pass writes the normalized planar floats — same layout, a few milliseconds.
 */

type Triple = readonly [number, number, number];

/** What `image_processor` does to an 8-bit channel value: `(v * rescale - mean) / std`. */
export interface PixelNormalization {
  rescale: number;
  mean: Triple;
  std: Triple;
}

/** The fields of a `preprocessor_config.json` that decide the input tensor. */
export interface ImageProcessorConfig {
  do_rescale?: boolean;
  rescale_factor?: number;
  do_normalize?: boolean;
  image_mean?: number | number[];
  image_std?: number | number[];
  /** Idefics3 (SmolVLM): an unsplit image is resized to this square. */
  max_image_size?: { longest_edge: number };
  /** SigLIP-style processors (moondream): a fixed input size. */
  size?: { height?: number; width?: number };
}

const triple = (value: number | number[] | undefined, fallback: number): Triple => {
  const list = Array.isArray(value) ? value : [value ?? fallback];
  return [list[0] ?? fallback, list[1] ?? list[0] ?? fallback, list[2] ?? list[0] ?? fallback];
};

export function normalizationFrom(config: ImageProcessorConfig): PixelNormalization {
  const normalize = config.do_normalize ?? true;
  return {
    rescale: (config.do_rescale ?? true) ? (config.rescale_factor ?? 1 / 255) : 1,
    mean: normalize ? triple(config.image_mean, 0.5) : [0, 0, 0],
    std: normalize ? triple(config.image_std, 0.5) : [1, 1, 1]
  };
}

/** Side of the square the model's vision encoder takes (the processor stretches every frame to it). */
export function inputSide(config: ImageProcessorConfig): number {
  if (config.max_image_size) {
    return config.max_image_size.longest_edge;
  }
  const { height, width } = config.size ?? {};
  if (!height || height !== width) {
    throw new Error('preprocessor_config.json does not describe a square image input');
  }
  return height;
}

/**
 * RGBA bytes in canvas order → planar, normalized RGB floats (`[3, H, W]` flattened), alpha
 * dropped as the processors' `convert_rgb` does. `out` lets a caller reuse one buffer per size.
 */
export function rgbaToPlanar(
  rgba: Uint8ClampedArray,
  norm: PixelNormalization,
  out: Float32Array<ArrayBuffer> = new Float32Array((rgba.length / 4) * 3)
): Float32Array<ArrayBuffer> {
  const pixels = rgba.length / 4;
  if (out.length !== pixels * 3) {
    throw new RangeError(`Output holds ${out.length} floats; ${pixels * 3} needed`);
  }
  const tables = [0, 1, 2].map((c) => {
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v += 1) {
      table[v] = (v * norm.rescale - norm.mean[c]!) / norm.std[c]!;
    }
    return table;
  });
  const [r, g, b] = tables as [Float32Array, Float32Array, Float32Array];
  for (let i = 0, j = 0; i < pixels; i += 1, j += 4) {
    out[i] = r[rgba[j]!]!;
    out[pixels + i] = g[rgba[j + 1]!]!;
    out[2 * pixels + i] = b[rgba[j + 2]!]!;
  }
  return out;
}
