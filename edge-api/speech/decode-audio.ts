import { createRequire } from 'node:module';
import { badRequest } from '../http/errors.ts';

// wavefile's package points Node at a minified CommonJS build whose exports Node cannot name.
const { WaveFile } = createRequire(import.meta.url)('wavefile') as typeof import('wavefile');

export interface DecodedAudio {
  /** Mono, in [-1, 1]. */
  samples: Float32Array;
  sampleRate: number;
}

const RIFF = /^(RIFF|RIFX|RF64)/;

/**
 * A recording as sent to `/api/v1/speech/*`: a WAV file (PCM or float, any channel count, mixed
 * down to mono), or bare 16-bit little-endian mono PCM when `sampleRate` says its rate (the seed
 * client's `audioBase64` + `sampleRate`).
 */
export function decodeAudio(bytes: Uint8Array, sampleRate?: number): DecodedAudio {
  if (RIFF.test(new TextDecoder().decode(bytes.subarray(0, 4)))) {
    return decodeWav(bytes);
  }
  if (sampleRate === undefined) {
    throw badRequest(
      'unsupported_audio',
      'The audio is not a WAV file: send WAV, or 16-bit little-endian mono PCM with its sampleRate',
      'audioBase64'
    );
  }
  const count = Math.floor(bytes.byteLength / 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, count * 2);
  const samples = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    samples[i] = view.getInt16(i * 2, true) / 32768;
  }
  return { samples, sampleRate };
}

export function decodeWav(bytes: Uint8Array): DecodedAudio {
  let channels: Float32Array[];
  let sampleRate: number;
  try {
    const wav = new WaveFile(bytes);
    const format = wav.fmt as { sampleRate: number; numChannels: number };
    sampleRate = format.sampleRate;
    wav.toBitDepth('32f');
    const read = wav.getSamples(false, Float32Array) as unknown as Float32Array | Float32Array[];
    channels = format.numChannels > 1 ? (read as Float32Array[]) : [read as Float32Array];
  } catch (error) {
    throw badRequest(
      'unsupported_audio',
      `The WAV file could not be read (${(error as Error).message}); send 16-bit or float PCM`,
      'audioBase64'
    );
  }
  if (channels.length === 1) {
    return { samples: channels[0]!, sampleRate };
  }
  const mono = new Float32Array(channels[0]!.length);
  for (const channel of channels) {
    for (let i = 0; i < mono.length; i++) {
      mono[i] = mono[i]! + channel[i]! / channels.length;
    }
  }
  return { samples: mono, sampleRate };
}
