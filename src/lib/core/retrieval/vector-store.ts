import { TopK } from './top-k.ts';
import type { ScoredId } from './types.ts';

/**
 * All vectors of one embedding model, packed row-major into one contiguous buffer.
 *
 * One buffer instead of one array per chunk is what makes exact search fast: the scan walks memory
 * linearly with no per-row indirection or bounds-check churn. `data` and `ids` have spare capacity
 * (appends double it), so only rows `[0, count)` are meaningful.
 */
export interface VectorBlock {
  readonly dim: number;
  /** Rows in use. */
  count: number;
  /** `capacity * dim` floats; row `r` is `data[r * dim .. (r + 1) * dim)`. */
  data: Float32Array;
  /** Caller id of each row (e.g. the chunk's primary key). */
  ids: Int32Array;
  /**
   * Bumped whenever rows move (removal swaps the last row into the hole), so an index that caches
   * row numbers (the HNSW graph) knows to re-resolve them. Appends never move rows.
   */
  generation: number;
}

/** An empty block; `capacity` (rows) only pre-sizes the buffers. */
export function createVectorBlock(dim: number, capacity = 0): VectorBlock {
  if (!Number.isInteger(dim) || dim <= 0) {
    throw new RangeError(`dim must be a positive integer, got ${dim}`);
  }
  return { dim, count: 0, data: new Float32Array(capacity * dim), ids: new Int32Array(capacity), generation: 0 };
}

/**
 * A block over persisted arrays (e.g. read back from IndexedDB): `data` holds `ids.length` rows.
 * The arrays are adopted, not copied.
 */
export function vectorBlockFrom(dim: number, ids: Int32Array, data: Float32Array): VectorBlock {
  if (data.length !== ids.length * dim) {
    throw new RangeError(`expected ${ids.length * dim} floats for ${ids.length} rows of ${dim}, got ${data.length}`);
  }
  return { dim, count: ids.length, data, ids, generation: 0 };
}

/** Grows the buffers to hold at least `rows` rows, doubling so a stream of appends stays amortized O(1). */
export function reserveRows(block: VectorBlock, rows: number): void {
  if (rows <= block.ids.length) {
    return;
  }
  const capacity = Math.max(rows, block.ids.length * 2, 64);
  const data = new Float32Array(capacity * block.dim);
  data.set(block.data.subarray(0, block.count * block.dim));
  const ids = new Int32Array(capacity);
  ids.set(block.ids.subarray(0, block.count));
  block.data = data;
  block.ids = ids;
}

/**
 * Appends `ids.length` rows; `vectors` is them flattened (the layout an embedder's batch output
 * already has). Ids are not checked for duplicates: the caller's store owns id uniqueness.
 */
export function appendVectors(block: VectorBlock, ids: ArrayLike<number>, vectors: ArrayLike<number>): void {
  const { dim } = block;
  if (vectors.length !== ids.length * dim) {
    throw new RangeError(`expected ${ids.length * dim} floats for ${ids.length} vectors of ${dim}`);
  }
  reserveRows(block, block.count + ids.length);
  block.data.set(vectors, block.count * dim);
  block.ids.set(ids, block.count);
  block.count += ids.length;
}

/**
 * Removes every row whose id is in `ids` by moving the last row into its place: O(count) for the
 * whole batch, and the block stays dense so the scan never skips holes. Row order is not kept.
 * Returns how many rows were removed.
 */
export function removeVectors(block: VectorBlock, ids: Iterable<number>): number {
  const doomed = new Set(ids);
  if (doomed.size === 0) {
    return 0;
  }
  const { dim, data } = block;
  const before = block.count;
  let count = before;
  let row = 0;
  while (row < count) {
    if (doomed.has(block.ids[row]!)) {
      count -= 1;
      if (row !== count) {
        data.copyWithin(row * dim, count * dim, (count + 1) * dim);
        block.ids[row] = block.ids[count]!;
      }
      // Stay on this row: the one just moved in may be doomed too.
    } else {
      row += 1;
    }
  }
  block.count = count;
  if (count !== before) {
    block.generation += 1;
  }
  return before - count;
}

/** Row of `id`, or -1. A linear scan: fine for occasional look-ups, not for inner loops. */
export function rowOf(block: VectorBlock, id: number): number {
  return block.ids.subarray(0, block.count).indexOf(id);
}

/** A view (not a copy) of the vector stored for `id`. */
export function vectorOf(block: VectorBlock, id: number): Float32Array | undefined {
  const row = rowOf(block, id);
  return row < 0 ? undefined : block.data.subarray(row * block.dim, (row + 1) * block.dim);
}

