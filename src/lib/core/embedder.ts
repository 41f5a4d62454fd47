/**
 * Turns passages into vectors. The knowledge base and the task guide only need this contract, not
 * the worker behind it; vectors of two models are never mixed in one search.
 */
export interface Embedder {
  modelId: string;
  embed(texts: string[]): Promise<{ vectors: Float32Array; dim: number }>;
}
