import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import {
  AutoModelForCausalLM,
  AutoModelForImageTextToText,
  AutoProcessor,
  AutoTokenizer,
  env,
  InterruptableStoppingCriteria,
  pipeline,
  StoppingCriteriaList,
  TextStreamer,
  type AutomaticSpeechRecognitionPipeline,
  type FeatureExtractionPipeline,
  type Message,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type Processor,
  type Tensor
} from '@huggingface/transformers';
import type { ModelEntry, ModelManifest } from '../../src/lib/core/manifest.ts';
import { resample } from '../../src/lib/core/speech/resample.ts';
import {
  transcriptOf,
  WHISPER_RATE,
  whisperOptions,
  type WhisperOutput
} from '../../src/lib/core/speech/transcript.ts';
import { badRequest, notFound } from '../http/errors.ts';
import { decodeAudio, isWav } from '../speech/decode-audio.ts';
import type {
  Backend,
  BackendStatus,
  CallObserver,
  ChatMessage,
  ChatRequest,
  ChatResult,
  Capability,
  ModelInfo,
  TranscriptionRequest,
  TranscriptionResult
} from './backend.ts';
import { loadImage, type ImageLimits } from './load-image.ts';

interface LoadedChat {
  kind: 'vision' | 'text';
  tokenizer: PreTrainedTokenizer;
  processor?: Processor;
  model: PreTrainedModel;
}

export type LocalDevice = 'cpu' | 'cuda';

/**
 * CUDA when onnxruntime-node's install fetched its CUDA provider (it does on a Linux machine with
 * CUDA 12 and network access), else the CPU. Checked once at startup.
 */
export function localDevice(): LocalDevice {
  const binding = join(
    dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json')),
    'bin/napi-v6',
    process.platform,
    process.arch
  );
  return existsSync(join(binding, 'libonnxruntime_providers_cuda.so')) ? 'cuda' : 'cpu';
}

/** Architectures this backend can chat with (moondream's prompt format is the browser's alone for now). */
const CHAT_ARCHITECTURES = new Set(['idefics3', 'llama']);

/** What each manifest task does, as the routes name it. */
const CAPABILITIES_OF: Record<ModelEntry['task'], Capability[]> = {
  'image-text-to-text': ['chat', 'vision'],
  'text-generation': ['chat'],
  'feature-extraction': ['embeddings'],
  'automatic-speech-recognition': ['audio']
};

/**
 * The longest recording transcribed in one request: half an hour is 115 MB of 16 kHz float
 * samples, and minutes of work on a CPU.
 */
const MAX_AUDIO_SECONDS = 1_800;

/**
 * Runs manifest models on this machine with transformers.js on onnxruntime-node (CPU or CUDA): the
 * embedded default, so the API answers with no GPU server, and what the tests use with the tiny
 * generated models. One generation per model at a time: a second would only share the same cores.
 */
