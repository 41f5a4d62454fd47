import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AutoModelForImageTextToText,
  AutoProcessor,
  env,
  RawImage,
  type PreTrainedModel,
  type Processor,
  type Tensor
} from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noiseImage } from './fixtures/noise-image.ts';
import { writeRepo } from '../../scripts/tiny-models/repo-files.ts';
import { smolvlm2Repo, TINY_SMOLVLM2 } from '../../scripts/tiny-models/smolvlm2.ts';

const REPO = 'vision-hub-dev/tiny-smolvlm2';
const dir = mkdtempSync(join(tmpdir(), 'tiny-smolvlm2-'));
const QUESTION = [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'What do you see?' }] }];

let processor: Processor;
let model: PreTrainedModel;

const chat = (messages: typeof QUESTION) =>
  processor.apply_chat_template(messages, { add_generation_prompt: true }) as string;

async function answer(image: RawImage): Promise<string> {
  const inputs = (await processor(chat(QUESTION), [image])) as Record<string, Tensor>;
  const output = (await model.generate({ ...inputs, max_new_tokens: 12, do_sample: false })) as Tensor;
  const promptLength = inputs.input_ids!.dims[1]!;
  const [text] = processor.batch_decode(output.slice(null, [promptLength, output.dims[1]!]), {
    skip_special_tokens: true
  });
  return text!;
}

beforeAll(async () => {
  await writeRepo(dir, REPO, smolvlm2Repo(REPO, TINY_SMOLVLM2));
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = dir;
  processor = await AutoProcessor.from_pretrained(REPO);
  model = await AutoModelForImageTextToText.from_pretrained(REPO, { device: 'cpu', dtype: 'fp32' });
});

afterAll(async () => {
  await model?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('tiny SmolVLM2 in transformers.js', () => {
  it('loads as SmolVLM: Idefics3’s processor and model under SmolVLM’s names', () => {
    expect(processor.constructor.name).toBe('Idefics3Processor');
    expect(processor.config).toEqual({ image_seq_len: 4, processor_class: 'SmolVLMProcessor' });
    expect(model.constructor.name).toBe('SmolVLMForConditionalGeneration');
    expect(model.config.model_type).toBe('smolvlm');
  });

  it('applies the chat template, which knows videos as well as images', () => {
    expect(chat(QUESTION)).toBe('<|im_start|>User:<image>What do you see?<end_of_utterance>\nAssistant:');
    expect(chat([{ role: 'user', content: [{ type: 'video' }, { type: 'text', text: 'What happens?' }] }])).toBe(
      '<|im_start|>User: <video>What happens?<end_of_utterance>\nAssistant:'
    );
  });

  it('splits an image into tiles plus the global view, 4 image tokens each', async () => {
    const inputs = (await processor(chat(QUESTION), [noiseImage(64, 48)])) as Record<string, Tensor>;
    // 64×48 → 2×2 tiles of 32 px and the global view.
    expect(inputs.pixel_values!.dims).toEqual([1, 5, 3, 32, 32]);
    expect(inputs.pixel_attention_mask!.dims).toEqual([1, 5, 32, 32]);
    const [imageTokenId] = processor.tokenizer!.encode('<image>', { add_special_tokens: false });
    const ids = Array.from(inputs.input_ids!.data as BigInt64Array, Number);
    expect(ids.filter((id) => id === imageTokenId)).toHaveLength(5 * 4);
  });

  it('answers in words, the same image the same way and other images otherwise', { timeout: 30_000 }, async () => {
    const first = await answer(noiseImage(40, 40));
    expect(first.trim().split(' ').length).toBeGreaterThan(3);
    expect(await answer(noiseImage(40, 40))).toBe(first);
    expect(await answer(noiseImage(41, 40))).not.toBe(first);
  });
});
