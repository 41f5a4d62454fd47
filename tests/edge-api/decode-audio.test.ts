import { describe, expect, it } from 'vitest';
import { ApiError } from '../../edge-api/http/errors.ts';
import { decodeAudio, decodeWav } from '../../edge-api/speech/decode-audio.ts';
import { speak, tone, wavFile } from '../unit/fixtures/speech-audio.ts';

const signal = tone(300, 0.05, 300, 8000);
const closeTo = (a: Float32Array, b: Float32Array, tolerance: number) =>
  a.length === b.length && a.every((x, i) => Math.abs(x - b[i]!) <= tolerance);

describe('decodeWav', () => {
  it.each([
    { bits: 8, tolerance: 1 / 100 },
    { bits: 16, tolerance: 1e-4 },
    { bits: 24, tolerance: 1e-6 },
    { bits: 32, tolerance: 1e-8 },
    { bits: 32, float: true, tolerance: 1e-7 },
    { bits: 64, float: true, tolerance: 1e-12 },
    { bits: 24, extensible: true, tolerance: 1e-6 },
    { bits: 16, channels: 2, tolerance: 1e-4 }
  ])(
    'reads $bits-bit samples (float $float, extensible $extensible, $channels channels)',
    ({ tolerance, ...layout }) => {
      const decoded = decodeWav(wavFile(signal, 8000, layout));
      expect(decoded.sampleRate).toBe(8000);
      // The two channels carry the signal at ⅔ and 4⁄3 times: their mix is the signal.
      expect(closeTo(decoded.samples, signal, tolerance)).toBe(true);
    }
  );

  it('reads what espeak-ng writes', () => {
    const { samples, sampleRate } = speak('Hello there.');
    expect(sampleRate).toBe(22050);
    expect(samples.length).toBeGreaterThan(sampleRate / 2);
    expect(Math.max(...samples.map(Math.abs))).toBeGreaterThan(0.1);
  });

  it('refuses what it cannot read, saying what', () => {
    const refusal = (bytes: Uint8Array) => {
      try {
        decodeWav(bytes);
      } catch (error) {
        expect(error).toBeInstanceOf(ApiError);
        return (error as ApiError).message;
      }
      throw new Error('decoded');
    };
    expect(refusal(wavFile(signal, 8000, { bits: 8, code: 6 }))).toMatch(/format 6 are not PCM or float/);
    expect(refusal(Buffer.from('RIFF\0\0\0\0WAVEjunk'))).toMatch(/no "fmt " chunk/);
    expect(refusal(wavFile(signal, 8000).subarray(0, 36))).toMatch(/no "data" chunk/);
    expect(refusal(Buffer.from('not a wav file'))).toMatch(/RIFF\/WAVE header/);
  });
});

describe('decodeAudio', () => {
  it('takes bare 16-bit PCM at the rate it is told', () => {
    const pcm = Int16Array.from([0, 16384, -32768, 32767]);
    const decoded = decodeAudio(new Uint8Array(pcm.buffer), 16000);
    expect(decoded).toEqual({ samples: Float32Array.from([0, 0.5, -1, 32767 / 32768]), sampleRate: 16000 });
    expect(() => decodeAudio(new Uint8Array(pcm.buffer))).toThrow(/send WAV, or 16-bit little-endian mono PCM/);
  });
});
