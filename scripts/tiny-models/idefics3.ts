import { linear } from './layers.ts';
import { llamaConfig } from './llama.ts';
import { ONNX_TYPE, OnnxGraph } from './onnx-graph.ts';
import { jsonFile, type RepoFile } from './repo-files.ts';
import { decoderGraph, embedTokensGraph, type DecoderSpec } from './text-decoder.ts';
import { patchGrid, visionTransformer, type VisionSpec } from './vision-encoder.ts';
import { byteLevelBpe, logitBias, tokenId, type AddedToken } from './vocab.ts';

export interface Idefics3Sizes {
  text: Omit<DecoderSpec, 'style' | 'vocab'>;
  vision: VisionSpec;
  /** Pixel-shuffle factor: each side of the patch grid shrinks by it, each token widens by its square. */
  scaleFactor: number;
  /** Longest edge the processor resizes to before cutting vision-encoder-sized tiles. */
  resizeLongestEdge: number;
  /** The real model's vocabulary size; its added tokens then take their real ids. Omitted: packed after the words. */
  realVocabSize?: number;
}

/** Small enough for fast WASM tests: 32 px tiles of 8 px patches → 4 image tokens per tile. */
export const TINY_SMOLVLM: Idefics3Sizes = {
  text: {
    hidden: 64,
    layers: 2,
    heads: 4,
    kvHeads: 2,
    headDim: 16,
    intermediate: 128,
    rotaryDim: 16,
    ropeTheta: 100000,
    normEps: 1e-5
  },
  vision: { imageSize: 32, patchSize: 8, hidden: 32, layers: 2, heads: 2, intermediate: 64, normEps: 1e-6 },
  scaleFactor: 2,
  resizeLongestEdge: 64
};

/** HuggingFaceTB/SmolVLM-256M-Instruct's shapes: SigLIP-B/16 at 512 px, a 30-layer 576-wide Llama. */
export const SMOLVLM_256M: Idefics3Sizes = {
  text: {
    hidden: 576,
    layers: 30,
    heads: 9,
    kvHeads: 3,
    headDim: 64,
    intermediate: 1536,
    rotaryDim: 64,
    ropeTheta: 100000,
    normEps: 1e-5
  },
  vision: { imageSize: 512, patchSize: 16, hidden: 768, layers: 12, heads: 12, intermediate: 3072, normEps: 1e-6 },
  scaleFactor: 4,
  resizeLongestEdge: 2048,
  realVocabSize: 49280
};

/** SmolVLM's chat template (the image goes where the message puts it; the processor expands it). */
const CHAT_TEMPLATE =
  "<|im_start|>{% for message in messages %}{{ message['role'] | capitalize }}" +
  "{% if message['content'][0]['type'] == 'image' %}{{ ':' }}{% else %}{{ ': ' }}{% endif %}" +
  "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{ line['text'] }}" +
  "{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}<end_of_utterance>\n" +
  "{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}";

/**
 * The names an Idefics3-shaped repo declares: SmolVLM's are Idefics3's; SmolVLM2 renames the model,
 * vision tower and processor, adds `<video>` to the chat template and video sampling to the
 * image processor. The graphs and the tokenizer are the same.
 */
export interface Idefics3Family {
  architecture: string;
  modelType: string;
  visionModelType: string;
  imageProcessorType: string;
  processorClass: string;
  chatTemplate: string;
  /** How SmolVLM2 samples a video into frames, each one vision-encoder tile. */
  videoSampling?: { fps: number; maxFrames: number };
}

export const IDEFICS3: Idefics3Family = {
  architecture: 'Idefics3ForConditionalGeneration',
  modelType: 'idefics3',
  visionModelType: 'idefics3_vision',
  imageProcessorType: 'Idefics3ImageProcessor',
  processorClass: 'Idefics3Processor',
  chatTemplate: CHAT_TEMPLATE
};

const SPECIAL_TOKENS = {
  additional_special_tokens: ['<fake_token_around_image>', '<image>', '<end_of_utterance>'],
  bos_token: '<|im_start|>',
  eos_token: '<end_of_utterance>',
  pad_token: '<|im_end|>',
  unk_token: '<|endoftext|>'
};

/** SmolVLM's added tokens, at the ids the real tokenizer gives them. */
function addedTokens(): Required<AddedToken>[] {
  const tiles = Array.from({ length: 36 }, (_, i) => `<row_${Math.floor(i / 6) + 1}_col_${(i % 6) + 1}>`);
  return [
    { content: '<global-img>', id: 49152, special: true },
    ...tiles.map((content, i) => ({ content, id: 49153 + i, special: true })),
    { content: '<fake_token_around_image>', id: 49189, special: true },
    { content: '<image>', id: 49190, special: true },
    { content: '<end_of_utterance>', id: 49279, special: true }
  ];
}

/** Idefics3's pixel shuffle: folds each r×r block of patches into one token r² times as wide. */
function pixelShuffle(g: OnnxGraph, x: string, grid: number, hidden: number, r: number): string {
  const rows = g.op('Reshape', [x, g.ints([-1, grid, grid / r, hidden * r])]);
  const blocks = g.op('Reshape', [
    g.op('Transpose', [rows], { perm: [0, 2, 1, 3] }),
    g.ints([-1, grid / r, grid / r, hidden * r * r])
  ]);
  return g.op('Reshape', [
    g.op('Transpose', [blocks], { perm: [0, 2, 1, 3] }),
    g.ints([-1, (grid / r) ** 2, hidden * r * r])
  ]);
}

