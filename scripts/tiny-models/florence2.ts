import { attention, feedForward, gelu, layerNorm, linear, paddingMask, WEIGHT_STD } from './layers.ts';
import { OnnxGraph } from './onnx-graph.ts';
import { jsonFile, type RepoFile } from './repo-files.ts';
import {
  attentionNames,
  cacheInputs,
  crossAttention,
  decoderMask,
  newPositions,
  presentOutputs,
  shapeOf,
  type LayerCache
} from './seq2seq.ts';
import { patchGrid, visionTransformer, type VisionSpec } from './vision-encoder.ts';
import { byteLevelBpe, tokenId, type GenerativeVocabulary } from './vocab.ts';

/**
 * A Florence-2 shaped model: a vision tower whose projected patches are prepended to the prompt's
 * embeddings, a BART-style encoder over both, and a BART-style decoder with self- and
 * cross-attention. The vision tower is a ViT rather than DaViT and the text parts have no position
 * embeddings: with random weights only the ONNX inputs and outputs have to be Florence-2's.
 */
export interface Florence2Sizes {
  /** `d_model` of the language model, also the width of the projected image features. */
  hidden: number;
  encoderLayers: number;
  decoderLayers: number;
  heads: number;
  ffn: number;
  vision: VisionSpec | DavitSpec;
  /** The real model's vocabulary size: `<mask>` and Florence-2's tokens then take their real ids. Omitted: packed after the words. */
  realVocabSize?: number;
  /**
   * Project the encoder states for cross-attention only while the cache is empty, as the real
   * model's use_cache_branch does. Omitted: projected at every step and the cached rows kept, which
   * is cheap at tiny sizes (and keeps the tiny model's bytes) but at 577 image tokens would cost
   * 4 GMAC a token, forty times a BART-base decoder step.
   */
  projectEncoderOnce?: boolean;
}

/** One DaViT stage: a strided convolution into `dim` channels, then `depth` pairs of a window- and a channel-attention block. */
export interface DavitStage {
  dim: number;
  depth: number;
  /** Heads of the window attention, also the channel attention's groups (Florence-2 has num_heads = num_groups). */
  heads: number;
  kernel: number;
  stride: number;
  padding: number;
}

export interface DavitSpec {
  imageSize: number;
  windowSize: number;
  stages: DavitStage[];
  normEps: number;
}

export const TINY_FLORENCE2: Florence2Sizes = {
  hidden: 64,
  encoderLayers: 1,
  decoderLayers: 2,
  heads: 4,
  ffn: 128,
  vision: { imageSize: 32, patchSize: 8, hidden: 32, layers: 1, heads: 2, intermediate: 64, normEps: 1e-6 }
};

/**
 * microsoft/Florence-2-base's shapes (config.json): BART-base's language model (d_model 768, 6 + 6
 * layers, 12 heads, FFN 3072, vocabulary 51289) and DaViT-base at 768 px (dim_embed 128/256/512/1024,
 * depths 1/1/9/1, heads = groups 4/8/16/32, 12×12 windows, strides 4/2/2/2), whose 24×24 last-stage
 * tokens plus their spatial mean are the 577 image features projected from 1024 to 768. Left out, for
 * under 1% of the MACs: DaViT's 3×3 depthwise position convolutions before each block, the temporal
 * embedding, and BART's position embeddings (one Add each); the 2-D position embedding is one learned
 * [576, 1024] table instead of row + column tables. About 90M vision and 140M language parameters, so
 * the same order of compute (≈ 190 GMAC for the vision tower at 768 px) and memory as the real model;
 * but its LM head is untied (see decoderGraph: 157 MB more) and every '<OD>' answer is the decoding
 * schedule's 29 tokens (three boxes), where the real model's length follows the objects found.
 */
export const FLORENCE2_BASE: Florence2Sizes = {
  hidden: 768,
  encoderLayers: 6,
  decoderLayers: 6,
  heads: 12,
  ffn: 3072,
  vision: {
    imageSize: 768,
    windowSize: 12,
    stages: [
      { dim: 128, depth: 1, heads: 4, kernel: 7, stride: 4, padding: 3 },
      { dim: 256, depth: 1, heads: 8, kernel: 3, stride: 2, padding: 1 },
      { dim: 512, depth: 9, heads: 16, kernel: 3, stride: 2, padding: 1 },
      { dim: 1024, depth: 1, heads: 32, kernel: 3, stride: 2, padding: 1 }
    ],
    normEps: 1e-5
  },
  realVocabSize: 51289,
  projectEncoderOnce: true
};

