import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { env, pipeline, type AutomaticSpeechRecognitionPipeline } from '@huggingface/transformers';
import OpenAI, { BadRequestError, NotFoundError, toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resample } from '../../src/lib/core/speech/resample.ts';
import { concat, silence, speak, wavFile } from '../unit/fixtures/speech-audio.ts';
import { MODELS_DIR, SPEECH_MODEL, TENANTS, TEXT_MODEL, testServer, type TestServer } from './support/test-app.ts';

/** Two sentences spoken by espeak-ng (22,050 Hz) with a second between them: about 4 s. */
const spoken = [speak('The sun was shining brightly.'), speak('A small bird sang in the garden.')];
const rate = spoken[0]!.sampleRate;
const samples = concat(spoken[0]!.samples, silence(1, rate), spoken[1]!.samples);
const wav = Buffer.from(wavFile(samples, rate));
const seconds = Math.round((samples.length / rate) * 16_000) / 16_000;

let server: TestServer;
let openai: OpenAI;
let direct: AutomaticSpeechRecognitionPipeline;

beforeAll(async () => {
  server = await testServer();
  openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: TENANTS.alpha, maxRetries: 0 });
  env.localModelPath = `${MODELS_DIR}/`;
  env.allowRemoteModels = false;
  direct = await pipeline('automatic-speech-recognition', `vision-hub-dev/${SPEECH_MODEL}`, {
    device: 'cpu',
    dtype: 'fp32'
  });
});

afterAll(async () => {
  await direct?.dispose();
  await server?.close();
});

const file = (bytes: Uint8Array = wav, name = 'reading.wav') => toFile(bytes, name, { type: 'audio/wav' });

/** What the edge API must answer: the same model run here on the recording at 16 kHz. */
async function expectedText(): Promise<string> {
  const output = (await direct(resample(samples, rate, 16_000), {
    language: 'en',
    return_timestamps: true,
    chunk_length_s: 30,
    stride_length_s: 5
  })) as { text: string };
  return output.text.trim();
}

describe('POST /v1/audio/transcriptions through the OpenAI SDK', () => {
  it('transcribes a WAV file at its own rate with the local Whisper, as the model does on 16 kHz samples', async () => {
    const transcript = await openai.audio.transcriptions.create({ file: await file(), model: SPEECH_MODEL });
    expect(transcript.text).toBe(await expectedText());
    expect(transcript.text.split(/\s+/).length).toBeGreaterThan(0);
  });

  it('answers verbose_json with the language, the duration and segments that cover the recording', async () => {
    const transcript = await openai.audio.transcriptions.create({
      file: await file(),
      model: SPEECH_MODEL,
      response_format: 'verbose_json',
      timestamp_granularities: ['segment'],
      language: 'fr'
    });
    expect(transcript.language).toBe('french');
    expect(transcript.duration).toBeCloseTo(seconds, 3);
    const segments = transcript.segments!;
    expect(segments.length).toBeGreaterThan(0);
    expect(segments[0]!.start).toBe(0);
    expect(segments.at(-1)!.end).toBeCloseTo(seconds, 3);
    expect(segments.map((segment) => segment.text).join(' ')).toBe(transcript.text);
  });

  it('answers text, SubRip and WebVTT as plain text', async () => {
    const base = { file: await file(), model: SPEECH_MODEL };
    const text = await openai.audio.transcriptions.create({ ...base, response_format: 'text' });
    expect(text.trim()).toBe(await expectedText());
    const srt = await openai.audio.transcriptions.create({ ...base, file: await file(), response_format: 'srt' });
    expect(srt).toMatch(/^1\n00:00:00,000 --> 00:00:0\d,\d{3}\n\S/);
    const vtt = await openai.audio.transcriptions.create({ ...base, file: await file(), response_format: 'vtt' });
    expect(vtt).toMatch(/^WEBVTT\n\n00:00:00\.000 --> 00:00:0\d\.\d{3}\n\S/);
  });

  it('refuses what it cannot read or do with a clear error naming the field', async () => {
    const refusal = (call: Promise<unknown>) =>
      call.then(
        () => expect.fail('expected a refusal'),
        (error) => error
      );
    const mp3 = await refusal(
      openai.audio.transcriptions.create({
        file: await toFile(Buffer.from('ID3\u0004\u0000 not really an mp3'), 'talk.mp3'),
        model: SPEECH_MODEL
      })
    );
    expect(mp3).toBeInstanceOf(BadRequestError);
    expect(mp3).toMatchObject({ code: 'unsupported_audio', param: 'file' });
    expect((mp3 as Error).message).toMatch(/"talk\.mp3" is not a WAV file/);

    const empty = await refusal(
      openai.audio.transcriptions.create({
        file: await file(Buffer.from(wavFile(new Float32Array(0), rate))),
        model: SPEECH_MODEL
      })
    );
    expect(empty).toMatchObject({ status: 400, code: 'audio_empty' });

    const notSpeech = await refusal(openai.audio.transcriptions.create({ file: await file(), model: TEXT_MODEL }));
    expect(notSpeech).toMatchObject({ status: 400, code: 'model_not_capable' });
    const unknown = await refusal(openai.audio.transcriptions.create({ file: await file(), model: 'whisper-1' }));
    expect(unknown).toBeInstanceOf(NotFoundError);

    const words = await refusal(
      openai.audio.transcriptions.create({
        file: await file(),
        model: SPEECH_MODEL,
        response_format: 'verbose_json',
        timestamp_granularities: ['word']
      })
    );
    expect(words).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'timestamp_granularities' });
    const prompt = await refusal(
      openai.audio.transcriptions.create({ file: await file(), model: SPEECH_MODEL, prompt: 'Names: Ada.' })
    );
    expect(prompt).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'prompt' });
    const language = await refusal(
      openai.audio.transcriptions.create({ file: await file(), model: SPEECH_MODEL, language: 'xx' })
    );
    expect(language).toMatchObject({ status: 400, code: 'unsupported_language', param: 'language' });
  });

  it('refuses a form without a file', async () => {
    const form = new FormData();
    form.set('model', SPEECH_MODEL);
    const res = await fetch(`${server.url}/v1/audio/transcriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TENANTS.alpha}` },
      body: form
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { param: 'file' } });
  });
});

describe('a model served by an upstream', () => {
  // The upstream is a second edge API running the tiny Whisper: the gateway itself runs none.
  let upstream: TestServer;
  let gateway: TestServer;
  const dir = mkdtempSync(join(tmpdir(), 'transcribe-'));
  beforeAll(async () => {
    upstream = await testServer();
    gateway = await testServer({
      LOCAL_MODELS: 'tiny-bert',
      UPSTREAMS: JSON.stringify([
        {
          model: 'whisper-large',
          url: `${upstream.url}/v1`,
          upstreamModel: SPEECH_MODEL,
          apiKey: TENANTS.alpha,
          capabilities: ['audio']
        }
      ])
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await upstream?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes the file on as sent and answers with the upstream’s segments', async () => {
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: TENANTS.alpha, maxRetries: 0 });
    const transcript = await client.audio.transcriptions.create({
      file: await file(),
      model: 'whisper-large',
      response_format: 'verbose_json'
    });
    expect(transcript.text).toBe(await expectedText());
    expect(transcript.language).toBe('english');
    expect(transcript.duration).toBeCloseTo(seconds, 3);
    expect(transcript.segments!.at(-1)!.end).toBeCloseTo(seconds, 3);
  });
});
