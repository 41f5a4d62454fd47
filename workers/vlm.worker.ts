import {
  AutoModelForImageTextToText,
  AutoProcessor,
  AutoTokenizer,
  InterruptableStoppingCriteria,
  type Message,
  StoppingCriteriaList,
  Tensor,
  TextStreamer,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type Processor
} from '@huggingface/transformers';
import { expose } from 'comlink';
import { InvalidImageError, ModelNotInstalledError } from '#lib/core/errors.ts';
import {
  inputSide,
  normalizationFrom,
  rgbaToPlanar,
  type ImageProcessorConfig,
  type PixelNormalization
} from '#lib/core/pixel-tensor.ts';
import { idefics3ImagePrompt, moondreamPrompt } from '#lib/core/vlm-prompt.ts';
import type { GenerateOptions, GenerationStats, LoadProgress, VlmFrame, VlmLoadRequest } from '#lib/core/vlm-types.ts';
import { loadModel, release, runError } from './runtime.ts';

interface Loaded {
  request: VlmLoadRequest;
  processor: Processor;
  tokenizer: PreTrainedTokenizer;
  model: PreTrainedModel;
  /** How many `<image>` tokens the prompt needs per frame. */
  imageTokens: number;
  /** The square the vision encoder takes, and how its pixels are normalized. */
  side: number;
  normalization: PixelNormalization;
}

let loaded: Loaded | null = null;
/** Time the running request spent in the vision encoder, to split time-to-first-token. */
let visionMs = 0;

/** Times every vision-encoder run of `model` (transformers.js calls it inside generate()). */
function timeVisionEncoder(model: PreTrainedModel): void {
  const target = model as unknown as { encode_image?: (inputs: unknown) => Promise<unknown> };
  const encode = target.encode_image?.bind(model);
  if (!encode) {
    return;
  }
  target.encode_image = async (inputs) => {
    const started = performance.now();
    try {
      return await encode(inputs);
    } finally {
      visionMs += performance.now() - started;
    }
  };
}
/** Resolves in a fresh task, after messages that are already queued (an abort) have run. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}

/**
 * ORT's WASM backend settles each run in microtasks, so a whole answer can be generated without
 * this worker reading a single message: yield before every decoding step so abort() lands at once.
 */
function yieldBetweenSteps(model: PreTrainedModel): void {
  const target = model as unknown as { forward: (inputs: unknown) => Promise<unknown> };
  const forward = target.forward.bind(model);
  target.forward = async (inputs) => {
    await nextTask();
    return forward(inputs);
  };
}
let stopping = new InterruptableStoppingCriteria();

/** One canvas per worker: frames are drawn, scaled, onto it and read back as RGBA. */
let canvas: OffscreenCanvas | null = null;