const NORM_EPS = 1e-5;
const BATCH = 'batch_size';

/** BART's special tokens, at BART's ids 0–3. */
const BOS = '<s>';
const PAD = '<pad>';
const EOS = '</s>';
const UNK = '<unk>';
const MASK = '<mask>';

/** Florence-2's added special tokens, in the order its processor adds them (so `<loc_N>` ids are consecutive). */
const FLORENCE_TOKENS = [
  '<od>',
  '</od>',
  '<ocr>',
  '</ocr>',
  ...Array.from({ length: 1000 }, (_, i) => `<loc_${i}>`),
  '<cap>',
  '</cap>',
  '<ncap>',
  '</ncap>',
  '<dcap>',
  '</dcap>',
  '<grounding>',
  '</grounding>',
  '<seg>',
  '</seg>',
  '<sep>',
  '<region_cap>',
  '</region_cap>',
  '<region_to_desc>',
  '</region_to_desc>',
  '<proposal>',
  '</proposal>',
  '<poly>',
  '</poly>',
  '<and>'
];

/** microsoft/Florence-2-base-ft's task maps, which transformers.js's Florence2Processor reads from preprocessor_config.json. */
const TASKS_ANSWER_POST_PROCESSING_TYPE = {
  '<OCR>': 'pure_text',
  '<OCR_WITH_REGION>': 'ocr',
  '<CAPTION>': 'pure_text',
  '<DETAILED_CAPTION>': 'pure_text',
  '<MORE_DETAILED_CAPTION>': 'pure_text',
  '<OD>': 'description_with_bboxes',
  '<DENSE_REGION_CAPTION>': 'description_with_bboxes',
  '<CAPTION_TO_PHRASE_GROUNDING>': 'phrase_grounding',
  '<REFERRING_EXPRESSION_SEGMENTATION>': 'polygons',
  '<REGION_TO_SEGMENTATION>': 'polygons',
  '<OPEN_VOCABULARY_DETECTION>': 'description_with_bboxes_or_polygons',
  '<REGION_TO_CATEGORY>': 'pure_text',
  '<REGION_TO_DESCRIPTION>': 'pure_text',
  '<REGION_TO_OCR>': 'pure_text',
  '<REGION_PROPOSAL>': 'bboxes'
};
const TASK_PROMPTS_WITHOUT_INPUTS = {
  '<OCR>': 'What is the text in the image?',
  '<OCR_WITH_REGION>': 'What is the text in the image, with regions?',
  '<CAPTION>': 'What does the image describe?',
  '<DETAILED_CAPTION>': 'Describe in detail what is shown in the image.',
  '<MORE_DETAILED_CAPTION>': 'Describe with a paragraph what is shown in the image.',
  '<OD>': 'Locate the objects with category name in the image.',
  '<DENSE_REGION_CAPTION>': 'Locate the objects in the image, with their descriptions.',
  '<REGION_PROPOSAL>': 'Locate the region proposals in the image.'
};
const TASK_PROMPTS_WITH_INPUT = {
  '<CAPTION_TO_PHRASE_GROUNDING>': 'Locate the phrases in the caption: {input}',
  '<REFERRING_EXPRESSION_SEGMENTATION>': 'Locate {input} in the image with mask',
  '<REGION_TO_SEGMENTATION>': 'What is the polygon mask of region {input}',
  '<OPEN_VOCABULARY_DETECTION>': 'Locate {input} in the image.',
  '<REGION_TO_CATEGORY>': 'What is the region {input}?',
  '<REGION_TO_DESCRIPTION>': 'What does the region {input} describe?',
  '<REGION_TO_OCR>': 'What text is in the region {input}?'
};

const SPECIAL_TOKENS = {
  bos_token: BOS,
  eos_token: EOS,
  unk_token: UNK,
  sep_token: EOS,
  pad_token: PAD,
  cls_token: BOS,
  mask_token: MASK,
  additional_special_tokens: FLORENCE_TOKENS
};

/**
 * The decoding schedule that makes random weights answer in Florence-2's grammar, so that
 * `post_process_generation` has boxes to parse: after `<s>`, REGIONS times a word followed by
 * eight `<loc_N>` (one quad box for `<OCR_WITH_REGION>`, two boxes for `<OD>`), then `</s>`.
 * Which word and which bins come out is up to the random network, i.e. noise that depends on the image.
 */
