import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeSpeech } from '../../src/lib/core/speech/analyze-speech.ts';
import { concat, silence, speak, trimmed, wavFile } from '../unit/fixtures/speech-audio.ts';
import { jsonHeaders, testApp, type TestApp } from './support/test-app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(() => t.close());

const PASSAGE = 'The little dog ran across the green field to find his ball.';
const sentences = ['The sun was shining brightly.', 'A small bird sang in the garden.'];
/** Two sentences with 600 ms between them, as a WAV file (espeak's own) and as the samples. */
const spoken = sentences.map((sentence) => trimmed(speak(sentence, ['-s', '160'])));
const rate = spoken[0]!.sampleRate;
const samples = concat(
  silence(0.3, rate),
  spoken[0]!.samples,
  silence(0.6, rate),
  spoken[1]!.samples,
  silence(0.3, rate)
);

const wav = (data: Float32Array, sampleRate: number) => Buffer.from(wavFile(data, sampleRate));

function pcm16(data: Float32Array): Buffer {
  const pcm = Int16Array.from(data, (x) => Math.max(-32768, Math.min(32767, Math.round(x * 32767))));
  return Buffer.from(pcm.buffer);
}

const post = async (path: string, body: unknown, headers = jsonHeaders()) =>
  t.app.request(`/api/v1/speech/${path}`, { method: 'POST', headers, body: JSON.stringify(body) });

