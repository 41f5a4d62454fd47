import { ONNX_TYPE, type OnnxGraph } from './onnx-graph.ts';

/** Standard deviation of every random weight: small enough that activations stay finite through 30 layers. */
export const WEIGHT_STD = 0.02;
/** Score of a masked attention position: finite, so a fully masked row becomes uniform rather than NaN. */
const MASKED_SCORE = -1e9;

export type Activation = (g: OnnxGraph, x: string) => string;

/**
 * `x · W + b` with W stored as [in, out], so no transpose runs at inference time. Biases start at
 * zero as Hugging Face initialises them: random ones would add the same vector at every position
 * and drown the input-dependent signal of these random models.
 */
export function linear(
  g: OnnxGraph,
  x: string,
  name: string,
  inFeatures: number,
  outFeatures: number,
  bias: boolean
): string {
  const y = g.op('MatMul', [x, g.weight(`${name}.weight`, [inFeatures, outFeatures], { std: WEIGHT_STD })]);
  return bias ? g.op('Add', [y, g.weight(`${name}.bias`, [outFeatures], 'zeros')]) : y;
}

// Opset 14 has no LayerNormalization; this is the pattern PyTorch exports, which onnxruntime fuses back.
export function layerNorm(g: OnnxGraph, x: string, name: string, dim: number, eps: number): string {
  const mean = g.op('ReduceMean', [x], { axes: [-1] });
  const centered = g.op('Sub', [x, mean]);
  const variance = g.op('ReduceMean', [g.op('Pow', [centered, g.float(2)])], { axes: [-1] });
  const normed = g.op('Div', [centered, g.op('Sqrt', [g.op('Add', [variance, g.float(eps)])])]);
  const scaled = g.op('Mul', [normed, g.weight(`${name}.weight`, [dim], 'ones')]);
  return g.op('Add', [scaled, g.weight(`${name}.bias`, [dim], 'zeros')]);
}

export function rmsNorm(g: OnnxGraph, x: string, name: string, dim: number, eps: number): string {
  const meanSquare = g.op('ReduceMean', [g.op('Pow', [x, g.float(2)])], { axes: [-1] });
  const normed = g.op('Div', [x, g.op('Sqrt', [g.op('Add', [meanSquare, g.float(eps)])])]);
  return g.op('Mul', [normed, g.weight(`${name}.weight`, [dim], 'ones')]);
}

/** GELU with erf (BERT's `gelu`). */
export const gelu: Activation = (g, x) => {
  const erf = g.op('Erf', [g.op('Div', [x, g.float(Math.SQRT2)])]);
  return g.op('Mul', [g.op('Mul', [x, g.op('Add', [erf, g.float(1)])]), g.float(0.5)]);
};

/** GELU, tanh approximation (SigLIP's `gelu_pytorch_tanh`, Phi's `gelu_new`). */
export const geluTanh: Activation = (g, x) => {
  const cubic = g.op('Mul', [g.op('Pow', [x, g.float(3)]), g.float(0.044715)]);
  const inner = g.op('Mul', [g.op('Add', [x, cubic]), g.float(Math.sqrt(2 / Math.PI))]);
  return g.op('Mul', [g.op('Mul', [x, g.op('Add', [g.op('Tanh', [inner]), g.float(1)])]), g.float(0.5)]);
};

const silu: Activation = (g, x) => g.op('Mul', [x, g.op('Sigmoid', [x])]);

/** Two-layer MLP with biases (SigLIP, Phi, BERT, the moondream projection). */
export function feedForward(
  g: OnnxGraph,
  x: string,
  names: { up: string; down: string },
  hidden: number,
  intermediate: number,
  activation: Activation
): string {
  const up = activation(g, linear(g, x, names.up, hidden, intermediate, true));
  return linear(g, up, names.down, intermediate, hidden, true);
}

/** Llama's gated MLP: down(silu(gate(x)) * up(x)). */
export function swiGlu(g: OnnxGraph, x: string, prefix: string, hidden: number, intermediate: number): string {
  const gate = silu(g, linear(g, x, `${prefix}.gate_proj`, hidden, intermediate, false));
  const up = linear(g, x, `${prefix}.up_proj`, hidden, intermediate, false);
  return linear(g, g.op('Mul', [gate, up]), `${prefix}.down_proj`, intermediate, hidden, false);
}

export interface Rotary {
  /** [batch, 1, seq, dim] */
  cos: string;
  sin: string;
  /** Leading head dimensions that rotate (Phi rotates only part of each head). */
  dim: number;
}

/** Rotary angles from `position_ids`, computed once and shared by every layer. */
export function rotaryEmbedding(g: OnnxGraph, positionIds: string, dim: number, theta: number): Rotary {
  const inverseFrequencies = Array.from({ length: dim / 2 }, (_, i) => 1 / theta ** ((2 * i) / dim));
  const positions = g.op('Unsqueeze', [g.op('Cast', [positionIds], { to: ONNX_TYPE.float32 }), g.ints([2])]);
  const frequencies = g.op('Mul', [positions, g.floats(inverseFrequencies)]);
  const angles = g.op('Unsqueeze', [g.op('Concat', [frequencies, frequencies], { axis: -1 }), g.ints([1])]);
  return { cos: g.op('Cos', [angles]), sin: g.op('Sin', [angles]), dim };
}