const REGIONS = 3;
const LOCATIONS_PER_REGION = 8;
/** Rows of the token-class matrix. */
const CLASS = { bos: 0, word: 1, location: 2, eos: 3 } as const;
type TokenClass = (typeof CLASS)[keyof typeof CLASS];
/** Logit offset that takes a token class out of (or, as +STEER, back into) the running; random logits are well under ±1. */
const STEER = 30;

/** Token class allowed after each decoder position (the last row holds for every later position). */
function schedule(): TokenClass[] {
  const region = [CLASS.word, ...Array<TokenClass>(LOCATIONS_PER_REGION).fill(CLASS.location)];
  return [CLASS.bos, ...Array.from({ length: REGIONS }, () => region).flat(), CLASS.eos];
}

function tokenClasses(vocabulary: GenerativeVocabulary): Record<keyof typeof CLASS, number[]> {
  const id = (token: string) => tokenId(vocabulary, token);
  const location = Array.from({ length: 1000 }, (_, i) => id(`<loc_${i}>`));
  return { bos: [id(BOS)], word: vocabulary.wordIds, location, eos: [id(EOS)] };
}

/**
 * [seq, vocab] logit offsets for the new tokens at `positions`: final_logits_bias blocks every
 * token, and the schedule's row for each position lets one token class back in.
 */
function decodingBias(g: OnnxGraph, vocabulary: GenerativeVocabulary, positions: string): string {
  const vocab = vocabulary.size;
  const rows = schedule();
  const classCount = Object.keys(CLASS).length;
  const steering = new Float32Array(rows.length * classCount);
  rows.forEach((allowed, p) => (steering[p * classCount + allowed] = STEER));
  const classes = new Float32Array(classCount * vocab);
  const members = tokenClasses(vocabulary);
  for (const [name, row] of Object.entries(CLASS) as [keyof typeof CLASS, TokenClass][]) {
    members[name].forEach((id) => (classes[row * vocab + id] = 1));
  }
  const blocked = g.weight('language_model.final_logits_bias', [vocab], new Float32Array(vocab).fill(-STEER));
  const step = g.op('Min', [positions, g.int(rows.length - 1)]);
  const allowed = g.op('Gather', [g.weight('decoding_schedule', [rows.length, classCount], steering), step]);
  return g.op('Add', [blocked, g.op('MatMul', [allowed, g.weight('token_classes', [classCount, vocab], classes)])]);
}

/** `embed_tokens.onnx`: input_ids → inputs_embeds (prompt tokens for the encoder, generated ones for the decoder). */
function embedTokensGraph(sizes: Florence2Sizes, vocab: number, seedPrefix: string): Uint8Array {
  const g = new OnnxGraph('embed_tokens', seedPrefix);
  const inputIds = g.input('input_ids', 'int64', [BATCH, 'sequence_length']);
  const table = g.weight('language_model.model.shared.weight', [vocab, sizes.hidden], { std: WEIGHT_STD });
  const embeds = g.op('Gather', [table, inputIds]);
  g.output('inputs_embeds', embeds, 'float32', [BATCH, 'sequence_length', sizes.hidden]);
  return g.encode();
}

function isDavit(vision: VisionSpec | DavitSpec): vision is DavitSpec {
  return 'stages' in vision;
}

/** Tokens per image side after DaViT's last stage (each stage's convolution keeps side / stride). */
function davitGrid(spec: DavitSpec): number {
  return spec.stages.reduce((side, stage) => side / stage.stride, spec.imageSize);
}

/** How many image features one image becomes: DaViT's last-stage tokens plus their spatial mean, or the ViT's patches. */
function imageFeatureCount(vision: VisionSpec | DavitSpec): number {
  return isDavit(vision) ? davitGrid(vision) ** 2 + 1 : patchGrid(vision) ** 2;
}

/** [batch, dim, side, side] ↔ [batch, side², dim] */
function toSequence(g: OnnxGraph, spatial: string, dim: number): string {
  return g.op('Transpose', [g.op('Reshape', [spatial, g.ints([0, dim, -1])])], { perm: [0, 2, 1] });
}

