import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AutoModelForImageTextToText,
  AutoProcessor,
  AutoTokenizer,
  env,
  RawImage,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type Processor,
  type Tensor
} from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noiseImage } from './fixtures/noise-image.ts';
import { writeRepo } from '../../scripts/tiny-models/repo-files.ts';
import { llavaOnevisionRepo, TINY_LLAVA_ONEVISION } from '../../scripts/tiny-models/llava-onevision.ts';

const REPO = 'vision-hub-dev/tiny-llava-onevision';
const dir = mkdtempSync(join(tmpdir(), 'tiny-llava-onevision-'));
const QUESTION = [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'What do you see?' }] }];

let processor: Processor;
let tokenizer: PreTrainedTokenizer;
let model: PreTrainedModel;
/** processor_config.json's `num_image_tokens`: the features one image becomes. */
let imageTokens: number;

/** The chat text with its `<image>` expanded, since no LlavaOnevisionProcessor in transformers.js does it. */
function prompt(tokens: number): string {
  const chat = tokenizer.apply_chat_template(QUESTION, { add_generation_prompt: true, tokenize: false }) as string;
  return chat.replace('<image>', '<image>'.repeat(tokens));
}

async function answer(image: RawImage): Promise<string> {
  const inputs = { ...tokenizer(prompt(imageTokens)), ...(await processor(image)) } as Record<string, Tensor>;
  const output = (await model.generate({ ...inputs, max_new_tokens: 12, do_sample: false })) as Tensor;
  const promptLength = inputs.input_ids!.dims[1]!;
  const [text] = tokenizer.batch_decode(output.slice(null, [promptLength, output.dims[1]!]), {
    skip_special_tokens: true
  });
  return text!;
}

beforeAll(async () => {
  await writeRepo(dir, REPO, llavaOnevisionRepo(REPO, TINY_LLAVA_ONEVISION));
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = dir;
  processor = await AutoProcessor.from_pretrained(REPO);
  tokenizer = await AutoTokenizer.from_pretrained(REPO);
  model = await AutoModelForImageTextToText.from_pretrained(REPO, { device: 'cpu', dtype: 'fp32' });
  const processorConfig = JSON.parse(readFileSync(join(dir, REPO, 'processor_config.json'), 'utf8')) as {
    num_image_tokens: number;
  };
  imageTokens = processorConfig.num_image_tokens;
});

afterAll(async () => {
  await model?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('tiny LLaVA-OneVision in transformers.js', () => {
  it('loads as transformers.js loads LLaVA-OneVision: an image-only processor, the tokenizer apart', () => {
    // LlavaOnevisionProcessor is not in transformers.js 4.3: AutoProcessor falls back to the image processor alone.
    expect(processor.tokenizer).toBeUndefined();
    expect(processor.image_processor?.constructor.name).toBe('LlavaOnevisionImageProcessor');
    expect(model.config.model_type).toBe('llava_onevision');
    expect(Object.keys((model as unknown as { sessions: object }).sessions).sort()).toEqual([
      'decoder_model_merged',
      'embed_tokens',
      'vision_encoder'
    ]);
  });

  it('applies the chat template: images first, then the question after a newline', () => {
    expect(tokenizer.apply_chat_template(QUESTION, { add_generation_prompt: true, tokenize: false })).toBe(
      '<|im_start|>user <image>\nWhat do you see?<|im_end|>\n<|im_start|>assistant\n'
    );
  });

  it('resizes any image to the vision encoder’s square, one view without tiling', async () => {
    for (const image of [noiseImage(64, 48), noiseImage(30, 90)]) {
      const { pixel_values } = (await processor(image)) as { pixel_values: Tensor };
      expect(pixel_values.dims).toEqual([1, 3, 32, 32]);
    }
    expect(imageTokens).toBe(16);
  });

  it('needs one <image> token per image feature', async () => {
    const inputs = { ...tokenizer(prompt(1)), ...(await processor(noiseImage(40, 40))) };
    await expect(model.generate({ ...inputs, max_new_tokens: 2 })).rejects.toThrow(
      `tokens: 1, features ${imageTokens}`
    );
  });

  it('answers in words, the same image the same way and other images otherwise', { timeout: 30_000 }, async () => {
    const first = await answer(noiseImage(40, 40));
    expect(first.trim().split(' ').length).toBeGreaterThan(3);
    expect(await answer(noiseImage(40, 40))).toBe(first);
    expect(await answer(noiseImage(41, 40))).not.toBe(first);
  });
});