/** Rotates [batch, heads, seq, headDim] by the rotary angles ("rotate half" layout, as Llama and Phi). */
function applyRotary(g: OnnxGraph, x: string, rotary: Rotary, headDim: number): string {
  const { dim } = rotary;
  const [rotating, passing] = dim < headDim ? g.ops('Split', [x, g.ints([dim, headDim - dim])], 2, { axis: -1 }) : [x];
  const [first, second] = g.ops('Split', [rotating!, g.ints([dim / 2, dim / 2])], 2, { axis: -1 });
  const turned = g.op('Concat', [g.op('Neg', [second!]), first!], { axis: -1 });
  const rotated = g.op('Add', [g.op('Mul', [rotating!, rotary.cos]), g.op('Mul', [turned, rotary.sin])]);
  return passing ? g.op('Concat', [rotated, passing], { axis: -1 }) : rotated;
}

/** [batch, 1, 1, 1, keys] bool from a [batch, keys] 0/1 `attention_mask`. */
export function paddingMask(g: OnnxGraph, attentionMask: string): string {
  return g.op('Unsqueeze', [g.op('Cast', [attentionMask], { to: ONNX_TYPE.bool }), g.ints([1, 2, 3])]);
}

/**
 * [batch, 1, 1, queries, keys] bool: key j is visible from query i when j ≤ past + i and the
 * attention mask keeps j. `hidden` ([batch, queries, …]) gives the number of new positions.
 */
export function causalMask(g: OnnxGraph, attentionMask: string, hidden: string): string {
  const total = g.op('Gather', [g.op('Shape', [attentionMask]), g.int(1)]);
  const queries = g.op('Gather', [g.op('Shape', [hidden]), g.int(1)]);
  const keyPositions = g.op('Range', [g.int(0), total, g.int(1)]);
  const queryPositions = g.op('Range', [g.op('Sub', [total, queries]), total, g.int(1)]);
  const causal = g.op('LessOrEqual', [
    g.op('Unsqueeze', [keyPositions, g.ints([0])]),
    g.op('Unsqueeze', [queryPositions, g.ints([1])])
  ]);
  return g.op('And', [causal, paddingMask(g, attentionMask)]);
}

export interface AttentionShape {
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  bias: boolean;
}

/** Weight-name prefixes of the four projections. */
export interface AttentionNames {
  query: string;
  key: string;
  value: string;
  output: string;
}

export interface AttentionOptions {
  /** Bool, broadcastable to [batch, kvHeads, group, queries, keys]. */
  mask?: string;
  rotary?: Rotary;
  /** Cached [batch, kvHeads, past, headDim] keys/values to prepend. */
  past?: { key: string; value: string };
}

/**
 * Multi-head attention over [batch, seq, hidden] with grouped KV heads. Returns the projected
 * output and the full (past + new) keys/values, which a decoder exposes as `present.*`.
 */
export function attention(
  g: OnnxGraph,
  x: string,
  names: AttentionNames,
  shape: AttentionShape,
  options: AttentionOptions = {}
): { output: string; key: string; value: string } {
  const { hidden, heads, kvHeads, headDim, bias } = shape;
  const toHeads = (t: string, count: number) =>
    g.op('Transpose', [g.op('Reshape', [t, g.ints([0, 0, count, headDim])])], { perm: [0, 2, 1, 3] });
  let query = toHeads(linear(g, x, names.query, hidden, heads * headDim, bias), heads);
  let key = toHeads(linear(g, x, names.key, hidden, kvHeads * headDim, bias), kvHeads);
  let value = toHeads(linear(g, x, names.value, hidden, kvHeads * headDim, bias), kvHeads);
  if (options.rotary) {
    query = applyRotary(g, query, options.rotary, headDim);
    key = applyRotary(g, key, options.rotary, headDim);
  }
  if (options.past) {
    key = g.op('Concat', [options.past.key, key], { axis: 2 });
    value = g.op('Concat', [options.past.value, value], { axis: 2 });
  }
  // Grouped-query attention without repeating K/V: the queries of one KV head form a group
  // dimension that MatMul broadcasts the shared keys/values over.
  const scaled = g.op('Mul', [query, g.float(1 / Math.sqrt(headDim))]);
  const grouped = g.op('Reshape', [scaled, g.ints([0, kvHeads, heads / kvHeads, -1, headDim])]);
  const keysT = g.op('Unsqueeze', [g.op('Transpose', [key], { perm: [0, 1, 3, 2] }), g.ints([2])]);
  let scores = g.op('MatMul', [grouped, keysT]);
  if (options.mask) {
    scores = g.op('Where', [options.mask, scores, g.float(MASKED_SCORE)]);
  }
  const probabilities = g.op('Softmax', [scores], { axis: -1 });
  const context = g.op('MatMul', [probabilities, g.op('Unsqueeze', [value, g.ints([2])])]);
  const perHead = g.op('Reshape', [context, g.ints([0, heads, -1, headDim])]);
  const merged = g.op('Reshape', [
    g.op('Transpose', [perHead], { perm: [0, 2, 1, 3] }),
    g.ints([0, 0, heads * headDim])
  ]);
  return { output: linear(g, merged, names.output, heads * headDim, hidden, bias), key, value };
}