function toSpatial(g: OnnxGraph, sequence: string, dim: number, side: number): string {
  return g.op('Reshape', [g.op('Transpose', [sequence], { perm: [0, 2, 1] }), g.ints([0, dim, side, side])]);
}

/**
 * [batch, side², dim] → [batch · windows, w², dim] and back: DaViT's spatial blocks attend within
 * each w×w window, so the windows become the batch of an ordinary attention.
 */
function toWindows(g: OnnxGraph, x: string, side: number, w: number, dim: number): string {
  const n = side / w;
  const split = g.op('Reshape', [x, g.ints([-1, n, w, n, w, dim])]);
  return g.op('Reshape', [g.op('Transpose', [split], { perm: [0, 1, 3, 2, 4, 5] }), g.ints([-1, w * w, dim])]);
}

function fromWindows(g: OnnxGraph, x: string, side: number, w: number, dim: number): string {
  const n = side / w;
  const split = g.op('Reshape', [x, g.ints([-1, n, n, w, w, dim])]);
  return g.op('Reshape', [g.op('Transpose', [split], { perm: [0, 1, 3, 2, 4, 5] }), g.ints([-1, side * side, dim])]);
}

/**
 * DaViT's channel attention over [batch, tokens, dim]: within each group, channels attend to
 * channels (a [groupDim, groupDim] map per group), queries scaled by tokens^-½.
 */
function channelAttention(
  g: OnnxGraph,
  x: string,
  prefix: string,
  dim: number,
  groups: number,
  tokens: number
): string {
  const groupDim = dim / groups;
  const grouped = (name: string) =>
    g.op(
      'Transpose',
      [g.op('Reshape', [linear(g, x, `${prefix}.${name}`, dim, dim, true), g.ints([0, 0, groups, groupDim])])],
      {
        perm: [0, 2, 1, 3]
      }
    );
  const query = g.op('Mul', [grouped('q_proj'), g.float(tokens ** -0.5)]);
  const scores = g.op('MatMul', [g.op('Transpose', [query], { perm: [0, 1, 3, 2] }), grouped('k_proj')]);
  const probabilities = g.op('Softmax', [scores], { axis: -1 });
  const context = g.op('MatMul', [grouped('v_proj'), g.op('Transpose', [probabilities], { perm: [0, 1, 3, 2] })]);
  const merged = g.op('Reshape', [g.op('Transpose', [context], { perm: [0, 2, 1, 3] }), g.ints([0, 0, dim])]);
  return linear(g, merged, `${prefix}.proj`, dim, dim, true);
}

/**
 * DaViT (Florence-2's vision tower, without its position convolutions): per stage a strided Conv,
 * then pairs of pre-norm window-attention and channel-attention blocks, each with a 4× GELU MLP.
 * [images, 3, S, S] → [images, (S/32)², last dim].
 */
function davit(g: OnnxGraph, pixels: string, spec: DavitSpec, prefix: string): string {
  const { normEps, windowSize } = spec;
  let x = pixels;
  let channels = 3;
  let side = spec.imageSize;
  spec.stages.forEach((stage, s) => {
    const { dim, kernel, stride, padding } = stage;
    const conv = `${prefix}.convs.${s}`;
    // Florence-2 normalizes before each stage's convolution but the first, and after the first.
    const input = s === 0 ? x : toSpatial(g, layerNorm(g, x, `${conv}.norm`, channels, normEps), channels, side);
    const convolved = g.op(
      'Conv',
      [
        input,
        g.weight(`${conv}.proj.weight`, [dim, channels, kernel, kernel], { std: WEIGHT_STD }),
        g.weight(`${conv}.proj.bias`, [dim], 'zeros')
      ],
      { kernel_shape: [kernel, kernel], strides: [stride, stride], pads: [padding, padding, padding, padding] }
    );
    channels = dim;
    side /= stride;
    x = toSequence(g, convolved, dim);
    if (s === 0) {
      x = layerNorm(g, x, `${conv}.norm`, dim, normEps);
    }
    const shape = shapeOf(dim, stage.heads);
    const mlp = (input: string, block: string) =>
      g.op('Add', [
        input,
        feedForward(
          g,
          layerNorm(g, input, `${block}.norm2`, dim, normEps),
          { up: `${block}.mlp.fc1`, down: `${block}.mlp.fc2` },
          dim,
          4 * dim,
          gelu
        )
      ]);
    for (let i = 0; i < stage.depth; i += 1) {
      const spatial = `${prefix}.blocks.${s}.${i}.spatial_block`;
      const windows = toWindows(g, layerNorm(g, x, `${spatial}.norm1`, dim, normEps), side, windowSize, dim);
      const attended = attention(g, windows, attentionNames(`${spatial}.window_attn`), shape).output;
      x = mlp(g.op('Add', [x, fromWindows(g, attended, side, windowSize, dim)]), spatial);
      const channel = `${prefix}.blocks.${s}.${i}.channel_block`;
      const normed = layerNorm(g, x, `${channel}.norm1`, dim, normEps);
      x = mlp(
        g.op('Add', [x, channelAttention(g, normed, `${channel}.channel_attn`, dim, stage.heads, side * side)]),
        channel
      );
    }
  });
  return x;
}

