import { gelu, linear } from './layers.ts';
import { OnnxGraph } from './onnx-graph.ts';
import { jsonFile, type RepoFile } from './repo-files.ts';
import { decoderGraph, embedTokensGraph, type DecoderSpec } from './text-decoder.ts';
import { patchGrid, visionTransformer, type VisionSpec } from './vision-encoder.ts';
import { byteLevelBpe, logitBias, tokenId } from './vocab.ts';

/**
 * A LLaVA-OneVision shaped model (onnx-community/llava-onevision-qwen2-0.5b-ov-hf): a SigLIP tower
 * whose every patch, through a two-layer GELU projector, becomes one image feature, and a Qwen2
 * decoder. Qwen2's q/k/v biases start at zero as Hugging Face initialises them, so the bias-free
 * Llama graph computes exactly what a Qwen2 one would.
 */
export interface LlavaOnevisionSizes {
  text: Omit<DecoderSpec, 'style' | 'vocab'>;
  vision: VisionSpec;
}

/** 32 px images of 8 px patches → 16 image tokens. */
export const TINY_LLAVA_ONEVISION: LlavaOnevisionSizes = {
  text: {
    hidden: 64,
    layers: 2,
    heads: 4,
    kvHeads: 2,
    headDim: 16,
    intermediate: 128,
    rotaryDim: 16,
    ropeTheta: 1000000,
    normEps: 1e-6
  },
  vision: { imageSize: 32, patchSize: 8, hidden: 32, layers: 2, heads: 2, intermediate: 64, normEps: 1e-6 }
};

const END_OF_TEXT = '<|endoftext|>';
const IM_START = '<|im_start|>';
const IM_END = '<|im_end|>';
const IMAGE = '<image>';
const VIDEO = '<video>';

/**
 * LLaVA-OneVision's chat template: a message's images, then its videos, then its text lines, each
 * line after a newline (`<|im_start|>user <image>\nWhat is this?<|im_end|>\n<|im_start|>assistant\n`).
 */
const CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + ' ' }}" +
  "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>' }}{% endfor %}" +
  "{% for content in message['content'] | selectattr('type', 'equalto', 'video') %}{{ '<video>' }}{% endfor %}" +
  "{% if message['role'] != 'assistant' %}" +
  "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ '\\n' + content['text'] }}{% endfor %}" +
  "{% else %}{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}" +
  "{% generation %}{{ '\\n' + content['text'] }}{% endgeneration %}{% endfor %}{% endif %}" +
  "{{ '<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** Qwen2's added tokens (after the learned vocabulary, as Qwen2 numbers them), then LLaVA-OneVision's. */
const ADDED = [END_OF_TEXT, IM_START, IM_END, IMAGE, VIDEO];

const SPECIAL_TOKENS = {
  additional_special_tokens: [IM_START, IM_END],
  eos_token: IM_END,
  pad_token: END_OF_TEXT
};

/**
 * `vision_encoder.onnx`: pixel_values [batch, 3, S, S] → image_features [batch, (S/P)², text hidden].
 * transformers.js 4.3 runs no anyres tiling: the base view's patches are all the features there are.
 */
function visionEncoderGraph(sizes: LlavaOnevisionSizes, seedPrefix: string): Uint8Array {
  const { vision, text } = sizes;
  const side = vision.imageSize;
  const g = new OnnxGraph('vision_encoder', seedPrefix);
  const pixels = g.input('pixel_values', 'float32', ['batch_size', 3, side, side]);
  const encoded = visionTransformer(g, pixels, vision, 'vision_tower.vision_model');
  // vision_feature_select_strategy "full": SigLIP has no CLS token to drop, every patch stays.
  const up = gelu(g, linear(g, encoded, 'multi_modal_projector.linear_1', vision.hidden, text.hidden, true));
  const features = linear(g, up, 'multi_modal_projector.linear_2', text.hidden, text.hidden, true);
  g.output('image_features', features, 'float32', ['batch_size', patchGrid(vision) ** 2, text.hidden]);
  return g.encode();
}

/**
 * A LLaVA-OneVision repo: embed_tokens + vision_encoder + decoder_model_merged, the image processor,
 * a Qwen2 tokenizer with `<image>`/`<video>`, and the chat template.
 */
