import {
  InterruptableStoppingCriteria,
  StoppingCriteriaList,
  TextStreamer,
  type PreTrainedModel,
  type Tensor
} from '@huggingface/transformers';
import { expose } from 'comlink';
import {
  DEFAULT_MAX_NEW_TOKENS,
  type GenerateOptions,
  type GenerationStats,
  type LoadProgress
} from '#lib/core/engine-types.ts';
import { ModelNotInstalledError } from '#lib/core/errors.ts';
import { florenceRequest, florenceStreamFilter } from '#lib/core/florence.ts';
import type { VlmFrame, VlmLoadRequest } from '#lib/core/vlm-types.ts';
import { release, runError } from './runtime/common.ts';
import { loadModel } from './runtime/transformers.ts';
import { wrapModelMethod, yieldBetweenSteps } from './runtime/transformers-internals.ts';
import {
  buildVlm,
  florenceResult,
  framePixelValues,
  frameSize,
  prepareInputs,
  recycle,
  type LoadedVlm
} from './vlm-model.ts';

let loaded: LoadedVlm | null = null;
/** Time the running request spent in the vision encoder, to split time-to-first-token. */
let visionMs = 0;

/** Times every vision-encoder run of `model` (transformers.js calls it inside generate()). */
function timeVisionEncoder(model: PreTrainedModel): void {
  wrapModelMethod(model, 'encode_image', async (encode) => {
    const started = performance.now();
    try {
      return await encode();
    } finally {
      visionMs += performance.now() - started;
    }
  });
}

let stopping = new InterruptableStoppingCriteria();

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
    loaded = await loadModel(request, onProgress, onDeviceLost, async (progress_callback) => {
      const vlm = await buildVlm(request, progress_callback);
      timeVisionEncoder(vlm.model);
      yieldBetweenSteps(vlm.model);
      return vlm;
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
    const florence = request.architecture === 'florence2' ? florenceRequest(prompt) : null;
    const size = frame && frameSize(frame);
    const inputs = prepareInputs(loaded, frame, florence?.text ?? prompt);
    const preprocessMs = performance.now() - started;
    visionMs = 0;

    let firstTokenAt = 0;
    let tokens = 0;
    let output = '';
    // Tokens travel on the callback's own port, the result on the worker's: wait until the last token
    // has been handled, so the caller never sees the result before the text it sums up.
    let lastDelivery: void | Promise<void> = undefined;
    // Florence-2's locations are special tokens: kept to parse the regions, not shown as text.
    const shown = florence ? florenceStreamFilter() : (piece: string) => piece;
    const streamer = new TextStreamer(tokenizer, {
      skip_prompt: true,
      skip_special_tokens: !florence,
      callback_function: (piece: string) => {
        const text = shown(piece);
        if (text) {
          output += text;
          lastDelivery = onToken(text);
        }
      },
      token_callback_function: () => {
        tokens += 1;
        firstTokenAt ||= performance.now();
      }
    });
    stopping = new InterruptableStoppingCriteria();
    const stopping_criteria = new StoppingCriteriaList();
    stopping_criteria.push(stopping);
    let sequences: unknown;
    try {
      sequences = await model.generate({
        ...inputs,
        max_new_tokens: options.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS,
        do_sample: false,
        // Xenova/moondream2 ships no generation_config.json: stop at the tokenizer's end of text.
        ...(request.architecture === 'moondream1' && { eos_token_id: tokenizer.eos_token_id }),
        // Florence-2's config asks for 3 beams; transformers.js keeps the first one anyway.
        ...(florence && { num_beams: 1 }),
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
    const answer = florence && size && florenceResult(loaded, sequences as Tensor, florence, size);
    const ended = performance.now();
    const decodeMs = firstTokenAt ? ended - firstTokenAt : 0;
    const timeToFirstTokenMs = firstTokenAt ? firstTokenAt - started : ended - started;
    return {
      text: answer ? answer.text : output.trim(),
      annotations: answer ? answer.annotations : null,
      tokens,
      promptTokens: inputs.input_ids.dims.at(-1) ?? 0,
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
   * Benchmark only (tests/bench/frame-handoff): the frame hand-off alone — how long until `frame`
   * is the pixel tensor the vision encoder takes, and that tensor's shape. Not for the app.
   */
  benchPreprocess(frame: VlmFrame): { ms: number; shape: number[] } {
    if (!loaded) {
      frame.close();
      throw new ModelNotInstalledError('No model is loaded');
    }
    const started = performance.now();
    const pixels = framePixelValues(loaded, frame);
    const ms = performance.now() - started;
    recycle(pixels);
    return { ms, shape: pixels.dims };
  },

  /** Stops the running generation after the current token; the partial answer is returned. */
  abort(): void {
    stopping.interrupt();
  }
};

export type VlmWorkerApi = typeof api;
expose(api);