/**
 * Florence-2's image features from DaViT's last stage: a learned 2-D position embedding added, then
 * the spatial mean (one token) ahead of the tokens themselves ('spatial_avg_pool', 'temporal_avg_pool').
 */
function davitFeatures(g: OnnxGraph, pixels: string, spec: DavitSpec): string {
  const dim = spec.stages.at(-1)!.dim;
  const tokens = g.op('Add', [
    davit(g, pixels, spec, 'vision_tower'),
    g.weight('image_pos_embed.weight', [davitGrid(spec) ** 2, dim], { std: WEIGHT_STD })
  ]);
  return g.op('Concat', [g.op('ReduceMean', [tokens], { axes: [1] }), tokens], { axis: 1 });
}

/** `vision_encoder.onnx`: pixel_values [batch, 3, S, S] → image_features [batch, patches, d_model]. */
function visionEncoderGraph(sizes: Florence2Sizes, seedPrefix: string): Uint8Array {
  const { vision, hidden } = sizes;
  const g = new OnnxGraph('vision_encoder', seedPrefix);
  const pixels = g.input('pixel_values', 'float32', [BATCH, 3, vision.imageSize, vision.imageSize]);
  const patches = isDavit(vision)
    ? davitFeatures(g, pixels, vision)
    : visionTransformer(g, pixels, vision, 'vision_tower');
  const width = isDavit(vision) ? vision.stages.at(-1)!.dim : vision.hidden;
  const projected = linear(g, patches, 'image_projection', width, hidden, false);
  const features = layerNorm(g, projected, 'image_proj_norm', hidden, NORM_EPS);
  g.output('image_features', features, 'float32', [BATCH, imageFeatureCount(vision), hidden]);
  return g.encode();
}

/** BART's post-norm residual step. */
function residualNorm(g: OnnxGraph, x: string, update: string, name: string, hidden: number): string {
  return layerNorm(g, g.op('Add', [x, update]), name, hidden, NORM_EPS);
}

function ffn(g: OnnxGraph, x: string, layer: string, sizes: Florence2Sizes): string {
  return feedForward(g, x, { up: `${layer}.fc1`, down: `${layer}.fc2` }, sizes.hidden, sizes.ffn, gelu);
}

/** `encoder_model.onnx`: inputs_embeds (image features ++ prompt embeddings) + attention_mask → last_hidden_state. */
function encoderGraph(sizes: Florence2Sizes, seedPrefix: string): Uint8Array {
  const { hidden } = sizes;
  const prefix = 'language_model.model.encoder';
  const g = new OnnxGraph('encoder_model', seedPrefix);
  const sequence = [BATCH, 'encoder_sequence_length'];
  const embeds = g.input('inputs_embeds', 'float32', [...sequence, hidden]);
  const attentionMask = g.input('attention_mask', 'int64', sequence);
  const mask = paddingMask(g, attentionMask);
  let x = layerNorm(g, embeds, `${prefix}.layernorm_embedding`, hidden, NORM_EPS);
  for (let i = 0; i < sizes.encoderLayers; i += 1) {
    const layer = `${prefix}.layers.${i}`;
    const attended = attention(g, x, attentionNames(`${layer}.self_attn`), shapeOf(hidden, sizes.heads), { mask });
    x = residualNorm(g, x, attended.output, `${layer}.self_attn_layer_norm`, hidden);
    x = residualNorm(g, x, ffn(g, x, layer, sizes), `${layer}.final_layer_norm`, hidden);
  }
  g.output('last_hidden_state', x, 'float32', [...sequence, hidden]);
  return g.encode();
}

