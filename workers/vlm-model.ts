/**
 * A vision-language model as the VLM worker holds it, and how a frame and a prompt become its
 * inputs: the architecture's prompt format plus a fast pixel path (one canvas, one reused buffer).
 * No worker state beyond those two: tests drive the same code in the page.
 */
import {
  AutoModelForImageTextToText,
  AutoProcessor,
  AutoTokenizer,
  type Message,
  Tensor,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type Processor
} from '@huggingface/transformers';
import type { FrameAnnotations } from '#lib/core/annotations.ts';
import { InvalidImageError, UnsupportedRequestError } from '#lib/core/errors.ts';
import { florenceAnswer, type FlorenceRequest } from '#lib/core/florence.ts';
import {
  inputSide,
  normalizationFrom,
  rgbaToPlanar,
  type ImageProcessorConfig,
  type PixelNormalization
} from '#lib/core/pixel-tensor.ts';
import { idefics3ImagePrompt, llavaImagePrompt, moondreamPrompt } from '#lib/core/vlm-prompt.ts';
import type { VlmFrame, VlmLoadRequest } from '#lib/core/vlm-types.ts';

export interface LoadedVlm {
  request: VlmLoadRequest;
  processor: Processor;
  tokenizer: PreTrainedTokenizer;
  model: PreTrainedModel;
  /** How many `<image>` tokens the prompt needs per frame (0: the model places image features itself, as Florence-2 does). */
  imageTokens: number;
  /** The square the vision encoder takes, and how its pixels are normalized. */
  side: number;
  normalization: PixelNormalization;
}

/** One canvas per worker: frames are drawn, scaled, onto it and read back as RGBA. */
let canvas: OffscreenCanvas | null = null;

/** The frame's size as shown (a VideoFrame's coded size may be padded). */
export function frameSize(frame: VlmFrame): { width: number; height: number } {
  return 'displayWidth' in frame
    ? { width: frame.displayWidth, height: frame.displayHeight }
    : { width: frame.width, height: frame.height };
}

/** The frame (closed here) stretched to `side`×`side`, as the processors do without tiling. */
function framePixels(frame: VlmFrame, side: number): Uint8ClampedArray {
  const { width, height } = frameSize(frame);
  try {
    if (!width || !height) {
      throw new InvalidImageError('The image is empty (0×0 pixels)');
    }
    if (canvas?.width !== side) {
      canvas = new OffscreenCanvas(side, side);
    }
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (!context) {
      throw new InvalidImageError('Could not read the image: no 2D canvas in this worker');
    }
    context.drawImage(frame, 0, 0, side, side);
    return context.getImageData(0, 0, side, side).data;
  } finally {
    frame.close();
  }
}

/**
 * The pixel buffer of the last finished request, reused by the next: a fresh 3 MB array per frame
 * puts garbage-collection pauses into the frame hand-off (p95 13 ms instead of 3 ms at 512²).
 */
let spare: Float32Array<ArrayBuffer> | null = null;

/** Planar, normalized pixels in the layout the architecture's vision encoder takes. */
function pixelValues(target: Pick<LoadedVlm, 'request' | 'side' | 'normalization'>, rgba: Uint8ClampedArray): Tensor {
  const { side, normalization, request } = target;
  const length = side * side * 3;
  const buffer = spare?.length === length ? spare : new Float32Array(length);
  spare = null;
  // Idefics3 (SmolVLM 1 and 2) takes [batch, tiles, 3, S, S]; the others' encoders [batch, 3, S, S].
  const dims = isIdefics3(request) ? [1, 1, 3, side, side] : [1, 3, side, side];
  return new Tensor('float32', rgbaToPlanar(rgba, normalization, buffer), dims);
}

/** `frame` (closed here) as the pixel tensor the vision encoder takes; `recycle` it when done. */
export function framePixelValues(target: LoadedVlm, frame: VlmFrame): Tensor {
  return pixelValues(target, framePixels(frame, target.side));
}

/** Hands a request's pixel buffer to the next one, once nothing reads it any more. */
export function recycle(pixels: Tensor): void {
  spare = pixels.data as Float32Array<ArrayBuffer>;
}

/** SmolVLM 1 and 2: the same model under two names. */
function isIdefics3(request: VlmLoadRequest): boolean {
  return request.architecture === 'idefics3' || request.architecture === 'smolvlm';
}

function chatText(target: Pick<LoadedVlm, 'processor' | 'tokenizer' | 'request'>, content: Message['content']): string {
  const messages = [{ role: 'user', content }];
  // LLaVA-OneVision's processor in transformers.js is image-only: its tokenizer holds the template.
  return target.request.architecture === 'llava_onevision'
    ? (target.tokenizer.apply_chat_template(messages, { tokenize: false, add_generation_prompt: true }) as string)
    : (target.processor.apply_chat_template(messages, { add_generation_prompt: true }) as string);
}

