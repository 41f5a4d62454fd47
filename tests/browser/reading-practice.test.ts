import { afterEach, describe, expect, it } from 'vitest';
import { db } from '#lib/db/index.ts';
import {
  ANALYSIS_SAMPLE_RATE,
  decodeRecording,
  deleteReading,
  learners,
  measureReading,
  readingsOf
} from '#lib/services/reading-practice.service.ts';
import { concat, silence, tone, wavFile } from '../unit/fixtures/speech-signals.ts';

const wav = (samples: Float32Array, sampleRate: number, channels = 1) =>
  new Blob([wavFile(samples, sampleRate, { channels })], { type: 'audio/wav' });

/** Syllable-like bursts: a 180 Hz voice swelling and fading four times a second, with a pause. */
function syllables(seconds: number, sampleRate = 22_050): Float32Array {
  const voice = tone(180, seconds, 180, sampleRate);
  const bursts = voice.map((x, i) => x * Math.max(0, Math.sin((2 * Math.PI * 4 * i) / sampleRate)) ** 2);
  return concat(bursts, silence(0.6, sampleRate), bursts);
}

afterEach(() => db.readings.clear());

describe('decodeRecording', () => {
  it('resamples to 16 kHz and mixes the channels down to one', async () => {
    const signal = tone(300, 1, 300, 44_100);
    const decoded = await decodeRecording(wav(signal, 44_100, 2));
    expect(decoded.length).toBe(ANALYSIS_SAMPLE_RATE);
    // The two channels carry the signal at ⅔ and 4⁄3: their mean is the tone at its own level (0.5).
    const peak = Math.max(...decoded.slice(1000, 15000).map(Math.abs));
    expect(peak).toBeGreaterThan(0.48);
    expect(peak).toBeLessThan(0.52);
  });

  it('refuses an empty file, a file that is not audio and one over ten minutes, in plain words', async () => {
    await expect(decodeRecording(new Blob([]))).rejects.toThrow('The recording is empty.');
    await expect(decodeRecording(new Blob(['not audio']))).rejects.toThrow(/not audio the browser can read/);
    const long = new Blob([wavFile(silence(601, 4000), 4000, { bits: 8 })], { type: 'audio/wav' });
    await expect(decodeRecording(long)).rejects.toMatchObject({
      name: 'RecordingError',
      message: 'The recording lasts 10 min 1 s; up to 10 minutes are measured.'
    });
  });
});

describe('measureReading', () => {
  const reading = (learner: string, recording: Blob) =>
    measureReading({ recording, learner, passageTitle: 'Bursts', passage: null, transcript: null, source: 'file' });

  it('measures in the worker and keeps each learner’s results, newest first; a deletion can be undone', async () => {
    const first = await reading('Ana', wav(syllables(2), 22_050));
    expect(first.id).toBeGreaterThan(0);
    expect(first.analysis.fluency).toMatchObject({ pauseCount: 1 });
    // Four swells a second for 2 × 2 s.
    expect(Math.abs(first.analysis.fluency.syllables - 16)).toBeLessThanOrEqual(2);
    expect(first.analysis.prosody.medianHz).toBeCloseTo(180, -1);
    const second = await reading('Ana', wav(syllables(1), 22_050));
    await reading('Ben', wav(syllables(1), 22_050));

    expect(await learners()).toEqual(['Ana', 'Ben']);
    expect((await readingsOf('Ana')).map((row) => row.id)).toEqual([second.id, first.id]);

    const undo = await deleteReading(second.id!);
    expect((await readingsOf('Ana')).map((row) => row.id)).toEqual([first.id]);
    await undo();
    expect((await readingsOf('Ana')).map((row) => row.id)).toEqual([second.id, first.id]);
  });

  it('keeps nothing when no speech was heard', async () => {
    await expect(reading('Ana', wav(silence(2, 16_000), 16_000))).rejects.toThrow(/No speech was heard/);
    expect(await learners()).toEqual([]);
  });
});
