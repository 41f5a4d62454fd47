import {
  attention,
  causalMask,
  feedForward,
  geluTanh,
  layerNorm,
  linear,
  rmsNorm,
  rotaryEmbedding,
  swiGlu,
  WEIGHT_STD,
  type AttentionShape
} from './layers.ts';
import { OnnxGraph } from './onnx-graph.ts';

export interface DecoderSpec {
  /**
   * llama: RMSNorm, attention then SwiGLU MLP, no biases.
   * phi: LayerNorm, attention and GELU MLP side by side on the same input, biases everywhere.
   */
  style: 'llama' | 'phi';
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  /** Leading dimensions of each head that rotate (all of them for Llama, half for Phi). */
  rotaryDim: number;
  ropeTheta: number;
  normEps: number;
}

// transformers.js sizes an empty cache from these names: `batch_size` from the inputs, any other name → 0.
const BATCH = 'batch_size';
const SEQUENCE = 'sequence_length';
const PAST = 'past_sequence_length';
const TOTAL = 'total_sequence_length';

function embed(g: OnnxGraph, inputIds: string, spec: DecoderSpec): string {
  const table = g.weight('model.embed_tokens.weight', [spec.vocab, spec.hidden], { std: WEIGHT_STD });
  return g.op('Gather', [table, inputIds]);
}

/** `embed_tokens.onnx` of a VLM: `input_ids` → `inputs_embeds`, before image features are merged in. */
export function embedTokensGraph(spec: DecoderSpec, seedPrefix: string): Uint8Array {
  const g = new OnnxGraph('embed_tokens', seedPrefix);
  const inputIds = g.input('input_ids', 'int64', [BATCH, SEQUENCE]);
  g.output('inputs_embeds', embed(g, inputIds, spec), 'float32', [BATCH, SEQUENCE, spec.hidden]);
  return g.encode();
}

/**
 * A decoder-only language model with a KV cache, in the layout transformers.js drives: `input_ids`
 * for a causal LM's `model.onnx`, `inputs_embeds` for a VLM's `decoder_model_merged.onnx`.
 * `logitBias` becomes `lm_head.bias` (Llama has none; here it keeps random weights producing words).
 */
export function decoderGraph(
  spec: DecoderSpec,
  input: 'input_ids' | 'inputs_embeds',
  logitBias: Float32Array,
  seedPrefix: string
): Uint8Array {
  const { hidden, headDim, kvHeads, style, normEps } = spec;
  const g = new OnnxGraph(input === 'input_ids' ? 'model' : 'decoder_model_merged', seedPrefix);
  let x =
    input === 'input_ids'
      ? embed(g, g.input('input_ids', 'int64', [BATCH, SEQUENCE]), spec)
      : g.input('inputs_embeds', 'float32', [BATCH, SEQUENCE, hidden]);
  const attentionMask = g.input('attention_mask', 'int64', [BATCH, TOTAL]);
  const positionIds = g.input('position_ids', 'int64', [BATCH, SEQUENCE]);
  const mask = causalMask(g, attentionMask, x);
  const rotary = rotaryEmbedding(g, positionIds, spec.rotaryDim, spec.ropeTheta);
  const shape: AttentionShape = { hidden, heads: spec.heads, kvHeads, headDim, bias: style === 'phi' };
  const norm = (t: string, name: string) =>
    style === 'phi' ? layerNorm(g, t, name, hidden, normEps) : rmsNorm(g, t, name, hidden, normEps);
  const presents: { key: string; value: string }[] = [];

  for (let i = 0; i < spec.layers; i += 1) {
    const layer = `model.layers.${i}`;
    const cacheDims = [BATCH, kvHeads, PAST, headDim];
    const past = {
      key: g.input(`past_key_values.${i}.key`, 'float32', cacheDims),
      value: g.input(`past_key_values.${i}.value`, 'float32', cacheDims)
    };
    const names = {
      query: `${layer}.self_attn.q_proj`,
      key: `${layer}.self_attn.k_proj`,
      value: `${layer}.self_attn.v_proj`,
      output: `${layer}.self_attn.${style === 'phi' ? 'dense' : 'o_proj'}`
    };
    const normed = norm(x, `${layer}.input_layernorm`);
    const attended = attention(g, normed, names, shape, { mask, rotary, past });
    presents.push(attended);
    if (style === 'phi') {
      const mlpNames = { up: `${layer}.mlp.fc1`, down: `${layer}.mlp.fc2` };
      const mlp = feedForward(g, normed, mlpNames, hidden, spec.intermediate, geluTanh);
      x = g.op('Add', [g.op('Add', [attended.output, mlp]), x]);
    } else {
      x = g.op('Add', [x, attended.output]);
      const mlp = swiGlu(g, norm(x, `${layer}.post_attention_layernorm`), `${layer}.mlp`, hidden, spec.intermediate);
      x = g.op('Add', [x, mlp]);
    }
  }

  const final = norm(x, style === 'phi' ? 'model.final_layernorm' : 'model.norm');
  const logits = g.op('Add', [
    linear(g, final, 'lm_head', hidden, spec.vocab, false),
    g.weight('lm_head.bias', [spec.vocab], logitBias)
  ]);
  g.output('logits', logits, 'float32', [BATCH, SEQUENCE, spec.vocab]);
  presents.forEach(({ key, value }, i) => {
    g.output(`present.${i}.key`, key, 'float32', [BATCH, kvHeads, TOTAL, headDim]);
    g.output(`present.${i}.value`, value, 'float32', [BATCH, kvHeads, TOTAL, headDim]);
  });
  return g.encode();
}
