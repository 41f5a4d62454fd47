/**
 * On-device retrieval core: chunking, exact and approximate vector search, BM25 keyword search and
 * hybrid fusion. Pure logic with no DOM or storage, so it runs in the page, in workers and in Node.
 */
export { Bm25Index, type Bm25Json, type Bm25Options } from './bm25.ts';
export { chunkDocument, type Chunk, type ChunkOptions, type DocumentKind, type PageSpan } from './chunking.ts';
export { DEFAULT_MIN_COSINE, DEFAULT_RRF_K, fuseResults, type FusedHit, type FusionOptions } from './fusion.ts';
export { HnswIndex, type HnswOptions } from './hnsw.ts';
export { STOPWORDS, tokenize } from './tokenize.ts';
export type { ScoredId } from './types.ts';
export {
  appendVectors,
  cosine,
  createVectorBlock,
  dot,
  exactTopK,
  normalize,
  removeVectors,
  reserveRows,
  rowOf,
  scoreIds,
  vectorBlockFrom,
  vectorOf,
  type VectorBlock
} from './vector-store.ts';
export {
  ANN_EF_SEARCH,
  ANN_MIN_VECTORS,
  updateGraph,
  VectorSearch,
  wantsGraph,
  type GraphUpdate
} from './vector-search.ts';