/**
 * `decoder_model_merged.onnx` in Optimum's seq2seq layout, as transformers.js feeds it: inputs_embeds,
 * encoder_hidden_states, encoder_attention_mask and past_key_values.{i}.decoder/encoder.key/value
 * (no decoder attention_mask, no use_cache_branch: transformers.js sends only the inputs a graph declares,
 * and crossAttention picks cached or computed keys without a branch);
 * outputs logits and present.{i}.decoder/encoder.key/value. Unlike BART the LM head is not tied to the
 * embedding: tied random weights make each token predict itself, so every box would have x1 = x2.
 */
function decoderGraph(sizes: Florence2Sizes, vocabulary: GenerativeVocabulary, seedPrefix: string): Uint8Array {
  const { hidden, heads } = sizes;
  const shape = shapeOf(hidden, heads);
  const prefix = 'language_model.model.decoder';
  const g = new OnnxGraph('decoder_model_merged', seedPrefix);
  const embeds = g.input('inputs_embeds', 'float32', [BATCH, 'decoder_sequence_length', hidden]);
  const encoderSequence = [BATCH, 'encoder_sequence_length'];
  const encoderMask = g.input('encoder_attention_mask', 'int64', encoderSequence);
  const encoderStates = g.input('encoder_hidden_states', 'float32', [...encoderSequence, hidden]);
  const encoder = {
    states: encoderStates,
    mask: encoderMask,
    length: g.op('Gather', [g.op('Shape', [encoderStates]), g.ints([1])])
  };
  const { pasts, encoderCache } = cacheInputs(g, sizes.decoderLayers, shape);
  const { positions, total } = newPositions(g, pasts[0]!.decoder.key, embeds);
  const mask = decoderMask(g, embeds, total, embeds);

  let x = layerNorm(g, embeds, `${prefix}.layernorm_embedding`, hidden, NORM_EPS);
  const presents: LayerCache[] = [];
  pasts.forEach((past, i) => {
    const layer = `${prefix}.layers.${i}`;
    const own = attention(g, x, attentionNames(`${layer}.self_attn`), shape, { mask, past: past.decoder });
    x = residualNorm(g, x, own.output, `${layer}.self_attn_layer_norm`, hidden);
    const cross = crossAttention(g, x, encoder, past.encoder, `${layer}.encoder_attn`, shape, sizes.projectEncoderOnce);
    x = residualNorm(g, x, cross.output, `${layer}.encoder_attn_layer_norm`, hidden);
    x = residualNorm(g, x, ffn(g, x, layer, sizes), `${layer}.final_layer_norm`, hidden);
    presents.push({ decoder: own, encoder: cross });
  });

  const logits = g.op('Add', [
    linear(g, x, 'language_model.lm_head', hidden, vocabulary.size, false),
    decodingBias(g, vocabulary, positions)
  ]);
  g.output('logits', logits, 'float32', [BATCH, 'decoder_sequence_length', vocabulary.size]);
  presentOutputs(g, presents, shape, encoderCache);
  return g.encode();
}

/**
 * A Florence-2 repo as onnx-community/Florence-2-base-ft lays it out: config, generation and
 * preprocessor configs (with the real task maps), a BART tokenizer with Florence-2's added tokens
 * (`<loc_0>`…`<loc_999>` among them), and the four ONNX parts transformers.js loads for `florence2`.
 */
