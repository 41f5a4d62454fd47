/** 32-bit FNV-1a: turns a tensor name into a seed, so each tensor's values never depend on build order. */
export function seedFrom(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Fills `target` with uniform noise of standard deviation `std` from a mulberry32 stream.
 * Uniform rather than Gaussian: the same small scale for a fraction of the cost, which matters
 * for the hundreds of millions of weights in the architecture-faithful models.
 */
export function fillUniform(target: Float32Array, std: number, seed: number): Float32Array {
  const halfWidth = std * Math.sqrt(3);
  let state = seed | 0;
  for (let i = 0; i < target.length; i += 1) {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    target[i] = (((t ^ (t >>> 14)) >>> 0) / 2147483648 - 1) * halfWidth;
  }
  return target;
}
