import { appendVectors, createVectorBlock, type VectorBlock } from '#lib/core/retrieval/index.ts';
import type { VisionHubDb } from './index.ts';

/**
 * Every vector of a base for one embedding model, packed into one block (one IndexedDB row per
 * document). Shared by the page's search and the worker that indexes large bases.
 */
export async function readVectorBlock(db: VisionHubDb, baseId: number, modelId: string): Promise<VectorBlock> {
  const rows = await db.vectors.where('[baseId+modelId]').equals([baseId, modelId]).toArray();
  const block = createVectorBlock(
    rows[0]?.dim ?? 1,
    rows.reduce((n, row) => n + row.chunkIds.length, 0)
  );
  for (const row of rows) {
    appendVectors(block, row.chunkIds, row.data);
  }
  return block;
}