export function llavaOnevisionRepo(repo: string, sizes: LlavaOnevisionSizes): RepoFile[] {
  const { vision } = sizes;
  const vocabulary = byteLevelBpe({ leading: [], added: ADDED.map((content) => ({ content })) });
  const text: DecoderSpec = { style: 'llama', vocab: vocabulary.size, ...sizes.text };
  const id = (token: string) => tokenId(vocabulary, token);
  const endOfSequence = [id(IM_END), id(END_OF_TEXT)];
  const generation = { bos_token_id: id(END_OF_TEXT), eos_token_id: endOfSequence, pad_token_id: id(END_OF_TEXT) };
  const side = vision.imageSize;
  const imageTokens = patchGrid(vision) ** 2;
  // One pinpoint, the base size: the simplest anyres grid (transformers.js resizes to `size` regardless).
  const gridPinpoints = [[side, side]];
  const processorClass = 'LlavaOnevisionProcessor';
  return [
    jsonFile('chat_template.json', { chat_template: CHAT_TEMPLATE }),
    jsonFile('config.json', {
      architectures: ['LlavaOnevisionForConditionalGeneration'],
      model_type: 'llava_onevision',
      image_token_index: id(IMAGE),
      video_token_index: id(VIDEO),
      image_grid_pinpoints: gridPinpoints,
      vision_aspect_ratio: 'anyres_max_9',
      vision_feature_layer: -1,
      vision_feature_select_strategy: 'full',
      projector_hidden_act: 'gelu',
      tie_word_embeddings: false,
      text_config: {
        architectures: ['Qwen2ForCausalLM'],
        model_type: 'qwen2',
        vocab_size: text.vocab,
        hidden_size: text.hidden,
        intermediate_size: text.intermediate,
        num_hidden_layers: text.layers,
        num_attention_heads: text.heads,
        num_key_value_heads: text.kvHeads,
        hidden_act: 'silu',
        max_position_embeddings: 32768,
        rms_norm_eps: text.normEps,
        rope_theta: text.ropeTheta,
        tie_word_embeddings: false,
        use_sliding_window: false,
        ...generation
      },
      vision_config: {
        model_type: 'siglip_vision_model',
        hidden_size: vision.hidden,
        intermediate_size: vision.intermediate,
        num_hidden_layers: vision.layers,
        num_attention_heads: vision.heads,
        num_channels: 3,
        image_size: side,
        patch_size: vision.patchSize,
        hidden_act: 'gelu_pytorch_tanh',
        layer_norm_eps: vision.normEps,
        vision_use_head: false
      }
    }),
    jsonFile('generation_config.json', generation),
    jsonFile('preprocessor_config.json', {
      do_convert_rgb: true,
      do_normalize: true,
      do_pad: true,
      do_rescale: true,
      do_resize: true,
      image_grid_pinpoints: gridPinpoints,
      image_mean: [0.5, 0.5, 0.5],
      image_processor_type: 'LlavaOnevisionImageProcessor',
      image_std: [0.5, 0.5, 0.5],
      processor_class: processorClass,
      resample: 3,
      rescale_factor: 1 / 255,
      size: { height: side, width: side }
    }),
    jsonFile('processor_config.json', {
      image_token: IMAGE,
      num_image_tokens: imageTokens,
      processor_class: processorClass,
      video_token: VIDEO,
      vision_feature_select_strategy: 'full'
    }),
    jsonFile('special_tokens_map.json', SPECIAL_TOKENS),
    jsonFile('tokenizer.json', vocabulary.tokenizer),
    jsonFile('tokenizer_config.json', {
      tokenizer_class: 'Qwen2Tokenizer',
      ...SPECIAL_TOKENS,
      bos_token: null,
      unk_token: null,
      add_prefix_space: false,
      clean_up_tokenization_spaces: false,
      errors: 'replace',
      model_max_length: 32768,
      processor_class: processorClass,
      split_special_tokens: false,
      chat_template: CHAT_TEMPLATE
    }),
    { path: 'onnx/embed_tokens.onnx', build: () => embedTokensGraph(text, repo) },
    { path: 'onnx/vision_encoder.onnx', build: () => visionEncoderGraph(sizes, repo) },
    {
      path: 'onnx/decoder_model_merged.onnx',
      build: () => decoderGraph(text, 'inputs_embeds', logitBias(text.vocab, vocabulary, endOfSequence), repo)
    }
  ];
}
