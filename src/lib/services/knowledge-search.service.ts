import type { Embedder } from '#lib/core/embedder.ts';
import { sourceLabel, type Passage } from '#lib/core/grounded-answer.ts';
import {
  Bm25Index,
  DEFAULT_MIN_COSINE,
  fuseResults,
  scoreIds,
  VectorSearch,
  wantsGraph
} from '#lib/core/retrieval/index.ts';
import { db, type KnowledgeChunk, type KnowledgeDocument } from '#lib/db/index.ts';
import { readVectorBlock } from '#lib/db/vector-block.ts';
import { listBases } from './knowledge-documents.service.ts';
import { cachedSearchIndex, type SearchIndex } from './search-index-cache.ts';
import { updateSearchGraph, type GraphOptions } from './search-graph-upkeep.service.ts';

export interface SearchHit {
  chunk: KnowledgeChunk;
  document: KnowledgeDocument;
  /**
   * What the hits are ordered by: the fused rank score (reciprocal rank fusion of vector and
   * keyword ranks) on a 0–1 scale, 1 for a passage first by meaning and by keywords.
   */
  relevance: number;
  /** Cosine similarity to the question: what the relevance threshold applies to. */
  cosine: number;
}

/** How a search goes: `k` hits at most, from cosine `minCosine` on, with the app's graph threshold. */
export interface SearchOptions extends GraphOptions {
  k?: number;
  minCosine?: number;
}

/**
 * Passages of base `baseId` relevant to `question`: exact cosine top-k fused with BM25 keyword
 * ranks, keeping only passages whose cosine reaches `minCosine` — an empty result means "no
 * relevant passage", never a guess.
 */
export async function search(
  baseId: number,
  question: string,
  embedder: Embedder,
  options: SearchOptions
): Promise<SearchHit[]> {
  const k = options.k ?? 5;
  const index = await openSearchIndex(baseId, embedder.modelId, options);
  const { block } = index.vectors;
  if (block.count === 0) {
    return [];
  }
  const { vectors: query } = await embedder.embed([question]);
  const vectorHits = index.vectors.topK(query, k * 4);
  const keywordHits = index.bm25.search(question, k * 4);
  const cosines = scoreIds(
    block,
    query,
    keywordHits.map((hit) => hit.id)
  );
  const fused = fuseResults(vectorHits, keywordHits, {
    k,
    minCosine: options.minCosine ?? DEFAULT_MIN_COSINE,
    cosineOf: (id) => cosines.get(id)
  });
  const chunks = await db.chunks.bulkGet(fused.map((hit) => hit.id));
  const documents = new Map(
    (await db.documents.bulkGet([...new Set(chunks.map((c) => c?.documentId ?? -1))])).flatMap((d) =>
      d ? [[d.id!, d] as const] : []
    )
  );
  return fused.flatMap((hit, i) => {
    const chunk = chunks[i];
    const document = chunk && documents.get(chunk.documentId);
    return chunk && document ? [{ chunk, document, relevance: hit.relevance, cosine: hit.cosine }] : [];
  });
}

/** A hit as a model reads it, named as its citation shows it. */
export function passageOf(hit: SearchHit): Passage {
  return { source: sourceLabel(hit.document.name, hit.chunk.headingPath, hit.chunk.page), text: hit.chunk.text };
}

/**
 * The best passages for `question` across every knowledge base (for questions asked outside the
 * Knowledge page, such as the task guide's): each base is searched, and the hits merged by
 * relevance, the order each base's own results have.
 */
export async function searchAllBases(
  question: string,
  embedder: Embedder,
  options: SearchOptions
): Promise<SearchHit[]> {
  const k = options.k ?? 3;
  const perBase = await Promise.all(
    (await listBases()).map((base) => search(base.id!, question, embedder, { ...options, k }))
  );
  return perBase
    .flat()
    .sort((a, b) => b.relevance - a.relevance || b.cosine - a.cosine)
    .slice(0, k);
}

/**
 * The in-memory search structures of a base for one embedding model, read from IndexedDB once.
 * From `annMinVectors` vectors on (the app's setting), the base is searched through its saved graph.
 */
export function openSearchIndex(
  baseId: number,
  modelId: string,
  { annMinVectors }: GraphOptions
): Promise<SearchIndex> {
  return cachedSearchIndex(baseId, modelId, annMinVectors, () => loadIndex(baseId, modelId, annMinVectors));
}

async function loadIndex(baseId: number, modelId: string, annMinVectors: number): Promise<SearchIndex> {
  const vectors = new VectorSearch(await readVectorBlock(db, baseId, modelId));
  const bm25 = new Bm25Index();
  await db.chunks
    .where('baseId')
    .equals(baseId)
    .each((chunk) => bm25.add(chunk.id!, chunk.text));
  if (wantsGraph(vectors.block.count, annMinVectors)) {
    const saved = await db.searchGraphs.get([baseId, modelId]);
    if (!saved || !vectors.attachGraph(saved.graph) || vectors.uncovered > 0) {
      // Searches stay correct meanwhile: what the graph does not cover is scanned exactly.
      void updateSearchGraph(baseId, modelId, { annMinVectors }).catch(() => undefined);
    }
  }
  return { vectors, bm25 };
}