/**
 * Dot product of `dim` floats at `a[ao..]` and `b[bo..]`. Four accumulators break the add
 * dependency chain so the CPU can overlap the multiplies; for normalized vectors this is the cosine.
 */
export function dotAt(a: Float32Array, ao: number, b: Float32Array, bo: number, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const end4 = dim - (dim % 4);
  let i = 0;
  for (; i < end4; i += 4) {
    s0 += a[ao + i]! * b[bo + i]!;
    s1 += a[ao + i + 1]! * b[bo + i + 1]!;
    s2 += a[ao + i + 2]! * b[bo + i + 2]!;
    s3 += a[ao + i + 3]! * b[bo + i + 3]!;
  }
  for (; i < dim; i += 1) {
    s0 += a[ao + i]! * b[bo + i]!;
  }
  return s0 + s1 + s2 + s3;
}

/** Dot product of two equal-length vectors. */
export function dot(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) {
    throw new RangeError(`vector lengths differ: ${a.length} vs ${b.length}`);
  }
  return dotAt(a, 0, b, 0, a.length);
}

/** Cosine similarity; 0 when either vector is all zeros (rather than NaN). */
export function cosine(a: Float32Array, b: Float32Array): number {
  const denominator = Math.sqrt(dot(a, a) * dot(b, b));
  return denominator === 0 ? 0 : dot(a, b) / denominator;
}

/** Scales `v` to unit length in place and returns it; an all-zero vector is left as is. */
export function normalize(v: Float32Array): Float32Array {
  const norm = Math.sqrt(dotAt(v, 0, v, 0, v.length));
  if (norm > 0) {
    for (let i = 0; i < v.length; i += 1) {
      v[i] = v[i]! / norm;
    }
  }
  return v;
}

/**
 * The `k` rows with the highest dot product with `query` (the cosine, for normalized vectors),
 * best first; ties go to the smaller id. Rows scoring below `minScore`, or rejected by `filter`,
 * are left out, so fewer than `k` may come back.
 *
 * Why it is written this way: the scan is the whole cost (100k × 384 multiply-adds), so the dot
 * product is inlined into one loop over the contiguous buffer, and only rows beating the current
 * k-th best touch the bounded heap (O(k log(n/k)) of them for random order), so no sort of all n.
 */
export function exactTopK(
  block: VectorBlock,
  query: Float32Array,
  k: number,
  minScore = -Infinity,
  filter?: (id: number) => boolean
): ScoredId[] {
  const { dim, count, data, ids } = block;
  if (query.length !== dim) {
    throw new RangeError(`query has ${query.length} dims, block has ${dim}`);
  }
  if (k <= 0 || count === 0) {
    return [];
  }
  const top = new TopK(Math.min(k, count));
  const end4 = dim - (dim % 4);
  // Rows below minScore never qualify, so it doubles as the heap's entry bar until the heap fills.
  let bar = minScore;
  for (let row = 0, off = 0; row < count; row += 1, off += dim) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let i = 0;
    for (; i < end4; i += 4) {
      s0 += query[i]! * data[off + i]!;
      s1 += query[i + 1]! * data[off + i + 1]!;
      s2 += query[i + 2]! * data[off + i + 2]!;
      s3 += query[i + 3]! * data[off + i + 3]!;
    }
    for (; i < dim; i += 1) {
      s0 += query[i]! * data[off + i]!;
    }
    const score = s0 + s1 + s2 + s3;
    // `>=` so an equal score can still win on the smaller-id tie-break inside the heap.
    if (score >= bar) {
      const id = ids[row]!;
      if ((filter === undefined || filter(id)) && top.push(id, score)) {
        bar = Math.max(minScore, top.floor);
      }
    }
  }
  return top.drain();
}

/**
 * Scores of `query` against the given ids only, in one pass over the block: how fusion gets the
 * cosine of a keyword hit that the vector search did not return. Ids not in the block are absent.
 */
export function scoreIds(block: VectorBlock, query: Float32Array, ids: Iterable<number>): Map<number, number> {
  const { dim } = block;
  if (query.length !== dim) {
    throw new RangeError(`query has ${query.length} dims, block has ${dim}`);
  }
  const wanted = new Set(ids);
  const scores = new Map<number, number>();
  for (let row = 0; row < block.count && scores.size < wanted.size; row += 1) {
    const id = block.ids[row]!;
    if (wanted.has(id)) {
      scores.set(id, dotAt(query, 0, block.data, row * dim, dim));
    }
  }
  return scores;
}
