import { HnswIndex } from './hnsw.ts';
import type { ScoredId } from './types.ts';
import { ANN_MIN_VECTORS } from './search-defaults.ts';
import { appendVectors, createVectorBlock, exactTopK, type VectorBlock } from './vector-store.ts';

export { ANN_MIN_VECTORS };

/** Beam width of graph search: the benchmark's recall@10 at 100k is 0.99 at 64 but 0.91 at 32. */
export const ANN_EF_SEARCH = 64;

/** Tombstones slow routing and still cost memory: past this share of deleted nodes, rebuild. */
const MAX_DELETED_SHARE = 0.25;

export function wantsGraph(vectorCount: number, annMinVectors = ANN_MIN_VECTORS): boolean {
  return vectorCount >= annMinVectors;
}

export interface GraphUpdate {
  index: HnswIndex;
  /** Vectors linked into the graph by this update. */
  added: number;
  /** Whether the saved graph was unusable or too stale, so the graph was built from scratch. */
  rebuilt: boolean;
}

/**
 * Brings a saved graph (or none) up to date with `block`: vectors the block no longer has are
 * hidden, new ones are linked in. Only the new vectors cost insertion time, unless so many nodes
 * were deleted (or the saved graph does not fit the block) that a fresh build is better.
 */
export function updateGraph(
  block: VectorBlock,
  saved: ArrayBuffer | undefined,
  onProgress: (done: number, total: number) => void = () => undefined
): GraphUpdate {
  let index = saved ? restoreGraph(saved, block) : null;
  const rebuilt = !index || index.deletedCount > MAX_DELETED_SHARE * (index.size + index.deletedCount);
  if (rebuilt) {
    index = new HnswIndex(block, { efSearch: ANN_EF_SEARCH });
  }
  const graph = index!;
  const missing: number[] = [];
  for (let row = 0; row < block.count; row += 1) {
    if (!graph.has(block.ids[row]!)) {
      missing.push(block.ids[row]!);
    }
  }
  const every = Math.max(1, Math.ceil(missing.length / 100));
  missing.forEach((id, i) => {
    if (i % every === 0) {
      onProgress(i, missing.length);
    }
    graph.add(id);
  });
  onProgress(missing.length, missing.length);
  return { index: graph, added: missing.length, rebuilt };
}

/** A saved graph over `block`, or null when it is corrupt or from another model's vectors. */
function restoreGraph(saved: ArrayBuffer, block: VectorBlock): HnswIndex | null {
  try {
    return HnswIndex.deserialize(saved, block);
  } catch {
    return null;
  }
}

/**
 * Top-k over a base's vectors: exact, or through a graph once one is attached. Vectors the graph
 * does not cover yet (imported while it was being updated) are scanned exactly and merged in, so
 * a fresh passage is findable at once and a search never waits for indexing.
 */
export class VectorSearch {
  readonly block: VectorBlock;
  #graph: HnswIndex | null = null;
  #tail: VectorBlock | null = null;

  constructor(block: VectorBlock) {
    this.block = block;
  }

  get graph(): HnswIndex | null {
    return this.#graph;
  }

  /** Vectors the attached graph does not cover (all of them without a graph). */
  get uncovered(): number {
    return this.#graph ? (this.#tail?.count ?? 0) : this.block.count;
  }

  /** Searches through the graph `saved` from now on; returns false (and stays exact) if it is unusable. */
  attachGraph(saved: ArrayBuffer): boolean {
    const graph = restoreGraph(saved, this.block);
    if (!graph) {
      return false;
    }
    graph.efSearch = ANN_EF_SEARCH;
    const { block } = this;
    let tail: VectorBlock | null = null;
    for (let row = 0; row < block.count; row += 1) {
      const id = block.ids[row]!;
      if (!graph.has(id)) {
        tail ??= createVectorBlock(block.dim);
        appendVectors(tail, [id], block.data.subarray(row * block.dim, (row + 1) * block.dim));
      }
    }
    this.#graph = graph;
    this.#tail = tail;
    return true;
  }

  topK(query: Float32Array, k: number): ScoredId[] {
    const graph = this.#graph;
    if (!graph) {
      return exactTopK(this.block, query, k);
    }
    const hits = graph.search(query, k);
    if (!this.#tail) {
      return hits;
    }
    return [...hits, ...exactTopK(this.#tail, query, k)].sort((a, b) => b.score - a.score || a.id - b.id).slice(0, k);
  }
}
