// Parts of encoder-decoder transformers (BART, Florence-2's language model, Whisper) shared by their generators.
import type { AttentionShape } from './layers.ts';
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
