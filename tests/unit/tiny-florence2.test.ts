import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AutoProcessor,
  env,
  Florence2ForConditionalGeneration,
  RawImage,
  type PreTrainedModel,
  type Processor,
  type Tensor
} from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noiseImage } from './fixtures/noise-image.ts';
import { writeRepo } from '../../scripts/tiny-models/repo-files.ts';
import { florence2Repo, TINY_FLORENCE2 } from '../../scripts/tiny-models/florence2.ts';

const REPO = 'vision-hub-dev/tiny-florence2';
const dir = mkdtempSync(join(tmpdir(), 'tiny-florence2-'));

/** The parts of transformers.js's Florence2Processor these tests use (its typings declare only Processor). */
interface Florence2Processor extends Processor {
  construct_prompts(text: string | string[]): string[];
  post_process_generation(text: string, task: string, imageSize: [number, number]): Record<string, unknown>;
}

let processor: Florence2Processor;
let model: PreTrainedModel;

/** Florence-2's own decoding: special tokens stay in, the processor parses `<loc_N>` out of them. */
async function run(task: string, image: RawImage): Promise<string> {
  const inputs = await processor(image, task);
  const output = (await model.generate({ ...inputs, max_new_tokens: 64 })) as Tensor;
  const [text] = processor.batch_decode(output, { skip_special_tokens: false });
  return text!;
}

const locations = (bins: number[]) => bins.map((bin) => `<loc_${bin}>`).join('');
/** The text generated ids would decode to, round-tripped through the tokenizer. */
function decoded(text: string): string {
  const tokenizer = processor.tokenizer!;
  return tokenizer.decode(tokenizer.encode(text, { add_special_tokens: false }), { skip_special_tokens: false });
}
/** Florence-2 maps bin N of 1000 to the bin's centre. */
const pixel = (bin: number, size: number) => ((bin + 0.5) / 1000) * size;

beforeAll(async () => {
  await writeRepo(dir, REPO, florence2Repo(REPO, TINY_FLORENCE2));
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = dir;
  processor = (await AutoProcessor.from_pretrained(REPO)) as Florence2Processor;
  model = await Florence2ForConditionalGeneration.from_pretrained(REPO, { device: 'cpu', dtype: 'fp32' });
});

afterAll(async () => {
  await model?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('tiny Florence-2 in transformers.js', () => {
  it('builds the real task prompts', () => {
    expect(processor.construct_prompts('<OD>')).toEqual(['Locate the objects with category name in the image.']);
    expect(processor.construct_prompts('<CAPTION_TO_PHRASE_GROUNDING>a kettle')).toEqual([
      'Locate the phrases in the caption: a kettle'
    ]);
  });

  it('detects objects: <OD> gives labelled boxes inside the image', { timeout: 30_000 }, async () => {
    const [width, height] = [64, 48];
    const text = await run('<OD>', noiseImage(width, height));
    const { '<OD>': result } = processor.post_process_generation(text, '<OD>', [width, height]) as {
      '<OD>': { labels: string[]; bboxes: number[][] };
    };
    expect(result.bboxes.length).toBeGreaterThan(0);
    expect(result.labels).toHaveLength(result.bboxes.length);
    expect(result.labels.every((label) => label.trim() !== '')).toBe(true);
    for (const box of result.bboxes) {
      expect(box).toHaveLength(4);
      expect(box.every((v, i) => v > 0 && v < (i % 2 ? height : width))).toBe(true);
    }
  });

  it('reads text with regions: <OCR_WITH_REGION> gives quad boxes', { timeout: 30_000 }, async () => {
    const [width, height] = [30, 90];
    const text = await run('<OCR_WITH_REGION>', noiseImage(width, height));
    const { '<OCR_WITH_REGION>': result } = processor.post_process_generation(text, '<OCR_WITH_REGION>', [
      width,
      height
    ]) as { '<OCR_WITH_REGION>': { labels: string[]; quad_boxes: number[][] } };
    expect(result.quad_boxes.length).toBeGreaterThan(0);
    expect(result.labels).toHaveLength(result.quad_boxes.length);
    for (const quad of result.quad_boxes) {
      expect(quad).toHaveLength(8);
      expect(quad.every((v, i) => v > 0 && v < (i % 2 ? height : width))).toBe(true);
    }
  });

  it('answers the same image the same way, and other images otherwise', { timeout: 30_000 }, async () => {
    const answer = await run('<OD>', noiseImage(40, 40));
    expect(await run('<OD>', noiseImage(40, 40))).toBe(answer);
    // The image reaches the answer through the encoder and the cached cross-attention.
    expect(await run('<OD>', noiseImage(41, 40))).not.toBe(answer);
  });
});

describe('Florence-2 post-processing of known token sequences', () => {
  const size: [number, number] = [640, 480];

  it('has one token per location bin', () => {
    const ids = processor.tokenizer!.encode(`car${locations([100, 200, 300, 400])}`, { add_special_tokens: false });
    expect(ids.slice(-4)).toEqual([100, 200, 300, 400].map((bin) => ids.at(-4)! + bin - 100));
    expect(processor.tokenizer!.decode(ids.slice(-1))).toBe('<loc_400>');
  });

  it('maps <OD> location bins to pixel boxes', () => {
    const text = decoded(`</s><s>car${locations([100, 200, 300, 400])}dog${locations([0, 999, 500, 501])}</s>`);
    expect(processor.post_process_generation(text, '<OD>', size)).toEqual({
      '<OD>': {
        labels: ['car', 'dog'],
        bboxes: [
          [pixel(100, 640), pixel(200, 480), pixel(300, 640), pixel(400, 480)],
          [pixel(0, 640), pixel(999, 480), pixel(500, 640), pixel(501, 480)]
        ]
      }
    });
    expect(pixel(100, 640)).toBeCloseTo(64.32, 10);
  });

  it('maps <OCR_WITH_REGION> bins to quad boxes, one per text line', () => {
    const text = decoded(`</s><s>EXIT${locations([10, 20, 30, 20, 30, 40, 10, 40])}</s>`);
    expect(processor.post_process_generation(text, '<OCR_WITH_REGION>', size)).toEqual({
      '<OCR_WITH_REGION>': {
        labels: ['EXIT'],
        quad_boxes: [[10, 20, 30, 20, 30, 40, 10, 40].map((bin, i) => pixel(bin, size[i % 2]!))]
      }
    });
  });

  it('keeps the previous label for a box without one (several boxes of one phrase)', () => {
    const text = decoded(`</s><s>a kettle${locations([1, 2, 3, 4, 5, 6, 7, 8])}</s>`);
    const grounding = processor.post_process_generation(text, '<CAPTION_TO_PHRASE_GROUNDING>', size) as {
      '<CAPTION_TO_PHRASE_GROUNDING>': { labels: string[] };
    };
    expect(grounding['<CAPTION_TO_PHRASE_GROUNDING>'].labels).toEqual(['a kettle', 'a kettle']);
  });
});
