import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AutoModelForCausalLM,
  AutoModelForImageTextToText,
  AutoProcessor,
  AutoTokenizer,
  env,
  pipeline,
  TextStreamer,
  type Tensor
} from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noiseImage } from './fixtures/noise-image.ts';
import manifestJson from '../../models-manifest.json' with { type: 'json' };
import { parseManifest } from '../../src/lib/core/manifest.ts';
import { generateTinyModels, type GeneratedRepo } from '../../scripts/generate-tiny-models.ts';
import { FLORENCE2_BASE, florence2Repo } from '../../scripts/tiny-models/florence2.ts';
import { idefics3Repo, SMOLVLM_256M } from '../../scripts/tiny-models/idefics3.ts';

const dir = mkdtempSync(join(tmpdir(), 'tiny-models-'));
const onCpu = { device: 'cpu', dtype: 'fp32' } as const;
let generated: GeneratedRepo[];

function readJson(repo: string, path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, repo, path), 'utf8')) as Record<string, unknown>;
}

beforeAll(async () => {
  generated = await generateTinyModels(dir);
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = dir;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('generateTinyModels', () => {
  it('writes the eight dev repos, and the manifest matches the bytes on disk', () => {
    expect(generated.map((r) => r.repo)).toEqual([
      'vision-hub-dev/tiny-smolvlm',
      'vision-hub-dev/tiny-moondream',
      'vision-hub-dev/tiny-bert',
      'vision-hub-dev/tiny-llama',
      'vision-hub-dev/tiny-florence2',
      'vision-hub-dev/tiny-llava-onevision',
      'vision-hub-dev/tiny-smolvlm2',
      'vision-hub-dev/tiny-whisper'
    ]);
    for (const { repo, files } of generated) {
      for (const file of files) {
        const bytes = readFileSync(join(dir, repo, file.path));
        expect(bytes.length, `${repo}/${file.path}`).toBe(file.size);
        expect(createHash('sha256').update(bytes).digest('hex')).toBe(file.sha256);
      }
    }
  });

  it('matches the dev entries pinned in models-manifest.json', () => {
    const pinned = parseManifest(manifestJson).models.filter((m) => m.dev);
    for (const { repo, files } of generated) {
      const entry = pinned.find((m) => m.source.repo === repo);
      expect(entry, `${repo} has a dev entry`).toBeDefined();
      for (const variant of entry!.variants) {
        expect(variant.files, `${entry!.id}/${variant.id}`).toEqual(files);
        expect(variant.bytes).toBe(files.reduce((sum, f) => sum + f.size, 0));
      }
    }
  });

  it('is deterministic and leaves identical files untouched', async () => {
    const other = mkdtempSync(join(tmpdir(), 'tiny-models-'));
    try {
      expect(await generateTinyModels(other)).toEqual(generated);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
    const model = join(dir, 'vision-hub-dev/tiny-llama/onnx/model.onnx');
    const before = statSync(model).mtimeMs;
    expect(await generateTinyModels(dir)).toEqual(generated);
    expect(statSync(model).mtimeMs).toBe(before);
  });

  it('sizes the faithful SmolVLM like SmolVLM-256M (64 image tokens per 512 px tile)', () => {
    const files = new Map(idefics3Repo('faithful', SMOLVLM_256M).map((f) => [f.path, f]));
    const json = (path: string) =>
      JSON.parse(Buffer.from(files.get(path)!.build()).toString()) as Record<string, unknown>;
    expect(json('processor_config.json')).toMatchObject({ image_seq_len: 64 });
    expect(json('config.json')).toMatchObject({
      image_token_id: 49190,
      scale_factor: 4,
      text_config: { hidden_size: 576, num_hidden_layers: 30, num_attention_heads: 9, num_key_value_heads: 3 },
      vision_config: { hidden_size: 768, num_hidden_layers: 12, image_size: 512, patch_size: 16 }
    });
  });

  it('sizes the faithful Florence-2 like Florence-2-base (577 image tokens, 51289 tokens, a DaViT tower)', () => {
    const files = new Map(florence2Repo('faithful', FLORENCE2_BASE).map((f) => [f.path, f]));
    const json = (path: string) =>
      JSON.parse(Buffer.from(files.get(path)!.build()).toString()) as Record<string, unknown>;
    expect(json('preprocessor_config.json')).toMatchObject({
      image_seq_length: 577,
      size: { height: 768, width: 768 }
    });
    expect(json('config.json')).toMatchObject({
      vocab_size: 51289,
      projection_dim: 768,
      text_config: {
        d_model: 768,
        encoder_layers: 6,
        decoder_layers: 6,
        encoder_attention_heads: 12,
        encoder_ffn_dim: 3072
      },
      vision_config: { model_type: 'davit', dim_embed: [128, 256, 512, 1024], depths: [1, 1, 9, 1] }
    });
  });
});

describe('the tiny models run in transformers.js', () => {
  it('tiny-bert embeds text into a unit vector', { timeout: 20_000 }, async () => {
    const extract = await pipeline('feature-extraction', 'vision-hub-dev/tiny-bert', onCpu);
    const embedding = await extract('What do you see? Read the text.', { pooling: 'mean', normalize: true });
    const values = Array.from(embedding.data as Float32Array);
    expect(embedding.dims).toEqual([1, readJson('vision-hub-dev/tiny-bert', 'config.json').hidden_size]);
    expect(values.every(Number.isFinite)).toBe(true);
    expect(Math.hypot(...values)).toBeCloseTo(1, 5);
  });

  it('tiny-llama generates text', { timeout: 20_000 }, async () => {
    const tokenizer = await AutoTokenizer.from_pretrained('vision-hub-dev/tiny-llama');
    const model = await AutoModelForCausalLM.from_pretrained('vision-hub-dev/tiny-llama', onCpu);
    const inputs = tokenizer('What do you see?');
    const output = (await model.generate({ ...inputs, max_new_tokens: 8, do_sample: false })) as Tensor;
    const prompt = (inputs.input_ids as Tensor).dims[1]!;
    expect(output.dims[1]! - prompt).toBeGreaterThan(0);
    const text = tokenizer.decode(output.slice(0, [prompt, output.dims[1]!]), { skip_special_tokens: true });
    expect(text.trim()).not.toBe('');
  });

  for (const repo of ['vision-hub-dev/tiny-smolvlm', 'vision-hub-dev/tiny-moondream']) {
    it(`${repo} answers about images of any shape, streaming`, { timeout: 20_000 }, async () => {
      const processor = await AutoProcessor.from_pretrained(repo);
      const model = await AutoModelForImageTextToText.from_pretrained(repo, onCpu);
      const messages = [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'What do you see?' }] }];
      const prompt = processor.apply_chat_template(messages, { add_generation_prompt: true });
      for (const image of [noiseImage(64, 48), noiseImage(30, 90)]) {
        // Idefics3Processor takes (text, images); moondream's LlavaProcessor takes (images, text).
        const inputs = repo.endsWith('smolvlm') ? await processor(prompt, [image]) : await processor(image, prompt);
        const chunks: string[] = [];
        const streamer = new TextStreamer(processor.tokenizer!, {
          skip_prompt: true,
          skip_special_tokens: true,
          callback_function: (text: string) => chunks.push(text)
        });
        const output = (await model.generate({ ...inputs, max_new_tokens: 8, do_sample: false, streamer })) as Tensor;
        const promptLength = (inputs.input_ids as Tensor).dims[1]!;
        const answer = processor.batch_decode(output.slice(null, [promptLength, output.dims[1]!]), {
          skip_special_tokens: true
        });
        expect(chunks.length).toBeGreaterThan(0);
        expect(chunks.join('').trim()).not.toBe('');
        expect(answer[0]!.trim()).not.toBe('');
      }
    });
  }
});
