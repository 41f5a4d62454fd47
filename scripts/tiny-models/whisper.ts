import { attention, feedForward, gelu, layerNorm, linear, WEIGHT_STD } from './layers.ts';
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
import { byteLevelBpe, tokenId, type GenerativeVocabulary } from './vocab.ts';

/**
 * A Whisper shaped model in Optimum's layout, as transformers.js loads it for
 * automatic-speech-recognition: `onnx/encoder_model.onnx` (`input_features` → `last_hidden_state`)
 * and `onnx/decoder_model_merged.onnx` (`input_ids`, `encoder_hidden_states`,
 * `past_key_values.{i}.{decoder|encoder}.{key|value}`), with Whisper's feature extractor, tokenizer
 * and generation configs. The encoder's two convolutions are one linear map of frame pairs (the
 * same stride-2 shapes); with random weights only the inputs, outputs and configs have to be
 * Whisper's.
 */
export interface WhisperSizes {
  hidden: number;
  heads: number;
  encoderLayers: number;
  decoderLayers: number;
  ffn: number;
}

export const TINY_WHISPER: WhisperSizes = { hidden: 64, heads: 4, encoderLayers: 1, decoderLayers: 2, ffn: 128 };

const MELS = 80;
/** 30 s of 10 ms frames, halved by the encoder's stride. */
const FRAMES = 3000;
const SOURCE_POSITIONS = FRAMES / 2;
const TARGET_POSITIONS = 448;
const NORM_EPS = 1e-5;
const BATCH = 'batch_size';

const END = '<|endoftext|>';
const START = '<|startoftranscript|>';
/** Languages a voice input offers first; the real model has 99 (lang_to_id lists what this one has). */
const WHISPER_LANGUAGES = ['en', 'zh', 'de', 'es', 'ru', 'ko', 'fr', 'ja', 'pt', 'tr', 'pl', 'it', 'nl', 'ar', 'hi'];
const TASKS = ['<|translate|>', '<|transcribe|>'];
const NO_TIMESTAMPS = '<|notimestamps|>';
const TIMESTAMPS = Array.from({ length: 1501 }, (_, i) => `<|${(i * 0.02).toFixed(2)}|>`);
const SPECIALS = [
  START,
  ...WHISPER_LANGUAGES.map((code) => `<|${code}|>`),
  ...TASKS,
  '<|startoflm|>',
  '<|startofprev|>',
  '<|nocaptions|>',
  NO_TIMESTAMPS
];

/** Words written after the four prompt tokens (start, language, task, no timestamps), then the end. */
const WORDS_SAID = 6;
const PROMPT_TOKENS = 4;
const STEER = 30;
const EMBEDDING_STD = 1;
/**
 * Cross-attention weights this large make each step attend to a few frames that stand out, so
 * the recording changes the words; at Florence-2's scale the 1,500 frames (mostly the 30 s
 * window's padding) average out and every recording gets the same transcript.
 */
const CROSS_ATTENTION_STD = 0.5;

function vocabularyOf(): GenerativeVocabulary {
  return byteLevelBpe({
    leading: [END],
    added: [...SPECIALS.map((content) => ({ content })), ...TIMESTAMPS.map((content) => ({ content }))]
  });
}

function encoderGraph(sizes: WhisperSizes, seedPrefix: string): Uint8Array {
  const { hidden, heads } = sizes;
  const g = new OnnxGraph('encoder_model', seedPrefix);
  const features = g.input('input_features', 'float32', [BATCH, MELS, FRAMES]);
  // Frame pairs side by side: [batch, 1500, 2 × 80], the stride-2 convolution's receptive field.
  const pairs = g.op('Reshape', [
    g.op('Transpose', [features], { perm: [0, 2, 1] }),
    g.ints([0, SOURCE_POSITIONS, 2 * MELS])
  ]);
  let x = gelu(g, linear(g, pairs, 'model.encoder.conv', 2 * MELS, hidden, true));
  x = g.op('Add', [
    x,
    g.weight('model.encoder.embed_positions.weight', [SOURCE_POSITIONS, hidden], { std: WEIGHT_STD })
  ]);
  for (let i = 0; i < sizes.encoderLayers; i++) {
    const layer = `model.encoder.layers.${i}`;
    const own = attention(
      g,
      preNorm(g, x, `${layer}.self_attn_layer_norm`, hidden),
      attentionNames(`${layer}.self_attn`),
      shapeOf(hidden, heads)
    );
    x = g.op('Add', [x, own.output]);
    x = g.op('Add', [x, ffn(g, preNorm(g, x, `${layer}.final_layer_norm`, hidden), layer, sizes)]);
  }
  x = layerNorm(g, x, 'model.encoder.layer_norm', hidden, NORM_EPS);
  g.output('last_hidden_state', x, 'float32', [BATCH, SOURCE_POSITIONS, hidden]);
  return g.encode();
}

