import { AutoProcessor, env, RawImage, type Tensor } from '@huggingface/transformers';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  inputSide,
  normalizationFrom,
  rgbaToPlanar,
  type ImageProcessorConfig
} from '../../src/lib/core/pixel-tensor.ts';
import { idefics3ImagePrompt, llavaImagePrompt, moondreamPrompt } from '../../src/lib/core/vlm-prompt.ts';

// The worker's fast path must give the model exactly what transformers.js's processors would.
env.localModelPath = '.cache/models/';
env.allowRemoteModels = false;

/** A single-colour RGBA image: resampling cannot change it, so any difference is layout or scaling. */
function solid(side: number, [r, g, b]: [number, number, number]): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(side * side * 4);
  for (let i = 0; i < rgba.length; i += 4) {
    rgba.set([r, g, b, 255], i);
  }
  return rgba;
}

describe('fast pixel path', () => {
  it('writes planar channels: all red values, then green, then blue', () => {
    const rgba = new Uint8ClampedArray([0, 51, 255, 255, 255, 102, 0, 0]);
    const planar = rgbaToPlanar(rgba, { rescale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] });
    expect([...planar].map((v) => Math.round(v * 255))).toEqual([0, 255, 51, 102, 255, 0]);
  });

  it('refuses an output buffer of the wrong size', () => {
    expect(() => rgbaToPlanar(new Uint8ClampedArray(8), normalizationFrom({}), new Float32Array(5))).toThrow(
      /6 needed/
    );
  });

  it('reads the input side of Idefics3 and SigLIP processors, and refuses a non-square one', () => {
    expect(inputSide({ max_image_size: { longest_edge: 512 } })).toBe(512);
    expect(inputSide({ size: { height: 378, width: 378 } })).toBe(378);
    expect(() => inputSide({ size: { height: 378, width: 400 } })).toThrow(/square/);
  });

  for (const repo of ['vision-hub-dev/tiny-smolvlm', 'vision-hub-dev/tiny-moondream']) {
    it(`matches ${repo}'s image processor`, async () => {
      const processor = await AutoProcessor.from_pretrained(repo);
      const config = processor.image_processor!.config as ImageProcessorConfig;
      const side = inputSide(config);
      const rgba = solid(side, [200, 100, 30]);
      // Without tiling, as the worker asks (a SigLIP processor ignores the option).
      const reference = (await processor.image_processor!(new RawImage(rgba, side, side, 4), {
        do_image_splitting: false
      })) as { pixel_values: Tensor };
      const ours = rgbaToPlanar(rgba, normalizationFrom(config));
      expect(reference.pixel_values.dims.slice(-3)).toEqual([3, side, side]);
      const expected = reference.pixel_values.data as Float32Array;
      expect(ours.length).toBe(expected.length);
      ours.forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 5));
    });
  }
});

describe('prompt formats', () => {
  let processor: Awaited<ReturnType<typeof AutoProcessor.from_pretrained>>;
  beforeAll(async () => {
    processor = await AutoProcessor.from_pretrained('vision-hub-dev/tiny-smolvlm');
  });

  it("expands SmolVLM's image placeholder into the same tokens as its processor", async () => {
    const messages = [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'What is this?' }] }];
    const chat = processor.apply_chat_template(messages, { add_generation_prompt: true }) as string;
    const side = inputSide(processor.image_processor!.config as ImageProcessorConfig);
    const image = new RawImage(solid(side, [0, 0, 0]), side, side, 4);
    const reference = (await processor(chat, [image], { do_image_splitting: false })) as { input_ids: Tensor };
    const seqLen = (processor.config as { image_seq_len: number }).image_seq_len;
    const ours = processor.tokenizer!(idefics3ImagePrompt(chat, seqLen)) as { input_ids: Tensor };
    expect(ours.input_ids.tolist()).toEqual(reference.input_ids.tolist());
  });

  it('refuses chat text without exactly one image placeholder', () => {
    expect(() => idefics3ImagePrompt('no image here', 4)).toThrow(/found 0/);
    expect(() => idefics3ImagePrompt('<image><image>', 4)).toThrow(/found 2/);
  });

  it("expands LLaVA-OneVision's one <image> into one token per feature, and refuses any other count", () => {
    const chat = '<|im_start|>user <image>\nWhat?<|im_end|>\n<|im_start|>assistant\n';
    expect(llavaImagePrompt(chat, 3)).toBe(
      '<|im_start|>user <image><image><image>\nWhat?<|im_end|>\n<|im_start|>assistant\n'
    );
    expect(() => llavaImagePrompt('What?', 3)).toThrow(/found 0/);
  });

  it('writes one <image> token per moondream image feature', () => {
    expect(moondreamPrompt('What?', 3)).toBe('<image><image><image>\n\nQuestion: What?\n\nAnswer:');
    expect(moondreamPrompt('What?', 0)).toBe('Question: What?\n\nAnswer:');
  });
});
