import { describe, expect, it } from 'vitest';
import { ModelNotInstalledError } from '#lib/core/errors.ts';
import { modelLoadRequest, type ModelLoadRequest } from '#lib/core/model-load-request.ts';
import type { LoadProgress } from '#lib/core/engine-types.ts';
import { installModel } from '#lib/services/model-install.service.ts';
import { AsrBridge } from '#lib/workers/asr-bridge.ts';
import { concat, silence, tone } from '../unit/fixtures/speech-signals.ts';
import { devModel, mirror, variantOn } from './helpers.ts';

const whisper = devModel('vision-hub-dev/tiny-whisper');
const hosts = { modelHost: mirror, ortBase: new URL('/ort/', location.origin).href };
const requestOn = (device: 'wasm' | 'webgpu'): ModelLoadRequest =>
  modelLoadRequest(whisper, variantOn(whisper, device), 'automatic-speech-recognition', hosts);

/** `repeats` × 3 s of tones and a pause. */
const recording = (repeats = 6) =>
  concat(...Array.from({ length: repeats }, () => concat(tone(220, 1), silence(0.5), tone(330, 1.5))));

const wordsIn = (pieces: string[]) => pieces.join('').split(/\s+/).filter(Boolean).length;

describe('AsrBridge', () => {
  it('transcribes on WASM with words streamed as they are decoded, and segments over the whole recording', async () => {
    await installModel(whisper, variantOn(whisper, 'wasm'), mirror, () => undefined);
    const bridge = new AsrBridge();
    const progress: LoadProgress[] = [];
    await bridge.load(requestOn('wasm'), (p) => progress.push(p));
    expect(progress.some((p) => p.file.endsWith('decoder_model_merged.onnx'))).toBe(true);

    const partial: string[] = [];
    const samples = recording();
    const transcript = await bridge.transcribe(samples, 'en', (text) => partial.push(text));
    // The samples were moved to the worker.
    expect(samples.length).toBe(0);
    expect(transcript).toMatchObject({ audioS: 18, aborted: false });
    // The words arrive as they are decoded (the tiny model writes six), and add up to the transcript.
    expect(transcript.text.split(/\s+/)).toHaveLength(6);
    expect(partial.length).toBeGreaterThan(1);
    expect(partial.join('').trim()).toBe(transcript.text);
    expect(transcript.segments).toEqual([{ start: 0, end: 18, text: transcript.text }]);
    // The same recording gets the same words.
    expect((await bridge.transcribe(recording(), 'en', () => undefined)).text).toBe(transcript.text);

    // 45 s: two of Whisper's 30 s windows, overlapping by 5 s, merged into one transcript.
    const long = await bridge.transcribe(recording(15), 'en', () => undefined);
    expect(long.audioS).toBe(45);
    expect(long.text).toMatch(/\w/);
    expect(long.segments.at(-1)!.end).toBe(45);
    bridge.dispose();
  });

  it('stops after the current token when aborted, keeping what was heard', async () => {
    await installModel(whisper, variantOn(whisper, 'wasm'), mirror, () => undefined);
    const bridge = new AsrBridge();
    await bridge.load(requestOn('wasm'), () => undefined);
    // Two 30 s windows: uninterrupted, each streams its six words.
    const whole: string[] = [];
    await bridge.transcribe(recording(15), 'en', (text) => whole.push(text));
    expect(wordsIn(whole)).toBe(12);
    // Stopped at the first word: the rest of the first window at most, and nothing of the second.
    const stop = new AbortController();
    const heard: string[] = [];
    const transcript = await bridge.transcribe(
      recording(15),
      'en',
      (text) => {
        heard.push(text);
        stop.abort();
      },
      stop.signal
    );
    expect(transcript.aborted).toBe(true);
    expect(wordsIn(heard)).toBeLessThanOrEqual(7);
    bridge.dispose();
  });

  it('transcribes on WebGPU as on WASM', async () => {
    await installModel(whisper, variantOn(whisper, 'webgpu'), mirror, () => undefined);
    const wasm = new AsrBridge();
    const gpu = new AsrBridge();
    await wasm.load(requestOn('wasm'), () => undefined);
    const { request } = await gpu.load(requestOn('webgpu'), () => undefined);
    expect(request.device).toBe('webgpu');
    const [a, b] = await Promise.all([
      wasm.transcribe(recording(1), 'en', () => undefined),
      gpu.transcribe(recording(1), 'en', () => undefined)
    ]);
    expect(b.text).toBe(a.text);
    wasm.dispose();
    gpu.dispose();
  }, 180_000);

  it('says the model is not installed when its files are not in the cache', async () => {
    const bridge = new AsrBridge();
    const elsewhere = { ...requestOn('wasm'), modelHost: 'https://models.invalid/' };
    await expect(bridge.load(elsewhere, () => undefined)).rejects.toBeInstanceOf(ModelNotInstalledError);
    await expect(bridge.transcribe(recording(), 'en', () => undefined)).rejects.toThrow(/No model is loaded/);
    bridge.dispose();
  });
});