describe('POST /api/v1/speech/*', () => {
  it('answers the seed client’s analyzeSpeech() shape from a WAV file, as the app’s own analysis', async () => {
    const res = await post('analyze', {
      audioBase64: wav(samples, rate).toString('base64'),
      childAge: 7,
      taskType: 'fluency'
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, Record<string, unknown>>;
    expect(body).toMatchObject({
      // The server's own transcript (the tiny Whisper's words: it has a speech model).
      transcription: expect.stringMatching(/\w/),
      articulationErrors: [],
      readingMetrics: null,
      fluencyMetrics: { pauseCount: 1 },
      processingTimeMs: expect.any(Number)
    });
    const local = analyzeSpeech(samples, rate);
    expect(body.fluencyMetrics!.syllables).toBe(local.fluency.syllables);
    expect(Math.abs((body.fluencyMetrics!.longestPauseS as number) - 0.6)).toBeLessThan(0.03);
    expect(body.prosodyMetrics!.meanHz).toBeCloseTo(local.prosody.meanHz!, 0);
  });

  it('takes bare 16-bit PCM with its sample rate, and refuses it without one', async () => {
    const audioBase64 = pcm16(samples).toString('base64');
    const res = await post('fluency', { audioBase64, sampleRate: rate });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ fluencyMetrics: { pauseCount: 1 } });

    const unknownRate = await post('fluency', { audioBase64 });
    expect(unknownRate.status).toBe(400);
    expect(await unknownRate.json()).toMatchObject({ error: { code: 'unsupported_audio', param: 'audioBase64' } });
  });

  it('refuses a broken WAV file and a recording longer than ten minutes, in plain words', async () => {
    const broken = await post('analyze', { audioBase64: Buffer.from('RIFF\0\0\0\0WAVEjunk').toString('base64') });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: { message: string } }).error.message).toMatch(
      /WAV file could not be read/
    );

    const long = await post('analyze', {
      audioBase64: Buffer.alloc(601 * 4000 * 2).toString('base64'),
      sampleRate: 4000
    });
    expect(long.status).toBe(400);
    expect(await long.json()).toMatchObject({ error: { code: 'audio_too_long', param: 'audioBase64' } });
  });

  it('scores the reading word by word, against the transcript sent or its own', async () => {
    const reading = speak(PASSAGE, ['-s', '150']);
    const audioBase64 = wav(reading.samples, reading.sampleRate).toString('base64');
    const res = await post('articulation', {
      audioBase64,
      referenceText: PASSAGE,
      transcript: 'the little dog ran across the field to find his bowl'
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      articulationErrors: [{ position: 11, expected: 'ball', said: 'bowl' }],
      readingMetrics: { correct: 10, omissions: 1, substitutions: 1, insertions: 0, referenceWords: 12 }
    });

    // Without a transcript, the server's speech model hears the reading and it is scored against that.
    const heard = await post('transcribe', { audioBase64 });
    const { transcription } = (await heard.json()) as { transcription: string };
    const scored = await post('articulation', { audioBase64, referenceText: PASSAGE });
    expect(scored.status).toBe(200);
    const { ops: _ops, ...expected } = analyzeSpeech(reading.samples, reading.sampleRate, {
      reference: PASSAGE,
      transcript: transcription
    }).reading!;
    expect(await scored.json()).toMatchObject({ readingMetrics: expected });
  });

  it('transcribes in the seed’s shape: text, language, duration and timed segments, from WAV or bare PCM', async () => {
    const res = await post('transcribe', { audioBase64: wav(samples, rate).toString('base64'), language: 'de' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { durationS: number; segments: { start: number; end: number }[] };
    expect(body).toMatchObject({
      transcription: expect.stringMatching(/\w/),
      language: 'german',
      model: 'tiny-whisper',
      processingTimeMs: expect.any(Number)
    });
    expect(body.durationS).toBeCloseTo(samples.length / rate, 2);
    expect(body.segments.at(-1)!.end).toBeCloseTo(body.durationS, 3);

    const pcm = await post('transcribe', { audioBase64: pcm16(samples).toString('base64'), sampleRate: rate });
    expect(pcm.status).toBe(200);
    const unknown = await post('transcribe', {
      audioBase64: pcm16(samples).toString('base64'),
      sampleRate: rate,
      model: 'nope'
    });
    expect(unknown.status).toBe(404);
  });

  it('gives the pitch contour every 10 ms', async () => {
    const res = await post('prosody', { audioBase64: wav(samples, rate).toString('base64') });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      pitchContour: { stepS: number; hz: number[] };
      prosodyMetrics: { voicedFrames: number };
    };
    expect(body.pitchContour.stepS).toBe(0.01);
    expect(body.pitchContour.hz).toHaveLength(Math.floor(samples.length / (rate * 0.01)) + 1);
    expect(body.pitchContour.hz.filter((hz) => hz > 0)).toHaveLength(body.prosodyMetrics.voicedFrames);
  });

  it('keeps answering other requests while a long recording is analysed on its thread', async () => {
    const long = concat(...Array.from({ length: 20 }, () => samples));
    const analysis = post('fluency', { audioBase64: wav(long, rate).toString('base64') });
    let analysed = false;
    void analysis.then(() => (analysed = true));
    // The analysis is on the worker thread: the event loop still serves /health in the meantime.
    const health = await t.app.request('/health');
    expect(health.status).toBe(200);
    expect(analysed).toBe(false);
    expect((await analysis).status).toBe(200);
  }, 30_000);

  it('on a server without a speech model: asks for the transcript, and says why /transcribe cannot answer', async () => {
    const bare = await testApp({ LOCAL_MODELS: 'tiny-bert' });
    try {
      const audioBase64 = wav(samples, rate).toString('base64');
      const ask = (path: string, body: object) =>
        bare.app.request(`/api/v1/speech/${path}`, {
          method: 'POST',
          headers: jsonHeaders(),
          body: JSON.stringify(body)
        });
      const missing = await ask('articulation', { audioBase64, referenceText: PASSAGE });
      expect(missing.status).toBe(422);
      expect(await missing.json()).toMatchObject({ error: { code: 'transcript_required', param: 'transcript' } });
      const analysed = await ask('analyze', { audioBase64 });
      expect(await analysed.json()).toMatchObject({ transcription: null });
      const transcribed = await ask('transcribe', { audioBase64 });
      expect(transcribed.status).toBe(503);
      expect(await transcribed.json()).toMatchObject({ error: { code: 'no_speech_model' } });
    } finally {
      await bare.close();
    }
  });

  it('needs credentials like every /api/v1 route', async () => {
    const res = await post(
      'analyze',
      { audioBase64: 'AAAA', sampleRate: 16000 },
      { 'content-type': 'application/json' }
    );
    expect(res.status).toBe(401);
  });
});
