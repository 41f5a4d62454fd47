// Parts of encoder-decoder transformers (BART, Florence-2's language model, Whisper) shared by their generators.
import { causalMask, type AttentionShape } from './layers.ts';
import { ONNX_TYPE, type OnnxGraph } from './onnx-graph.ts';

export function shapeOf(hidden: number, heads: number): AttentionShape {
  return { hidden, heads, kvHeads: heads, headDim: hidden / heads, bias: true };
}

export const attentionNames = (prefix: string) => ({
  query: `${prefix}.q_proj`,
  key: `${prefix}.k_proj`,
  value: `${prefix}.v_proj`,
  output: `${prefix}.out_proj`
});

/** [batch, seq, hidden] → [batch, heads, seq, headDim] */
export function toHeads(g: OnnxGraph, x: string, shape: AttentionShape): string {
  const split = g.op('Reshape', [x, g.ints([0, 0, shape.heads, shape.headDim])]);
  return g.op('Transpose', [split], { perm: [0, 2, 1, 3] });
}

/**
 * Weight scale of the cross-attention projections. At the usual WEIGHT_STD the random cross-attention
 * adds about 1% to the residual stream and every image gets the same answer; at this scale the
 * image and the prompt steer which words and bins come out.
 */
const CROSS_ATTENTION_STD = 0.1;

/**
 * BART's encoder-decoder attention. Its keys/values are the cached ones once there are any
 * (`past` then holds the whole encoder sequence), else the projection of `encoderStates`: taking
 * the first encoder-length rows of past ++ computed selects one or the other without an `If`
 * (with `projectOnce`, past ++ the projection of the rows past lacks, none once cached).
 */
export function crossAttention(
  g: OnnxGraph,
  x: string,
  encoder: { states: string; mask?: string; length: string },
  past: { key: string; value: string },
  prefix: string,
  shape: AttentionShape,
  projectOnce = false,
  std = CROSS_ATTENTION_STD
): { output: string; key: string; value: string } {
  const names = attentionNames(prefix);
  const { hidden, headDim } = shape;
  const project = (t: string, name: string) =>
    g.op('Add', [
      g.op('MatMul', [t, g.weight(`${name}.weight`, [hidden, hidden], { std })]),
      g.weight(`${name}.bias`, [hidden], 'zeros')
    ]);
  // projectOnce: only the encoder rows not cached yet are projected, all of them on the first step and none after.
  const pastLength = projectOnce && g.op('Gather', [g.op('Shape', [past.key]), g.ints([2])]);
  const fresh =
    pastLength && g.op('Slice', [encoder.states, g.ints([0]), g.op('Sub', [encoder.length, pastLength]), g.ints([1])]);
  const cached = (name: string, input: string) => {
    if (fresh) {
      return g.op('Concat', [input, toHeads(g, project(fresh, name), shape)], { axis: 2 });
    }
    const computed = toHeads(g, project(encoder.states, name), shape);
    const both = g.op('Concat', [input, computed], { axis: 2 });
    return g.op('Slice', [both, g.ints([0]), encoder.length, g.ints([2])]);
  };
  const key = cached(names.key, past.key);
  const value = cached(names.value, past.value);
  const query = toHeads(g, project(x, names.query), shape);
  const scores = g.op('MatMul', [
    g.op('Mul', [query, g.float(1 / Math.sqrt(headDim))]),
    g.op('Transpose', [key], { perm: [0, 1, 3, 2] })
  ]);
  // Whisper's encoder output is never padded: no mask.
  const keep =
    encoder.mask && g.op('Unsqueeze', [g.op('Cast', [encoder.mask], { to: ONNX_TYPE.bool }), g.ints([1, 2])]);
  const probabilities = g.op('Softmax', [keep ? g.op('Where', [keep, scores, g.float(-1e9)]) : scores], { axis: -1 });
  const context = g.op('Transpose', [g.op('MatMul', [probabilities, value])], { perm: [0, 2, 1, 3] });
  const merged = g.op('Reshape', [context, g.ints([0, 0, hidden])]);
  return { output: project(merged, names.output), key, value };
}

const BATCH = 'batch_size';

export interface LayerCache {
  decoder: { key: string; value: string };
  encoder: { key: string; value: string };
}

/**
 * The decoder's cache inputs in Optimum's seq2seq layout, `past_key_values.{i}.decoder|encoder.key|value`,
 * and the shape the encoder's cached keys keep (for the matching `present.*` outputs).
 */
export function cacheInputs(
  g: OnnxGraph,
  layers: number,
  shape: AttentionShape
): { pasts: LayerCache[]; encoderCache: (string | number)[] } {
  const decoderCache = [BATCH, shape.heads, 'past_decoder_sequence_length', shape.headDim];
  const encoderCache = [BATCH, shape.heads, 'encoder_sequence_length_out', shape.headDim];
  const pasts = Array.from({ length: layers }, (_, i) => ({
    decoder: {
      key: g.input(`past_key_values.${i}.decoder.key`, 'float32', decoderCache),
      value: g.input(`past_key_values.${i}.decoder.value`, 'float32', decoderCache)
    },
    encoder: {
      key: g.input(`past_key_values.${i}.encoder.key`, 'float32', encoderCache),
      value: g.input(`past_key_values.${i}.encoder.value`, 'float32', encoderCache)
    }
  }));
  return { pasts, encoderCache };
}

/** Positions of the new tokens (`tokens`: [batch, new, …]): the cached length onwards. */
export function newPositions(g: OnnxGraph, pastKey: string, tokens: string): { positions: string; total: string } {
  const pastLength = g.op('Gather', [g.op('Shape', [pastKey]), g.int(2)]);
  const newTokens = g.op('Gather', [g.op('Shape', [tokens]), g.int(1)]);
  const total = g.op('Add', [pastLength, newTokens]);
  return { positions: g.op('Range', [pastLength, total, g.int(1)]), total };
}

/** The decoder's causal mask: every position is a real token, so it needs no attention_mask input. */
export function decoderMask(g: OnnxGraph, tokens: string, total: string, hidden: string): string {
  const batch = g.op('Gather', [g.op('Shape', [tokens]), g.ints([0])]);
  const maskShape = g.op('Concat', [batch, g.op('Unsqueeze', [total, g.ints([0])])], { axis: 0 });
  return causalMask(g, g.op('Expand', [g.ints([1]), maskShape]), hidden);
}

/** The `present.{i}.decoder|encoder.key|value` outputs of each layer's self- and cross-attention. */
export function presentOutputs(
  g: OnnxGraph,
  presents: LayerCache[],
  shape: AttentionShape,
  encoderCache: (string | number)[]
): void {
  presents.forEach(({ decoder, encoder }, i) => {
    const decoderOut = [BATCH, shape.heads, 'present_decoder_sequence_length', shape.headDim];
    g.output(`present.${i}.decoder.key`, decoder.key, 'float32', decoderOut);
    g.output(`present.${i}.decoder.value`, decoder.value, 'float32', decoderOut);
    g.output(`present.${i}.encoder.key`, encoder.key, 'float32', encoderCache);
    g.output(`present.${i}.encoder.value`, encoder.value, 'float32', encoderCache);
  });
}
