import { attention, feedForward, gelu, layerNorm, paddingMask, WEIGHT_STD } from './layers.ts';
import { OnnxGraph } from './onnx-graph.ts';
import { jsonFile, type RepoFile } from './repo-files.ts';
import { tokenId, wordPiece } from './vocab.ts';

export interface BertSizes {
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  maxPositions: number;
  /** The real model's vocabulary size (the tokenizer stays small); omitted: the tokenizer's own size. */
  realVocabSize?: number;
}

export const TINY_BERT: BertSizes = { hidden: 32, layers: 2, heads: 4, intermediate: 64, maxPositions: 128 };

/** sentence-transformers/all-MiniLM-L6-v2's shapes. */
export const MINILM_L6: BertSizes = {
  hidden: 384,
  layers: 6,
  heads: 12,
  intermediate: 1536,
  maxPositions: 512,
  realVocabSize: 30522
};

const LAYER_NORM_EPS = 1e-12;
const SPECIAL_TOKENS = {
  cls_token: '[CLS]',
  mask_token: '[MASK]',
  pad_token: '[PAD]',
  sep_token: '[SEP]',
  unk_token: '[UNK]'
};

/** BERT encoder (post-norm layers, GELU): input_ids + attention_mask + token_type_ids → last_hidden_state. */
function bertGraph(sizes: BertSizes, vocab: number, seedPrefix: string): Uint8Array {
  const { hidden, heads } = sizes;
  const g = new OnnxGraph('model', seedPrefix);
  const dims = ['batch_size', 'sequence_length'];
  const inputIds = g.input('input_ids', 'int64', dims);
  const attentionMask = g.input('attention_mask', 'int64', dims);
  const tokenTypeIds = g.input('token_type_ids', 'int64', dims);
  const table = (name: string, rows: number) =>
    g.weight(`embeddings.${name}.weight`, [rows, hidden], { std: WEIGHT_STD });
  const positions = g.op('Range', [g.int(0), g.op('Gather', [g.op('Shape', [inputIds]), g.int(1)]), g.int(1)]);
  const embedded = g.op('Add', [
    g.op('Add', [
      g.op('Gather', [table('word_embeddings', vocab), inputIds]),
      g.op('Gather', [table('token_type_embeddings', 2), tokenTypeIds])
    ]),
    g.op('Gather', [table('position_embeddings', sizes.maxPositions), positions])
  ]);
  let x = layerNorm(g, embedded, 'embeddings.LayerNorm', hidden, LAYER_NORM_EPS);
  const mask = paddingMask(g, attentionMask);
  const shape = { hidden, heads, kvHeads: heads, headDim: hidden / heads, bias: true };
  for (let i = 0; i < sizes.layers; i += 1) {
    const layer = `encoder.layer.${i}`;
    const names = {
      query: `${layer}.attention.self.query`,
      key: `${layer}.attention.self.key`,
      value: `${layer}.attention.self.value`,
      output: `${layer}.attention.output.dense`
    };
    const attended = attention(g, x, names, shape, { mask }).output;
    x = layerNorm(g, g.op('Add', [x, attended]), `${layer}.attention.output.LayerNorm`, hidden, LAYER_NORM_EPS);
    const mlpNames = { up: `${layer}.intermediate.dense`, down: `${layer}.output.dense` };
    const mlp = feedForward(g, x, mlpNames, hidden, sizes.intermediate, gelu);
    x = layerNorm(g, g.op('Add', [x, mlp]), `${layer}.output.LayerNorm`, hidden, LAYER_NORM_EPS);
  }
  g.output('last_hidden_state', x, 'float32', [...dims, hidden]);
  return g.encode();
}

/** A BERT feature-extraction repo (`onnx/model.onnx`), as sentence-transformers models are exported. */
export function bertRepo(repo: string, sizes: BertSizes): RepoFile[] {
  const vocabulary = wordPiece();
  const vocab = sizes.realVocabSize ?? vocabulary.size;
  return [
    jsonFile('config.json', {
      architectures: ['BertModel'],
      model_type: 'bert',
      vocab_size: vocab,
      hidden_size: sizes.hidden,
      num_hidden_layers: sizes.layers,
      num_attention_heads: sizes.heads,
      intermediate_size: sizes.intermediate,
      hidden_act: 'gelu',
      max_position_embeddings: sizes.maxPositions,
      type_vocab_size: 2,
      layer_norm_eps: LAYER_NORM_EPS,
      pad_token_id: tokenId(vocabulary, SPECIAL_TOKENS.pad_token)
    }),
    jsonFile('special_tokens_map.json', SPECIAL_TOKENS),
    jsonFile('tokenizer.json', vocabulary.tokenizer),
    jsonFile('tokenizer_config.json', {
      tokenizer_class: 'BertTokenizer',
      ...SPECIAL_TOKENS,
      do_lower_case: true,
      strip_accents: null,
      tokenize_chinese_chars: true,
      clean_up_tokenization_spaces: true,
      model_max_length: sizes.maxPositions
    }),
    { path: 'onnx/model.onnx', build: () => bertGraph(sizes, vocab, repo) }
  ];
}
