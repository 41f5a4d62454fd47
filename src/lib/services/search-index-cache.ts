import type { Bm25Index, VectorSearch } from '#lib/core/retrieval/index.ts';

export interface SearchIndex {
  /** Exact below the graph threshold, through the base's persisted graph from there on. */
  vectors: VectorSearch;
  bm25: Bm25Index;
}

/**
 * Per base and model, built from IndexedDB on first search and dropped when the base changes;
 * with the graph threshold it was opened with (another threshold opens it afresh).
 */
const indexes = new Map<string, { annMinVectors: number; index: Promise<SearchIndex> }>();

/** One key per base and embedding model: the unit that is cached, and whose graph is updated. */
export const indexKey = (baseId: number, modelId: string) => `${baseId}:${modelId}`;

/**
 * The cached index of a base for one model, loaded with `load` on first use or when it was opened
 * with another `annMinVectors` (a failed load is not kept).
 */
export function cachedSearchIndex(
  baseId: number,
  modelId: string,
  annMinVectors: number,
  load: () => Promise<SearchIndex>
): Promise<SearchIndex> {
  const key = indexKey(baseId, modelId);
  const cached = indexes.get(key);
  if (cached?.annMinVectors === annMinVectors) {
    return cached.index;
  }
  const index = load();
  index.catch(() => indexes.get(key)?.index === index && indexes.delete(key));
  indexes.set(key, { annMinVectors, index });
  return index;
}

/** The index already open for a base and model, if a search opened one; never loads. */
export function openedSearchIndex(baseId: number, modelId: string): Promise<SearchIndex> | undefined {
  return indexes.get(indexKey(baseId, modelId))?.index;
}

/** Drops every model's cached index of a base, so the next search reads its documents afresh. */
export function forgetSearchIndexes(baseId: number): void {
  for (const key of indexes.keys()) {
    if (key.startsWith(`${baseId}:`)) {
      indexes.delete(key);
    }
  }
}