/**
 * Frame (closed here) and prompt → model-ready tensors. Without a frame the prompt alone goes to
 * the text decoder (answers over passages). For Florence-2 the prompt is a task (florence.ts).
 */
export function prepareInputs(target: LoadedVlm, frame: VlmFrame | null, prompt: string) {
  const { processor, tokenizer, request, imageTokens } = target;
  if (request.architecture === 'florence2') {
    if (!frame) {
      throw new UnsupportedRequestError('Florence-2 answers about images only: choose another model for this');
    }
    const prompts = (processor as unknown as { construct_prompts(text: string): string[] }).construct_prompts(prompt);
    return { ...tokenizer(prompts), pixel_values: framePixelValues(target, frame) };
  }
  if (!frame) {
    return request.architecture === 'moondream1'
      ? tokenizer(moondreamPrompt(prompt, 0))
      : tokenizer(chatText(target, [{ type: 'text', text: prompt }]));
  }
  const pixel_values = framePixelValues(target, frame);
  if (request.architecture === 'moondream1') {
    return { ...tokenizer(moondreamPrompt(prompt, imageTokens)), pixel_values };
  }
  const chat = chatText(target, [{ type: 'image' }, { type: 'text', text: prompt }]);
  if (request.architecture === 'llava_onevision') {
    return { ...tokenizer(llavaImagePrompt(chat, imageTokens)), pixel_values };
  }
  const { side } = target;
  // One global view of the frame: tiling would multiply the image tokens for little gain at camera sizes.
  return {
    ...tokenizer(idefics3ImagePrompt(chat, imageTokens)),
    pixel_values,
    pixel_attention_mask: new Tensor('bool', new Uint8Array(side * side).fill(1), [1, 1, side, side])
  };
}

/**
 * Florence-2's finished output as the answer's sentence and regions in frame pixels, parsed by its
 * processor (location bins 0–999 mapped to the frame's size).
 */
export function florenceResult(
  target: LoadedVlm,
  sequences: Tensor,
  request: FlorenceRequest,
  size: { width: number; height: number }
): { text: string; annotations: FrameAnnotations | null } {
  const raw = target.tokenizer.batch_decode(sequences, { skip_special_tokens: false })[0] ?? '';
  const processor = target.processor as unknown as {
    post_process_generation(text: string, task: string, size: [number, number]): Record<string, unknown>;
  };
  // [width, height]: the processor reads size[i % 2] for x, y (its doc says height × width).
  const parsed = processor.post_process_generation(raw, request.task, [size.width, size.height])[request.task];
  return florenceAnswer(request, parsed, size.width, size.height);
}

/**
 * Runs the vision encoder (moondream's, LLaVA-OneVision's) once on a blank image: it compiles the
 * GPU pipelines before the first question, and tells how many features (so `<image>` tokens) one
 * frame becomes.
 */
async function countImageFeatures(target: Omit<LoadedVlm, 'imageTokens'>): Promise<number> {
  const blank = pixelValues(target, new Uint8ClampedArray(target.side * target.side * 4));
  const encode = (target.model as unknown as { encode_image: (inputs: object) => Promise<Tensor> }).encode_image;
  const features = await encode.call(target.model, { pixel_values: blank });
  return features.dims.at(-2) ?? 0;
}

/** Loads processor, tokenizer and model of `request` (transformers.js must be configured first). */
export async function buildVlm(
  request: VlmLoadRequest,
  progress_callback: (info: { status: string }) => void
): Promise<LoadedVlm> {
  const options = { revision: request.revision, progress_callback };
  const processor = await AutoProcessor.from_pretrained(request.repo, options);
  // Xenova/moondream2's processor is image-only (SiglipProcessor is not wired in transformers.js).
  const tokenizer = processor.tokenizer ?? (await AutoTokenizer.from_pretrained(request.repo, options));
  const model = await AutoModelForImageTextToText.from_pretrained(request.repo, {
    ...options,
    device: request.device,
    dtype: request.dtype as never
  });
  const imageConfig = processor.image_processor!.config as ImageProcessorConfig;
  const side = inputSide(imageConfig);
  const base = { request, processor, tokenizer, model, side, normalization: normalizationFrom(imageConfig) };
  const imageTokens =
    request.architecture === 'moondream1' || request.architecture === 'llava_onevision'
      ? await countImageFeatures(base)
      : isIdefics3(request)
        ? (processor.config as { image_seq_len: number }).image_seq_len
        : 0;
  return { ...base, imageTokens };
}
