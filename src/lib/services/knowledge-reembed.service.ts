import type { Embedder } from '#lib/core/embedder.ts';
import { db } from '#lib/db/index.ts';
import { embedPassages, listDocuments } from './knowledge-documents.service.ts';
import { refreshSearchAfterChange, type GraphOptions } from './search-graph-upkeep.service.ts';

/**
 * Embeds, with `embedder`'s model, every document of the base that has no vectors from it yet
 * (the user changed the embedding model). One document at a time, so an interruption keeps what
 * was done; searches meanwhile use only documents that have this model's vectors, never a mix.
 * Returns how many documents were embedded.
 */
export async function reembedMissing(
  baseId: number,
  embedder: Embedder,
  options: GraphOptions & { onProgress?: (progress: { done: number; total: number }) => void; signal?: AbortSignal }
): Promise<number> {
  const { onProgress = () => undefined, signal } = options;
  const documents = await listDocuments(baseId);
  const done = new Set(
    (await db.vectors.where('[baseId+modelId]').equals([baseId, embedder.modelId]).toArray()).map((v) => v.documentId)
  );
  const missing = documents.filter((d) => !done.has(d.id!));
  for (const [i, document] of missing.entries()) {
    onProgress({ done: i, total: missing.length });
    const chunks = await db.chunks.where('documentId').equals(document.id!).sortBy('index');
    const { vectors, dim } = await embedPassages(chunks, embedder, () => undefined, signal);
    await db.transaction('rw', [db.documents, db.vectors], async () => {
      // Deleted while it was being embedded: nothing to keep.
      if (await db.documents.get(document.id!)) {
        const chunkIds = chunks.map((c) => c.id!);
        await db.vectors.put({
          documentId: document.id!,
          baseId,
          modelId: embedder.modelId,
          dim,
          chunkIds,
          data: vectors
        });
      }
    });
    refreshSearchAfterChange(baseId, [embedder.modelId], options);
  }
  onProgress({ done: missing.length, total: missing.length });
  return missing.length;
}
