/** Side of the grayscale thumbnail two frames are compared at: cheap, and blind to sensor noise. */
export const SIGNATURE_SIDE = 32;

/** Luma of an RGBA thumbnail, one byte per pixel. */
export function frameSignature(rgba: Uint8ClampedArray): Uint8Array {
  const out = new Uint8Array(rgba.length / 4);
  for (let i = 0, p = 0; p < out.length; i += 4, p += 1) {
    out[p] = (rgba[i]! * 77 + rgba[i + 1]! * 150 + rgba[i + 2]! * 29) >> 8;
  }
  return out;
}

/** Mean absolute luma difference in 0..1; 0 for identical frames. */
export function frameDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length || a.length === 0) {
    return 1;
  }
  let sum = 0;
  for (let i = 0; i < a.length; i += 1) {
    sum += Math.abs(a[i]! - b[i]!);
  }
  return sum / (a.length * 255);
}
