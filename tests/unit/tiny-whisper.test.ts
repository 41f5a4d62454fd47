import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { env, pipeline, type AutomaticSpeechRecognitionPipeline } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRepo } from '../../scripts/tiny-models/repo-files.ts';
import { TINY_WHISPER, whisperRepo } from '../../scripts/tiny-models/whisper.ts';
import { concat, RATE, silence, tone } from './fixtures/speech-signals.ts';

const REPO = 'vision-hub-dev/tiny-whisper';
const dir = mkdtempSync(join(tmpdir(), 'tiny-whisper-'));
let transcribe: AutomaticSpeechRecognitionPipeline;

beforeAll(async () => {
  await writeRepo(dir, REPO, whisperRepo(REPO, TINY_WHISPER));
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = dir;
  transcribe = await pipeline('automatic-speech-recognition', REPO, { device: 'cpu', dtype: 'fp32' });
});

afterAll(async () => {
  await transcribe?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const audio = concat(tone(220, 1), silence(0.3), tone(330, 0.7));

describe('tiny Whisper', () => {
  it('runs through transformers.js speech recognition: features, encoder, cached decoding, tokenizer', async () => {
    const { text } = (await transcribe(audio)) as { text: string };
    // Six whole words of the tiny vocabulary, then the end token (the decoding schedule's).
    expect(text.trim().split(/\s+/)).toHaveLength(6);
  });

  it('takes a language and a task, and answers the same audio the same way', async () => {
    const first = (await transcribe(audio, { language: 'french', task: 'transcribe' })) as { text: string };
    const again = (await transcribe(audio, { language: 'french', task: 'transcribe' })) as { text: string };
    expect(again.text).toBe(first.text);
    await expect(transcribe(audio, { language: 'klingon' })).rejects.toThrow();
  });

  it('hears a different recording differently (the encoder output reaches the decoder)', async () => {
    // Most of the 30 s window filled, so the recording outweighs the padding the attention also sees.
    const steady = concat(...Array.from({ length: 10 }, () => concat(tone(220, 1), tone(330, 1))));
    const gliding = tone(150, 20, 450);
    const [a, b] = (await Promise.all([transcribe(steady), transcribe(gliding)])) as { text: string }[];
    expect(a!.text).not.toBe(b!.text);
    expect(steady.length).toBe(20 * RATE);
  });
});