/**
 * `vision_encoder.onnx`: pixel_values [batch, tiles, 3, S, S] + pixel_attention_mask → image_features
 * [tiles, image_seq_len, text hidden], one row per `<image>` token the processor wrote.
 */
function visionEncoderGraph(sizes: Idefics3Sizes, seedPrefix: string): Uint8Array {
  const { vision, scaleFactor } = sizes;
  const side = vision.imageSize;
  const g = new OnnxGraph('vision_encoder', seedPrefix);
  const pixels = g.input('pixel_values', 'float32', ['batch_size', 'num_images', 3, side, side]);
  const pixelMask = g.input('pixel_attention_mask', 'bool', ['batch_size', 'num_images', side, side]);
  // Batched samples are padded to the same tile count; like Idefics3, drop the padding tiles before encoding.
  const tiles = g.op('Reshape', [pixels, g.ints([-1, 3, side, side])]);
  const coverage = g.op('ReduceMax', [g.op('Cast', [pixelMask], { to: ONNX_TYPE.float32 })], {
    axes: [2, 3],
    keepdims: 0
  });
  const isReal = g.op('Greater', [g.op('Reshape', [coverage, g.ints([-1])]), g.float(0)]);
  const encoded = visionTransformer(g, g.op('Compress', [tiles, isReal], { axis: 0 }), vision, 'model.vision_model');
  const shuffled = pixelShuffle(g, encoded, patchGrid(vision), vision.hidden, scaleFactor);
  const wide = vision.hidden * scaleFactor ** 2;
  const features = linear(g, shuffled, 'model.connector.modality_projection.proj', wide, sizes.text.hidden, false);
  const imageSeqLen = (patchGrid(vision) / scaleFactor) ** 2;
  g.output('image_features', features, 'float32', ['num_images', imageSeqLen, sizes.text.hidden]);
  return g.encode();
}

/**
 * A SmolVLM (Idefics3) repo, or another of the family's (SmolVLM2): embed_tokens + vision_encoder +
 * decoder_model_merged, processor and chat template.
 */
export function idefics3Repo(repo: string, sizes: Idefics3Sizes, family: Idefics3Family = IDEFICS3): RepoFile[] {
  const { vision, realVocabSize } = sizes;
  const vocabulary = byteLevelBpe({
    leading: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'],
    added: realVocabSize ? addedTokens() : addedTokens().map(({ content }) => ({ content }))
  });
  const vocab = realVocabSize ?? vocabulary.size;
  const text: DecoderSpec = { style: 'llama', vocab, ...sizes.text };
  const id = (token: string) => tokenId(vocabulary, token);
  const endOfSequence = [id('<|im_end|>'), id('<end_of_utterance>')];
  const imageSeqLen = (patchGrid(vision) / sizes.scaleFactor) ** 2;
  const generation = { bos_token_id: id('<|im_start|>'), eos_token_id: endOfSequence, pad_token_id: id('<|im_end|>') };
  return [
    jsonFile('config.json', {
      architectures: [family.architecture],
      model_type: family.modelType,
      image_token_id: id('<image>'),
      scale_factor: sizes.scaleFactor,
      vocab_size: vocab,
      pad_token_id: generation.pad_token_id,
      tie_word_embeddings: false,
      text_config: { ...llamaConfig(text), ...generation },
      vision_config: {
        model_type: family.visionModelType,
        hidden_size: vision.hidden,
        intermediate_size: vision.intermediate,
        num_hidden_layers: vision.layers,
        num_attention_heads: vision.heads,
        num_channels: 3,
        image_size: vision.imageSize,
        patch_size: vision.patchSize,
        hidden_act: 'gelu_pytorch_tanh',
        layer_norm_eps: vision.normEps
      }
    }),
    jsonFile('generation_config.json', generation),
    jsonFile('preprocessor_config.json', {
      do_convert_rgb: true,
      do_image_splitting: true,
      do_normalize: true,
      do_pad: true,
      do_rescale: true,
      do_resize: true,
      image_mean: [0.5, 0.5, 0.5],
      image_processor_type: family.imageProcessorType,
      image_std: [0.5, 0.5, 0.5],
      max_image_size: { longest_edge: vision.imageSize },
      processor_class: family.processorClass,
      resample: 1,
      rescale_factor: 1 / 255,
      size: { longest_edge: sizes.resizeLongestEdge },
      ...(family.videoSampling && {
        video_sampling: {
          fps: family.videoSampling.fps,
          max_frames: family.videoSampling.maxFrames,
          video_size: { longest_edge: vision.imageSize }
        }
      })
    }),
    jsonFile('processor_config.json', { image_seq_len: imageSeqLen, processor_class: family.processorClass }),
    jsonFile('special_tokens_map.json', SPECIAL_TOKENS),
    jsonFile('tokenizer.json', vocabulary.tokenizer),
    jsonFile('tokenizer_config.json', {
      tokenizer_class: 'GPT2Tokenizer',
      ...SPECIAL_TOKENS,
      add_prefix_space: false,
      clean_up_tokenization_spaces: false,
      model_max_length: 8192,
      processor_class: family.processorClass,
      truncation_side: 'left',
      chat_template: family.chatTemplate
    }),
    { path: 'onnx/embed_tokens.onnx', build: () => embedTokensGraph(text, repo) },
    { path: 'onnx/vision_encoder.onnx', build: () => visionEncoderGraph(sizes, repo) },
    {
      path: 'onnx/decoder_model_merged.onnx',
      build: () => decoderGraph(text, 'inputs_embeds', logitBias(vocab, vocabulary, endOfSequence), repo)
    }
  ];
}