/** Whisper's pre-norm residual blocks normalise the input of each sub-layer. */
const preNorm = (g: OnnxGraph, x: string, name: string, hidden: number) => layerNorm(g, x, name, hidden, NORM_EPS);

function ffn(g: OnnxGraph, x: string, layer: string, sizes: WhisperSizes): string {
  return feedForward(g, x, { up: `${layer}.fc1`, down: `${layer}.fc2` }, sizes.hidden, sizes.ffn, gelu);
}

/**
 * [seq, vocab] logit offsets: after the prompt, {@link WORDS_SAID} whole words and then the end
 * (every other token blocked), so a random model writes a short, decodable transcript and stops.
 */
function decodingBias(g: OnnxGraph, vocabulary: GenerativeVocabulary, positions: string): string {
  const vocab = vocabulary.size;
  const rows = new Float32Array(2 * vocab).fill(-STEER);
  vocabulary.wordIds.forEach((id) => (rows[id] = 0));
  rows[vocab + tokenId(vocabulary, END)] = 0;
  // The logits at position p choose token p + 1: the end is chosen at the position of the last word.
  const lastWord = PROMPT_TOKENS + WORDS_SAID - 1;
  const step = g.op('Min', [g.op('Max', [g.op('Sub', [positions, g.int(lastWord - 1)]), g.int(0)]), g.int(1)]);
  return g.op('Gather', [g.weight('decoding_schedule', [2, vocab], rows), step]);
}

function decoderGraph(sizes: WhisperSizes, vocabulary: GenerativeVocabulary, seedPrefix: string): Uint8Array {
  const { hidden, heads } = sizes;
  const shape = shapeOf(hidden, heads);
  const g = new OnnxGraph('decoder_model_merged', seedPrefix);
  const inputIds = g.input('input_ids', 'int64', [BATCH, 'decoder_sequence_length']);
  const states = g.input('encoder_hidden_states', 'float32', [BATCH, 'encoder_sequence_length', hidden]);
  const encoder = { states, length: g.op('Gather', [g.op('Shape', [states]), g.ints([1])]) };
  const { pasts, encoderCache } = cacheInputs(g, sizes.decoderLayers, shape);
  const { positions, total } = newPositions(g, pasts[0]!.decoder.key, inputIds);
  // Embeddings as large as the cross-attention's output, so the words change from one position to the next.
  const tokens = g.weight('model.decoder.embed_tokens.weight', [vocabulary.size, hidden], { std: EMBEDDING_STD });
  const places = g.weight('model.decoder.embed_positions.weight', [TARGET_POSITIONS, hidden], { std: EMBEDDING_STD });
  let x = g.op('Add', [g.op('Gather', [tokens, inputIds]), g.op('Gather', [places, positions])]);
  const mask = decoderMask(g, inputIds, total, x);

  const presents: LayerCache[] = [];
  pasts.forEach((past, i) => {
    const layer = `model.decoder.layers.${i}`;
    const own = attention(
      g,
      preNorm(g, x, `${layer}.self_attn_layer_norm`, hidden),
      attentionNames(`${layer}.self_attn`),
      shape,
      {
        mask,
        past: past.decoder
      }
    );
    x = g.op('Add', [x, own.output]);
    const cross = crossAttention(
      g,
      preNorm(g, x, `${layer}.encoder_attn_layer_norm`, hidden),
      encoder,
      past.encoder,
      `${layer}.encoder_attn`,
      shape,
      false,
      CROSS_ATTENTION_STD
    );
    x = g.op('Add', [x, cross.output]);
    x = g.op('Add', [x, ffn(g, preNorm(g, x, `${layer}.final_layer_norm`, hidden), layer, sizes)]);
    presents.push({ decoder: own, encoder: cross });
  });
  x = layerNorm(g, x, 'model.decoder.layer_norm', hidden, NORM_EPS);
  // Untied, unlike Whisper's: tied random weights make every token predict itself.
  const logits = g.op('Add', [
    linear(g, x, 'proj_out', hidden, vocabulary.size, false),
    decodingBias(g, vocabulary, positions)
  ]);
  g.output('logits', logits, 'float32', [BATCH, 'decoder_sequence_length', vocabulary.size]);
  presentOutputs(g, presents, shape, encoderCache);
  return g.encode();
}