/** The frame (closed here) stretched to `side`×`side`, as the processors do without tiling. */
function framePixels(frame: VlmFrame, side: number): Uint8ClampedArray {
  const width = 'displayWidth' in frame ? frame.displayWidth : frame.width;
  const height = 'displayHeight' in frame ? frame.displayHeight : frame.height;
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
function pixelValues(target: Pick<Loaded, 'request' | 'side' | 'normalization'>, rgba: Uint8ClampedArray): Tensor {
  const { side, normalization, request } = target;
  const length = side * side * 3;
  const buffer = spare?.length === length ? spare : new Float32Array(length);
  spare = null;
  // Idefics3 takes [batch, tiles, 3, S, S]; moondream's SigLIP takes [batch, 3, S, S].
  const dims = request.architecture === 'idefics3' ? [1, 1, 3, side, side] : [1, 3, side, side];
  return new Tensor('float32', rgbaToPlanar(rgba, normalization, buffer), dims);
}

/** Hands a request's pixel buffer to the next one, once nothing reads it any more. */
function recycle(pixels: Tensor): void {
  spare = pixels.data as Float32Array<ArrayBuffer>;
}

/**
 * Frame and prompt → model-ready tensors: the architecture's prompt format plus the fast pixel
 * path. Without a frame the prompt alone goes to the text decoder (answers over passages).
 */
function prepareInputs(target: Loaded, frame: VlmFrame | null, prompt: string) {
  const { processor, tokenizer, request, imageTokens, side } = target;
  if (!frame) {
    return request.architecture === 'moondream1'
      ? tokenizer(moondreamPrompt(prompt, 0))
      : tokenizer(chatText(processor, [{ type: 'text', text: prompt }]));
  }
  const pixel_values = pixelValues(target, framePixels(frame, side));
  if (request.architecture === 'moondream1') {
    return { ...tokenizer(moondreamPrompt(prompt, imageTokens)), pixel_values };
  }
  const chat = chatText(processor, [{ type: 'image' }, { type: 'text', text: prompt }]);
  // One global view of the frame: tiling would multiply the image tokens for little gain at camera sizes.
  return {
    ...tokenizer(idefics3ImagePrompt(chat, imageTokens)),
    pixel_values,
    pixel_attention_mask: new Tensor('bool', new Uint8Array(side * side).fill(1), [1, 1, side, side])
  };
}

function chatText(processor: Processor, content: Message['content']): string {
  return processor.apply_chat_template([{ role: 'user', content }], { add_generation_prompt: true }) as string;
}

/**
 * Runs moondream's vision encoder once on a blank image: it compiles the GPU pipelines before the
 * first question, and tells how many features (so `<image>` tokens) one frame becomes.
 */
async function countImageFeatures(target: Omit<Loaded, 'imageTokens'>): Promise<number> {
  const blank = pixelValues(target, new Uint8ClampedArray(target.side * target.side * 4));
  const encode = (target.model as unknown as { encode_image: (inputs: object) => Promise<Tensor> }).encode_image;
  const features = await encode.call(target.model, { pixel_values: blank });
  return features.dims.at(-2) ?? 0;
}

const api = {
  /**
   * Loads a model from the model cache onto `request.device`. A failure leaves this worker's
   * ONNX runtime unusable (transformers.js chains sessions on one promise): the bridge must
   * terminate the worker rather than retry here.
   */
  async load(
    request: VlmLoadRequest,
    onProgress: (progress: LoadProgress) => void,
    onDeviceLost: (message: string) => void
  ): Promise<{ loadMs: number }> {
    const started = performance.now();
    if (loaded) {
      await loaded.model.dispose();
      loaded = null;
    }
    loaded = await loadModel(request, onProgress, onDeviceLost, async (progress_callback) => {
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
        request.architecture === 'moondream1'
          ? await countImageFeatures(base)
          : (processor.config as { image_seq_len: number }).image_seq_len;
      timeVisionEncoder(model);
      yieldBetweenSteps(model);
      return { ...base, imageTokens };
    });
    return { loadMs: performance.now() - started };
  },

  /**
   * Answers `prompt` about `frame` (transferred, closed here), or about nothing but the prompt
   * when `frame` is null, streaming text through `onToken`.
   */
  async generate(
    frame: VlmFrame | null,
    prompt: string,
    options: GenerateOptions,
    onToken: (text: string) => void | Promise<void>
  ): Promise<GenerationStats> {
    if (!loaded) {
      frame?.close();
      throw new ModelNotInstalledError('No model is loaded');
    }
    const { tokenizer, model, request } = loaded;
    const started = performance.now();
    const inputs = prepareInputs(loaded, frame, prompt);
    const preprocessMs = performance.now() - started;
    visionMs = 0;

    let firstTokenAt = 0;
    let tokens = 0;
    let output = '';
    // Tokens travel on the callback's own port, the result on the worker's: wait until the last token
    // has been handled, so the caller never sees the result before the text it sums up.
    let lastDelivery: void | Promise<void> = undefined;
    const streamer = new TextStreamer(tokenizer, {
      skip_prompt: true,
      skip_special_tokens: true,
      callback_function: (piece: string) => {
        output += piece;
        lastDelivery = onToken(piece);
      },
      token_callback_function: () => {
        tokens += 1;
        firstTokenAt ||= performance.now();
      }
    });
    stopping = new InterruptableStoppingCriteria();
    const stopping_criteria = new StoppingCriteriaList();
    stopping_criteria.push(stopping);
    try {
      await model.generate({
        ...inputs,
        max_new_tokens: options.maxNewTokens ?? 128,
        do_sample: false,
        // Xenova/moondream2 ships no generation_config.json: stop at the tokenizer's end of text.
        ...(request.architecture === 'moondream1' && { eos_token_id: tokenizer.eos_token_id }),
        streamer,
        stopping_criteria
      });
    } catch (error) {
      throw runError(request, error);
    } finally {
      if ('pixel_values' in inputs) {
        recycle(inputs.pixel_values);
      }
      await lastDelivery;
      release(onToken);
    }
    const ended = performance.now();
    const decodeMs = firstTokenAt ? ended - firstTokenAt : 0;
    const timeToFirstTokenMs = firstTokenAt ? firstTokenAt - started : ended - started;
    return {
      text: output.trim(),
      tokens,
      preprocessMs,
      visionMs,
      prefillMs: Math.max(0, timeToFirstTokenMs - preprocessMs - visionMs),
      timeToFirstTokenMs,
      totalMs: ended - started,
      tokensPerSecond: tokens > 1 && decodeMs > 0 ? ((tokens - 1) * 1000) / decodeMs : 0,
      device: request.device,
      aborted: stopping.interrupted
    };
  },

  /**
   * Frame hand-off alone (for benchmarks): how long until `frame` is the pixel tensor the
   * vision encoder takes, and that tensor's shape. The prompt's tokens are not part of it.
   */
  preprocess(frame: VlmFrame): { ms: number; shape: number[] } {
    if (!loaded) {
      frame.close();
      throw new ModelNotInstalledError('No model is loaded');
    }
    const started = performance.now();
    const pixels = pixelValues(loaded, framePixels(frame, loaded.side));
    const ms = performance.now() - started;
    recycle(pixels);
    return { ms, shape: pixels.dims };
  },

  /** Stops the running generation after the current token; the partial answer is returned. */
  abort(): void {
    stopping.interrupt();
  },

  async unload(): Promise<void> {
    await loaded?.model.dispose();
    loaded = null;
  }
};

export type VlmWorkerApi = typeof api;
expose(api);
