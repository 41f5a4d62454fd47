import { attention, feedForward, geluTanh, layerNorm, WEIGHT_STD } from './layers.ts';
import type { OnnxGraph } from './onnx-graph.ts';

export interface VisionSpec {
  imageSize: number;
  patchSize: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  normEps: number;
}

/** Patches per image side. */
export function patchGrid(spec: VisionSpec): number {
  return spec.imageSize / spec.patchSize;
}

/**
 * SigLIP-style ViT (the vision tower of SmolVLM and moondream): Conv patch embedding, learned
 * position embeddings, pre-norm encoder layers, final LayerNorm.
 * [images, 3, S, S] → [images, (S/P)², hidden].
 */
export function visionTransformer(g: OnnxGraph, pixels: string, spec: VisionSpec, prefix: string): string {
  const { hidden, patchSize, normEps } = spec;
  const patches = g.op(
    'Conv',
    [
      pixels,
      g.weight(`${prefix}.embeddings.patch_embedding.weight`, [hidden, 3, patchSize, patchSize], { std: WEIGHT_STD }),
      g.weight(`${prefix}.embeddings.patch_embedding.bias`, [hidden], 'zeros')
    ],
    { kernel_shape: [patchSize, patchSize], strides: [patchSize, patchSize] }
  );
  const sequence = g.op('Transpose', [g.op('Reshape', [patches, g.ints([0, hidden, -1])])], { perm: [0, 2, 1] });
  const positions = g.weight(`${prefix}.embeddings.position_embedding.weight`, [patchGrid(spec) ** 2, hidden], {
    std: WEIGHT_STD
  });
  let x = g.op('Add', [sequence, positions]);
  const shape = { hidden, heads: spec.heads, kvHeads: spec.heads, headDim: hidden / spec.heads, bias: true };
  for (let i = 0; i < spec.layers; i += 1) {
    const layer = `${prefix}.encoder.layers.${i}`;
    const names = {
      query: `${layer}.self_attn.q_proj`,
      key: `${layer}.self_attn.k_proj`,
      value: `${layer}.self_attn.v_proj`,
      output: `${layer}.self_attn.out_proj`
    };
    x = g.op('Add', [x, attention(g, layerNorm(g, x, `${layer}.layer_norm1`, hidden, normEps), names, shape).output]);
    const mlpNames = { up: `${layer}.mlp.fc1`, down: `${layer}.mlp.fc2` };
    const normed = layerNorm(g, x, `${layer}.layer_norm2`, hidden, normEps);
    x = g.op('Add', [x, feedForward(g, normed, mlpNames, hidden, spec.intermediate, geluTanh)]);
  }
  return layerNorm(g, x, `${prefix}.post_layernorm`, hidden, normEps);
}