export function florence2Repo(repo: string, sizes: Florence2Sizes): RepoFile[] {
  const { vision, hidden, heads } = sizes;
  // With the real vocabulary size, <mask> and Florence-2's tokens end it, as in Florence-2 (<mask> = 50264).
  const firstAdded = sizes.realVocabSize && sizes.realVocabSize - 1 - FLORENCE_TOKENS.length;
  const base = byteLevelBpe({
    leading: [BOS, PAD, EOS, UNK],
    added: [MASK, ...FLORENCE_TOKENS].map((content, i) => (firstAdded ? { content, id: firstAdded + i } : { content }))
  });
  // BART wraps every sequence in <s> … </s>.
  const postProcessor = {
    type: 'RobertaProcessing',
    sep: [EOS, tokenId(base, EOS)],
    cls: [BOS, tokenId(base, BOS)],
    trim_offsets: true,
    add_prefix_space: false
  };
  const vocabulary: GenerativeVocabulary = { ...base, tokenizer: { ...base.tokenizer, post_processor: postProcessor } };
  const id = (token: string) => tokenId(vocabulary, token);
  const tokenIds = { bos_token_id: id(BOS), eos_token_id: id(EOS), pad_token_id: id(PAD) };
  const generation = {
    ...tokenIds,
    decoder_start_token_id: id(EOS),
    forced_bos_token_id: id(BOS),
    forced_eos_token_id: id(EOS),
    early_stopping: true,
    no_repeat_ngram_size: 3,
    num_beams: 3
  };
  const imageSeqLength = imageFeatureCount(vision);
  const side = { height: vision.imageSize, width: vision.imageSize };
  return [
    jsonFile('config.json', {
      architectures: ['Florence2ForConditionalGeneration'],
      model_type: 'florence2',
      // transformers.js reads this at the top level: it selects encoder_model.onnx and the encoder-decoder cache.
      is_encoder_decoder: true,
      projection_dim: hidden,
      vocab_size: vocabulary.size,
      ...tokenIds,
      text_config: {
        model_type: 'florence2_language',
        vocab_size: vocabulary.size,
        d_model: hidden,
        encoder_layers: sizes.encoderLayers,
        decoder_layers: sizes.decoderLayers,
        encoder_attention_heads: heads,
        decoder_attention_heads: heads,
        encoder_ffn_dim: sizes.ffn,
        decoder_ffn_dim: sizes.ffn,
        activation_function: 'gelu',
        max_position_embeddings: 1024,
        scale_embedding: false,
        is_encoder_decoder: true,
        ...generation
      },
      vision_config: isDavit(vision)
        ? {
            model_type: 'davit',
            projection_dim: hidden,
            dim_embed: vision.stages.map((s) => s.dim),
            depths: vision.stages.map((s) => s.depth),
            num_heads: vision.stages.map((s) => s.heads),
            num_groups: vision.stages.map((s) => s.heads),
            patch_size: vision.stages.map((s) => s.kernel),
            patch_stride: vision.stages.map((s) => s.stride),
            patch_padding: vision.stages.map((s) => s.padding),
            patch_prenorm: vision.stages.map((_, i) => i > 0),
            window_size: vision.windowSize,
            image_feature_source: ['spatial_avg_pool', 'temporal_avg_pool']
          }
        : {
            model_type: '',
            projection_dim: hidden,
            image_size: vision.imageSize,
            patch_size: vision.patchSize,
            hidden_size: vision.hidden,
            num_hidden_layers: vision.layers,
            num_attention_heads: vision.heads
          }
    }),
    jsonFile('generation_config.json', generation),
    jsonFile('preprocessor_config.json', {
      crop_size: side,
      do_center_crop: false,
      do_convert_rgb: null,
      do_normalize: true,
      do_rescale: true,
      do_resize: true,
      image_mean: [0.485, 0.456, 0.406],
      image_processor_type: 'CLIPImageProcessor',
      image_seq_length: imageSeqLength,
      image_std: [0.229, 0.224, 0.225],
      processor_class: 'Florence2Processor',
      resample: 3,
      rescale_factor: 1 / 255,
      size: side,
      tasks_answer_post_processing_type: TASKS_ANSWER_POST_PROCESSING_TYPE,
      task_prompts_without_inputs: TASK_PROMPTS_WITHOUT_INPUTS,
      task_prompts_with_input: TASK_PROMPTS_WITH_INPUT
    }),
    jsonFile('special_tokens_map.json', SPECIAL_TOKENS),
    jsonFile('tokenizer.json', vocabulary.tokenizer),
    jsonFile('tokenizer_config.json', {
      tokenizer_class: 'BartTokenizer',
      ...SPECIAL_TOKENS,
      add_prefix_space: false,
      clean_up_tokenization_spaces: true,
      errors: 'replace',
      model_max_length: 1024,
      processor_class: 'Florence2Processor',
      trim_offsets: true
    }),
    { path: 'onnx/embed_tokens.onnx', build: () => embedTokensGraph(sizes, vocabulary.size, repo) },
    { path: 'onnx/vision_encoder.onnx', build: () => visionEncoderGraph(sizes, repo) },
    { path: 'onnx/encoder_model.onnx', build: () => encoderGraph(sizes, repo) },
    { path: 'onnx/decoder_model_merged.onnx', build: () => decoderGraph(sizes, vocabulary, repo) }
  ];
}