/** A Whisper repo as onnx-community/whisper-tiny lays it out (fp32 graphs only). */
export function whisperRepo(repo: string, sizes: WhisperSizes): RepoFile[] {
  const vocabulary = vocabularyOf();
  const id = (token: string) => tokenId(vocabulary, token);
  const end = id(END);
  const tokenIds = { bos_token_id: end, eos_token_id: end, pad_token_id: end, decoder_start_token_id: id(START) };
  const langToId = Object.fromEntries(WHISPER_LANGUAGES.map((code) => [`<|${code}|>`, id(`<|${code}|>`)]));
  return [
    jsonFile('config.json', {
      architectures: ['WhisperForConditionalGeneration'],
      model_type: 'whisper',
      is_encoder_decoder: true,
      d_model: sizes.hidden,
      encoder_layers: sizes.encoderLayers,
      decoder_layers: sizes.decoderLayers,
      encoder_attention_heads: sizes.heads,
      decoder_attention_heads: sizes.heads,
      encoder_ffn_dim: sizes.ffn,
      decoder_ffn_dim: sizes.ffn,
      num_mel_bins: MELS,
      max_source_positions: SOURCE_POSITIONS,
      max_target_positions: TARGET_POSITIONS,
      vocab_size: vocabulary.size,
      activation_function: 'gelu',
      scale_embedding: false,
      ...tokenIds
    }),
    jsonFile('generation_config.json', {
      ...tokenIds,
      is_multilingual: true,
      lang_to_id: langToId,
      task_to_id: { translate: id(TASKS[0]!), transcribe: id(TASKS[1]!) },
      no_timestamps_token_id: id(NO_TIMESTAMPS),
      max_initial_timestamp_index: 50,
      max_length: TARGET_POSITIONS,
      suppress_tokens: [],
      begin_suppress_tokens: [end]
    }),
    jsonFile('preprocessor_config.json', {
      feature_extractor_type: 'WhisperFeatureExtractor',
      feature_size: MELS,
      sampling_rate: 16_000,
      hop_length: 160,
      n_fft: 400,
      chunk_length: 30,
      n_samples: 480_000,
      nb_max_frames: FRAMES,
      padding_side: 'right',
      padding_value: 0,
      return_attention_mask: false,
      processor_class: 'WhisperProcessor'
    }),
    jsonFile('tokenizer.json', vocabulary.tokenizer),
    jsonFile('tokenizer_config.json', {
      tokenizer_class: 'WhisperTokenizer',
      bos_token: END,
      eos_token: END,
      pad_token: END,
      unk_token: END,
      add_prefix_space: false,
      clean_up_tokenization_spaces: true,
      errors: 'replace',
      model_max_length: 1024,
      processor_class: 'WhisperProcessor'
    }),
    { path: 'onnx/encoder_model.onnx', build: () => encoderGraph(sizes, repo) },
    { path: 'onnx/decoder_model_merged.onnx', build: () => decoderGraph(sizes, vocabulary, repo) }
  ];
}
