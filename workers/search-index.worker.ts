import { expose } from 'comlink';
import { updateGraph, wantsGraph } from '#lib/core/retrieval/index.ts';
import { db } from '#lib/db/index.ts';
import { readVectorBlock } from '#lib/db/vector-block.ts';

export interface GraphReport {
  /** Vectors the graph covers now. */
  size: number;
  added: number;
  rebuilt: boolean;
  ms: number;
}

const api = {
  /**
   * Brings the persisted search graph of a base up to date with its vectors in IndexedDB, off the
   * page's thread: only vectors imported since the last update are linked in. Returns null (and
   * drops any saved graph) when the base is too small to need one.
   */
  async update(
    baseId: number,
    modelId: string,
    annMinVectors: number,
    onProgress: (done: number, total: number) => void
  ): Promise<GraphReport | null> {
    const started = performance.now();
    const key: [number, string] = [baseId, modelId];
    const [block, saved] = await Promise.all([readVectorBlock(db, baseId, modelId), db.searchGraphs.get(key)]);
    if (!wantsGraph(block.count, annMinVectors)) {
      await db.searchGraphs.delete(key);
      return null;
    }
    const { index, added, rebuilt } = updateGraph(block, saved?.graph, onProgress);
    const graph = index.serialize();
    await db.searchGraphs.put({
      baseId,
      modelId,
      graph,
      nodes: index.size + index.deletedCount,
      updatedAt: Date.now()
    });
    return { size: index.size, added, rebuilt, ms: performance.now() - started };
  }
};

export type SearchIndexWorkerApi = typeof api;
expose(api);
