import type { Bm25Index, VectorSearch } from '#lib/core/retrieval/index.ts';

export interface SearchIndex {
  /** Exact below the graph threshold, through the base's persisted graph from there on. */
  vectors: VectorSearch;
  bm25: Bm25Index;
}

/** Per base and model, built from IndexedDB on first search and dropped when the base changes. */
const indexes = new Map<string, Promise<SearchIndex>>();

/** One key per base and embedding model: the unit that is cached, and whose graph is updated. */
export const indexKey = (baseId: number, modelId: string) => `${baseId}:${modelId}`;

/** The cached index of a base for one model, loaded with `load` on first use (a failed load is not kept). */
export function cachedSearchIndex(
  baseId: number,
  modelId: string,
  load: () => Promise<SearchIndex>
): Promise<SearchIndex> {
  const key = indexKey(baseId, modelId);
  let index = indexes.get(key);
  if (!index) {
    index = load();
    index.catch(() => indexes.delete(key));
    indexes.set(key, index);
  }
  return index;
}

/** The index already open for a base and model, if a search opened one; never loads. */
export function openedSearchIndex(baseId: number, modelId: string): Promise<SearchIndex> | undefined {
  return indexes.get(indexKey(baseId, modelId));
}

/** Drops every model's cached index of a base, so the next search reads its documents afresh. */
export function forgetSearchIndexes(baseId: number): void {
  for (const key of indexes.keys()) {
    if (key.startsWith(`${baseId}:`)) {
      indexes.delete(key);
    }
  }
}
