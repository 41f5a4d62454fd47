import { resolve } from 'node:path';

/** Y4M clip the fake camera plays; written by global-setup. */
export const FAKE_CAMERA_CLIP = resolve('.cache/fake-camera.y4m');

/** WAV the fake microphone plays (in a loop): a passage read by espeak-ng; written by global-setup. */
export const FAKE_MICROPHONE = resolve('.cache/fake-microphone.wav');
/** What the fake microphone says. */
export const FAKE_MICROPHONE_TEXT = 'The little dog ran across the green field to find his ball.';

/**
 * A moving colour-bar clip in YUV4MPEG2 (4:2:0), the format Chromium's fake camera reads: a
 * header, then per frame `FRAME\n` and the Y, U and V planes. Bars slide a few pixels a frame,
 * so consecutive frames differ the way a hand-held camera's do.
 */
export function colourBarsY4m(width = 640, height = 480, frames = 30, fps = 15): Buffer {
  // BT.601 YUV of white, yellow, cyan, green, magenta, red, blue, black.
  const bars: [number, number, number][] = [
    [235, 128, 128],
    [210, 16, 146],
    [170, 166, 16],
    [145, 54, 34],
    [106, 202, 222],
    [81, 90, 240],
    [41, 240, 110],
    [16, 128, 128]
  ];
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`);
  const lumaSize = width * height;
  const chromaWidth = width / 2;
  const chromaSize = chromaWidth * (height / 2);
  const frameBytes = 6 + lumaSize + 2 * chromaSize;
  const out = Buffer.alloc(header.length + frames * frameBytes);
  header.copy(out);
  const barOf = (x: number, shift: number) => bars[Math.floor((((x + shift) % width) * bars.length) / width)]!;
  for (let f = 0; f < frames; f++) {
    const base = header.length + f * frameBytes;
    out.write('FRAME\n', base);
    const shift = f * 8;
    const y = base + 6;
    const u = y + lumaSize;
    const v = u + chromaSize;
    for (let row = 0; row < height; row++) {
      for (let x = 0; x < width; x++) {
        out[y + row * width + x] = barOf(x, shift)[0];
      }
    }
    for (let row = 0; row < height / 2; row++) {
      for (let x = 0; x < chromaWidth; x++) {
        const [, cb, cr] = barOf(x * 2, shift);
        out[u + row * chromaWidth + x] = cb;
        out[v + row * chromaWidth + x] = cr;
      }
    }
  }
  return out;
}
