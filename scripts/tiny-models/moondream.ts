import { geluTanh, linear } from './layers.ts';
import { OnnxGraph } from './onnx-graph.ts';
import { jsonFile, type RepoFile } from './repo-files.ts';
import { decoderGraph, embedTokensGraph, type DecoderSpec } from './text-decoder.ts';
import { patchGrid, visionTransformer, type VisionSpec } from './vision-encoder.ts';
import { byteLevelBpe, logitBias, tokenId } from './vocab.ts';

const TEXT: Omit<DecoderSpec, 'vocab'> = {
  style: 'phi',
  hidden: 64,
  layers: 2,
  heads: 4,
  kvHeads: 4,
  headDim: 16,
  intermediate: 256,
  // Phi rotates half of each head (partial_rotary_factor 0.5).
  rotaryDim: 8,
  ropeTheta: 10000,
  normEps: 1e-5
};
const VISION: VisionSpec = {
  imageSize: 32,
  patchSize: 8,
  hidden: 32,
  layers: 2,
  heads: 2,
  intermediate: 64,
  normEps: 1e-6
};
const END_OF_TEXT = '<|endoftext|>';
const IMAGE = '<image>';
/** Xenova/moondream2 gives `<image>` id -200 (config `image_token_index`); the embedding Gather wraps it around. */
const IMAGE_TOKEN_ID = -200;

/** moondream's prompt format, as a chat template: `<image>\n\nQuestion: …\n\nAnswer:`. */
const CHAT_TEMPLATE =
  "{% for message in messages %}{% if message['role'] == 'user' %}" +
  "{% if message['content'] is string %}{{ 'Question: ' + message['content'] + '\\n\\n' }}{% else %}" +
  "{% for part in message['content'] %}{% if part['type'] == 'image' %}{{ '<image>\\n\\n' }}{% endif %}{% endfor %}" +
  "{% for part in message['content'] %}{% if part['type'] == 'text' %}{{ 'Question: ' + part['text'] + '\\n\\n' }}" +
  '{% endif %}{% endfor %}{% endif %}' +
  "{% else %}{{ 'Answer: ' + message['content'] + '\\n\\n' }}{% endif %}{% endfor %}" +
  "{% if add_generation_prompt %}{{ 'Answer:' }}{% endif %}";

/** `vision_encoder.onnx`: pixel_values [batch, 3, S, S] → SigLIP → MLP → image_features [batch, patches, D]. */
function visionEncoderGraph(seedPrefix: string): Uint8Array {
  const side = VISION.imageSize;
  const g = new OnnxGraph('vision_encoder', seedPrefix);
  const pixels = g.input('pixel_values', 'float32', ['batch_size', 3, side, side]);
  const encoded = visionTransformer(g, pixels, VISION, 'model.vision_model');
  const projectionWidth = 4 * TEXT.hidden;
  const up = geluTanh(g, linear(g, encoded, 'model.vision_projection.fc1', VISION.hidden, projectionWidth, true));
  const features = linear(g, up, 'model.vision_projection.fc2', projectionWidth, TEXT.hidden, true);
  g.output('image_features', features, 'float32', ['batch_size', patchGrid(VISION) ** 2, TEXT.hidden]);
  return g.encode();
}

/**
 * A moondream (Phi decoder + SigLIP) repo. Xenova/moondream2 has no processor wiring for text;
 * this one adds `LlavaProcessor` (processor_config.json) and a chat template, so `<image>` is
 * expanded to one token per patch — which transformers.js 4.3 requires when merging features.
 */
export function tinyMoondreamRepo(repo: string): RepoFile[] {
  const vocabulary = byteLevelBpe({
    leading: [END_OF_TEXT],
    added: [{ content: IMAGE, id: IMAGE_TOKEN_ID }],
    prefix: END_OF_TEXT
  });
  const text: DecoderSpec = { ...TEXT, vocab: vocabulary.size };
  const endOfText = tokenId(vocabulary, END_OF_TEXT);
  const tokenIds = { bos_token_id: endOfText, eos_token_id: endOfText };
  const specialTokens = { bos_token: END_OF_TEXT, eos_token: END_OF_TEXT, unk_token: END_OF_TEXT };
  return [
    jsonFile('config.json', {
      architectures: ['Moondream'],
      model_type: 'moondream1',
      image_token_index: IMAGE_TOKEN_ID,
      phi_config: {
        architectures: ['PhiForCausalLM'],
        model_type: 'phi',
        vocab_size: text.vocab,
        hidden_size: text.hidden,
        intermediate_size: text.intermediate,
        num_hidden_layers: text.layers,
        num_attention_heads: text.heads,
        num_key_value_heads: text.kvHeads,
        partial_rotary_factor: text.rotaryDim / text.headDim,
        rope_theta: text.ropeTheta,
        layer_norm_eps: text.normEps,
        hidden_act: 'gelu_new',
        max_position_embeddings: 2048,
        tie_word_embeddings: false,
        ...tokenIds
      }
    }),
    jsonFile('generation_config.json', tokenIds),
    jsonFile('preprocessor_config.json', {
      do_normalize: true,
      do_rescale: true,
      do_resize: true,
      image_mean: [0.5, 0.5, 0.5],
      image_processor_type: 'SiglipImageProcessor',
      image_std: [0.5, 0.5, 0.5],
      processor_class: 'LlavaProcessor',
      resample: 3,
      rescale_factor: 1 / 255,
      size: { height: VISION.imageSize, width: VISION.imageSize }
    }),
    jsonFile('processor_config.json', {
      image_token: IMAGE,
      num_additional_image_tokens: 0,
      patch_size: VISION.patchSize,
      processor_class: 'LlavaProcessor'
    }),
    jsonFile('special_tokens_map.json', specialTokens),
    jsonFile('tokenizer.json', vocabulary.tokenizer),
    jsonFile('tokenizer_config.json', {
      tokenizer_class: 'CodeGenTokenizer',
      ...specialTokens,
      add_prefix_space: false,
      clean_up_tokenization_spaces: true,
      model_max_length: 2048,
      chat_template: CHAT_TEMPLATE
    }),
    { path: 'onnx/embed_tokens.onnx', build: () => embedTokensGraph(text, repo) },
    { path: 'onnx/vision_encoder.onnx', build: () => visionEncoderGraph(repo) },
    {
      path: 'onnx/decoder_model_merged.onnx',
      build: () => decoderGraph(text, 'inputs_embeds', logitBias(text.vocab, vocabulary, [endOfText]), repo)
    }
  ];
}