export function localBackend(options: {
  modelsDir: string;
  manifest: ModelManifest;
  only?: string[];
  /** Where onnxruntime-node runs the models; see `localDevice()`. */
  device?: LocalDevice;
  /** Bounds on each image fetched from an http(s) URL. */
  imageLimits: ImageLimits;
  /** Told each call's time and outcome, as upstream calls are (the backend latency metric). */
  onCall?: CallObserver;
}): Backend {
  const device = options.device ?? 'cpu';
  const root = resolve(options.modelsDir);
  env.localModelPath = `${root}/`;
  env.allowRemoteModels = false;

  const present = options.manifest.models.filter(
    (model) =>
      (!options.only?.length || options.only.includes(model.id)) &&
      existsSync(join(root, model.source.repo, 'config.json')) &&
      (model.task === 'feature-extraction' ||
        model.task === 'automatic-speech-recognition' ||
        CHAT_ARCHITECTURES.has(model.architecture))
  );
  const byId = new Map(present.flatMap((model) => [[model.id, model] as const, [model.source.repo, model] as const]));
  const chatModels = new Map<string, Promise<LoadedChat>>();
  const embedders = new Map<string, Promise<FeatureExtractionPipeline>>();
  const recognisers = new Map<string, Promise<AutomaticSpeechRecognitionPipeline>>();
  const queues = new Map<string, Promise<unknown>>();

  function entry(id: string, capability: Capability): ModelEntry {
    const model = byId.get(id);
    if (!model || !CAPABILITIES_OF[model.task].includes(capability)) {
      throw notFound(`The model "${id}" does not exist or cannot do ${capability}`, 'model_not_found');
    }
    return model;
  }

  /** One pipeline per model, loaded on first use; a failed load is tried again next time. */
  function loaded<T>(cache: Map<string, Promise<T>>, model: ModelEntry, load: () => Promise<T>): Promise<T> {
    let found = cache.get(model.id);
    if (!found) {
      found = load();
      found.catch(() => cache.delete(model.id));
      cache.set(model.id, found);
    }
    return found;
  }

  /** Times a call to a known model (never a name a client made up: it becomes a metric label). */
  async function timed<T>(model: ModelEntry, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let ok = false;
    try {
      const result = await call();
      ok = true;
      return result;
    } finally {
      options.onCall?.({ backend: 'local', model: model.id, ms: performance.now() - started, ok });
    }
  }

  /** Runs `work` after every earlier call for the same model. */
  function serialized<T>(modelId: string, work: () => Promise<T>): Promise<T> {
    const previous = queues.get(modelId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    queues.set(modelId, next);
    return next;
  }

  function loadChat(model: ModelEntry): Promise<LoadedChat> {
    return loaded(chatModels, model, async () => {
      const load = { device, dtype: cpuDtype(model) as never };
      if (model.task === 'image-text-to-text') {
        const processor = await AutoProcessor.from_pretrained(model.source.repo);
        const modelInstance = await AutoModelForImageTextToText.from_pretrained(model.source.repo, load);
        return { kind: 'vision', processor, tokenizer: processor.tokenizer!, model: modelInstance };
      }
      const tokenizer = await AutoTokenizer.from_pretrained(model.source.repo);
      return { kind: 'text', tokenizer, model: await AutoModelForCausalLM.from_pretrained(model.source.repo, load) };
    });
  }

  return {
    id: 'local',

    models(): ModelInfo[] {
      return present.map((model) => ({
        id: model.id,
        ownedBy: model.source.repo.split('/')[0] ?? 'local',
        capabilities: CAPABILITIES_OF[model.task]
      }));
    },

    async chat(request, { signal, onDelta, onStart }): Promise<ChatResult> {
      const model = entry(request.model, 'chat');
      return timed(model, async () => {
        const loaded = await loadChat(model);
        const inputs = await prepare(loaded, request.messages, options.imageLimits, signal);
        onStart?.();
        return serialized(model.id, () => generate(loaded, inputs, request, signal, onDelta));
      });
    },

    async embed(modelId, input, { signal }) {
      const model = entry(modelId, 'embeddings');
      return timed(model, async () => {
        const run = await loaded(
          embedders,
          model,
          () =>
            pipeline('feature-extraction', model.source.repo, {
              device,
              dtype: cpuDtype(model) as never
            }) as Promise<FeatureExtractionPipeline>
        );
        return serialized(model.id, async () => {
          signal.throwIfAborted();
          const output = await run(input, { pooling: 'mean', normalize: true });
          const vectors = output.tolist() as number[][];
          output.dispose();
          const promptTokens = input.reduce((sum, text) => sum + run.tokenizer.encode(text).length, 0);
          return { vectors, promptTokens };
        });
      });
    },

    async transcribe(request, { signal }) {
      const model = entry(request.model, 'audio');
      if (request.prompt) {
        throw badRequest(
          'unsupported_parameter',
          'Local speech recognition cannot follow on from a prompt: send the audio without one',
          'prompt'
        );
      }
      return timed(model, async () => {
        const audio = speechSamples(request);
        const recognise = await loaded(recognisers, model, async () =>
          stoppable(
            (await pipeline('automatic-speech-recognition', model.source.repo, {
              device,
              dtype: cpuDtype(model) as never
            })) as AutomaticSpeechRecognitionPipeline
          )
        );
        return serialized(model.id, () => transcribe(recognise, audio, request, signal));
      });
    },

    status(): Promise<BackendStatus[]> {
      return Promise.resolve([
        {
          id: 'local',
          kind: 'local',
          device,
          models: present.map((model) => model.id),
          healthy: true,
          circuit: 'closed',
          latencyMs: 0
        }
      ]);
    },

    async close() {
      await Promise.allSettled([...queues.values()]);
      for (const loaded of chatModels.values()) {
        await (await loaded.catch(() => null))?.model.dispose();
      }
      for (const pipe of [...embedders.values(), ...recognisers.values()]) {
        await (await pipe.catch(() => null))?.dispose();
      }
    }
  };
}

/** The dtype of the manifest's CPU (wasm) variant, which is what the model folder holds. */
function cpuDtype(model: ModelEntry): ModelEntry['variants'][number]['dtype'] {
  return (model.variants.find((variant) => variant.device === 'wasm') ?? model.variants[0]!).dtype;
}

/** The recording as Whisper hears it: mono 16 kHz samples. */
function speechSamples({ file }: TranscriptionRequest): Float32Array {
  if (file.sampleRate === undefined && !isWav(file.bytes)) {
    throw badRequest(
      'unsupported_audio',
      `"${file.name}" is not a WAV file. This server transcribes WAV (PCM or float, any rate); convert MP3, M4A, ` +
        'WebM or Ogg to WAV first, or ask for a model served by an upstream that reads them',
      file.field
    );
  }
  const { samples, sampleRate } = decodeAudio(file.bytes, file.sampleRate, file.field);
  const seconds = samples.length / sampleRate;
  if (samples.length === 0) {
    throw badRequest('audio_empty', 'The recording holds no samples', file.field);
  }
  if (seconds > MAX_AUDIO_SECONDS) {
    throw badRequest(
      'audio_too_long',
      `The recording lasts ${Math.round(seconds / 60)} minutes; at most ${MAX_AUDIO_SECONDS / 60} are transcribed at once`,
      file.field
    );
  }
  return resample(samples, sampleRate, WHISPER_RATE);
}

const languageNames = new Intl.DisplayNames(['en'], { type: 'language' });

/** The signal of the request each recogniser is transcribing for (one at a time: calls are serialized). */
const transcribing = new WeakMap<AutomaticSpeechRecognitionPipeline, AbortSignal>();

/**
 * Whisper's generate() drops the `stopping_criteria` it is given, so the request's signal is
 * checked before each decoder step instead: a client that goes away frees the model at once.
 */
function stoppable(recognise: AutomaticSpeechRecognitionPipeline): AutomaticSpeechRecognitionPipeline {
  const model = recognise.model as unknown as { forward(inputs: unknown): Promise<unknown> };
  const forward = model.forward.bind(model);
  model.forward = (inputs) => {
    transcribing.get(recognise)?.throwIfAborted();
    return forward(inputs);
  };
  return recognise;
}

/** Whisper over the recording; a request that goes away stops before the next decoder step. */
async function transcribe(
  recognise: AutomaticSpeechRecognitionPipeline,
  audio: Float32Array,
  request: TranscriptionRequest,
  signal: AbortSignal
): Promise<TranscriptionResult> {
  signal.throwIfAborted();
  transcribing.set(recognise, signal);
  const options = whisperOptions(request.language);
  let output: WhisperOutput;
  try {
    output = (await recognise(audio, {
      ...options,
      ...(request.temperature ? { do_sample: true, temperature: request.temperature } : {})
    } as never)) as WhisperOutput;
  } catch (error) {
    if (error instanceof Error && /language/i.test(error.message)) {
      throw badRequest(
        'unsupported_language',
        `This model does not know the language "${options.language}"`,
        'language'
      );
    }
    throw error;
  } finally {
    transcribing.delete(recognise);
  }
  const durationS = audio.length / WHISPER_RATE;
  return {
    ...transcriptOf(output, durationS),
    language: languageNames.of(options.language)?.toLowerCase() ?? options.language,
    durationS
  };
}

async function prepare(loaded: LoadedChat, messages: ChatMessage[], imageLimits: ImageLimits, signal: AbortSignal) {
  const images = await Promise.all(
    messages.flatMap((message) =>
      message.content.flatMap((part) => (part.type === 'image' ? [loadImage(part.url, imageLimits, signal)] : []))
    )
  );
  if (loaded.kind === 'text') {
    if (images.length > 0) {
      throw badRequest('model_not_multimodal', 'This model reads text only: send the question without images');
    }
    const chat: Message[] = messages.map((message) => ({
      role: message.role,
      content: message.content.map((part) => (part.type === 'text' ? part.text : '')).join('\n')
    }));
    const text = loaded.tokenizer.apply_chat_template(chat, { add_generation_prompt: true, tokenize: false }) as string;
    return loaded.tokenizer(text) as Record<string, Tensor>;
  }
  const chat: Message[] = messages.map((message) => ({
    role: message.role,
    content: message.content.map((part) =>
      part.type === 'text' ? { type: 'text', text: part.text } : { type: 'image' }
    )
  }));
  const text = loaded.processor!.apply_chat_template(chat, { add_generation_prompt: true }) as string;
  // Vision processors expect images; a text-only turn (a summary over earlier findings) is just tokens.
  return (images.length > 0 ? await loaded.processor!(text, images) : loaded.tokenizer(text)) as Record<string, Tensor>;
}

async function generate(
  loaded: LoadedChat,
  inputs: Record<string, Tensor>,
  request: ChatRequest,
  signal: AbortSignal,
  onDelta?: (text: string) => void
): Promise<ChatResult> {
  signal.throwIfAborted();
  const stopping = new InterruptableStoppingCriteria();
  const criteria = new StoppingCriteriaList();
  criteria.push(stopping);
  const abort = () => stopping.interrupt();
  signal.addEventListener('abort', abort, { once: true });
  let text = '';
  let tokens = 0;
  const stops = request.stop ?? [];
  const streamer = new TextStreamer(loaded.tokenizer, {
    skip_prompt: true,
    skip_special_tokens: true,
    callback_function: (piece: string) => {
      const before = text.length;
      text += piece;
      const cut = stops.map((stop) => text.indexOf(stop, Math.max(0, before - stop.length))).find((at) => at >= 0);
      if (cut !== undefined) {
        text = text.slice(0, cut);
        stopping.interrupt();
      }
      if (text.length > before) {
        onDelta?.(text.slice(before));
      }
    },
    token_callback_function: () => {
      tokens += 1;
    }
  });
  // Greedy unless the caller asks for sampling: the same question gets the same answer.
  const sampling = request.temperature
    ? { do_sample: true, temperature: request.temperature, top_p: request.topP }
    : { do_sample: false };
  try {
    await loaded.model.generate({
      ...inputs,
      max_new_tokens: request.maxTokens,
      ...sampling,
      streamer,
      stopping_criteria: criteria
    });
  } finally {
    signal.removeEventListener('abort', abort);
  }
  signal.throwIfAborted();
  const promptTokens = inputs.input_ids?.dims.at(-1) ?? 0;
  return {
    text,
    finishReason: tokens >= request.maxTokens ? 'length' : 'stop',
    usage: { prompt_tokens: promptTokens, completion_tokens: tokens, total_tokens: promptTokens + tokens }
  };
}
