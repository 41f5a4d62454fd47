import { badRequest } from '../http/errors.ts';

export interface DecodedAudio {
  /** Mono, in [-1, 1]. */
  samples: Float32Array;
  sampleRate: number;
}

const RIFF = /^(RIFF|RIFX|RF64)/;

/** Whether `bytes` start as a RIFF file does (a WAV file, or one of the RIFF variants refused later). */
export function isWav(bytes: Uint8Array): boolean {
  return RIFF.test(new TextDecoder().decode(bytes.subarray(0, 4)));
}

/**
 * A recording as sent to `/api/v1/speech/*`: a WAV file (PCM or float, any channel count, mixed
 * down to mono), or bare 16-bit little-endian mono PCM when `sampleRate` says its rate (the seed
 * client's `audioBase64` + `sampleRate`).
 */
export function decodeAudio(bytes: Uint8Array, sampleRate?: number, field = 'audioBase64'): DecodedAudio {
  if (isWav(bytes)) {
    return decodeWav(bytes, field);
  }
  if (sampleRate === undefined) {
    throw badRequest(
      'unsupported_audio',
      'The audio is not a WAV file: send WAV, or 16-bit little-endian mono PCM with its sampleRate',
      field
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

const PCM = 1;
const FLOAT = 3;
const EXTENSIBLE = 0xfffe;

/**
 * A RIFF/WAVE file's samples, mixed down to mono: integer PCM of 8, 16, 24 or 32 bits and float
 * of 32 or 64, plain or WAVE_FORMAT_EXTENSIBLE. Read here with a DataView rather than by wavefile
 * (MIT), which converts sample by sample through generic code: 3.7 s for 74 s of 16-bit speech on
 * the CI machine, against milliseconds here.
 */
export function decodeWav(bytes: Uint8Array, field = 'audioBase64'): DecodedAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  const refuse = (why: string) => badRequest('unsupported_audio', `The WAV file could not be read: ${why}`, field);
  if (bytes.byteLength < 12 || text(0) !== 'RIFF' || text(8) !== 'WAVE') {
    throw refuse('it does not start with a RIFF/WAVE header (RIFX and RF64 are not read)');
  }
  let format: { code: number; channels: number; sampleRate: number; bits: number } | null = null;
  let data: { at: number; length: number } | null = null;
  for (let at = 12; at + 8 <= bytes.byteLength && !data;) {
    const id = text(at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ' && size >= 16 && body + 16 <= bytes.byteLength) {
      const tag = view.getUint16(body, true);
      format = {
        // The extensible header's sub-format GUID starts with the plain format code.
        code: tag === EXTENSIBLE && size >= 26 ? view.getUint16(body + 24, true) : tag,
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        bits: view.getUint16(body + 14, true)
      };
    } else if (id === 'data') {
      // A streamed file (espeak-ng --stdout) leaves the size unknown: the data runs to the end.
      data = { at: body, length: Math.min(size, bytes.byteLength - body) };
    }
    at = body + size + (size % 2);
  }
  if (!format) {
    throw refuse('it has no "fmt " chunk');
  }
  if (!data) {
    throw refuse('it has no "data" chunk');
  }
  const { code, channels, sampleRate, bits } = format;
  const read = sampleReader(view, code, bits);
  if (!read || channels < 1) {
    throw refuse(`${bits}-bit samples of format ${code} are not PCM or float; send 16-bit or float PCM`);
  }
  const width = bits / 8;
  const frames = Math.floor(data.length / (width * channels));
  const samples = new Float32Array(frames);
  for (let frame = 0, at = data.at; frame < frames; frame++) {
    let sum = 0;
    for (let channel = 0; channel < channels; channel++, at += width) {
      sum += read(at);
    }
    samples[frame] = sum / channels;
  }
  return { samples, sampleRate };
}

/** Reads one sample at a byte offset as a number in [-1, 1]; null for a format not read here. */
function sampleReader(view: DataView, code: number, bits: number): ((at: number) => number) | null {
  if (code === FLOAT) {
    return bits === 32 ? (at) => view.getFloat32(at, true) : bits === 64 ? (at) => view.getFloat64(at, true) : null;
  }
  if (code !== PCM) {
    return null;
  }
  switch (bits) {
    case 8:
      return (at) => (view.getUint8(at) - 128) / 128;
    case 16:
      return (at) => view.getInt16(at, true) / 32768;
    case 24:
      return (at) => ((view.getInt8(at + 2) << 16) | view.getUint16(at, true)) / 8388608;
    case 32:
      return (at) => view.getInt32(at, true) / 2147483648;
    default:
      return null;
  }
}
