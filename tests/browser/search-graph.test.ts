import { beforeEach, describe, expect, it, vi } from 'vitest';
import { WorkerCrashError } from '#lib/core/errors.ts';
import { exactTopK } from '#lib/core/retrieval/index.ts';
import { db } from '#lib/db/index.ts';
import { appEvents, type AppEvents } from '#lib/services/app-events.ts';
import { createBase, deleteDocument } from '#lib/services/knowledge-documents.service.ts';
import { openSearchIndex } from '#lib/services/knowledge-search.service.ts';
import { updateSearchGraph } from '#lib/services/search-graph-upkeep.service.ts';
import { updateSearchGraphInWorker } from '#lib/workers/search-index-runner.ts';
import { clusteredUnitVectors } from '../unit/fixtures/retrieval-random.ts';

const DIM = 384;
const MODEL = 'test/synthetic-384';
const PER_DOCUMENT = 500;
/** From how many vectors these bases get a graph (the app's setting defaults far above them). */
const ANN_MIN = 1_000;
/** What the stores pass down from `settings.annMinVectors`: here, the small threshold. */
const graph = { annMinVectors: ANN_MIN };
const all = clusteredUnitVectors(3_000, DIM, 40, 31, 0.06);
const vector = (i: number) => all.slice(i * DIM, (i + 1) * DIM);
/** Chunk id of fixture vector `i` (ids from the fixture, not from IndexedDB: no passages are stored). */
const idOf = (i: number) => i + 1;

let baseId = 0;

/** Resolves when the next update of the base's graph has finished (as the background ones report it). */
function nextGraphUpdate(): Promise<void> {
  return new Promise((resolve) => {
    const stop = appEvents.on('knowledge:graph', (event) => {
      if (event.baseId === baseId && event.progress === null) {
        stop();
        resolve();
      }
    });
  });
}

/** Stores fixture vectors `from..to` as one document's vectors, the way an import leaves them. */
async function addDocument(from: number, to: number): Promise<number> {
  return db.transaction('rw', [db.documents, db.vectors], async () => {
    const documentId = (await db.documents.add({
      baseId,
      name: `doc ${from}`,
      format: 'text',
      contentHash: `hash ${from}`,
      bytes: 1,
      chunkCount: to - from,
      createdAt: Date.now()
    })) as number;
    await db.vectors.add({
      documentId,
      baseId,
      modelId: MODEL,
      dim: DIM,
      chunkIds: Array.from({ length: to - from }, (_, i) => idOf(from + i)),
      data: all.slice(from * DIM, to * DIM)
    });
    return documentId;
  });
}

beforeEach(async () => {
  await Promise.all(
    [db.knowledgeBases, db.documents, db.chunks, db.vectors, db.searchGraphs].map((table) => table.clear())
  );
  baseId = await createBase('Large');
});

describe('search graph of a large base', { timeout: 120_000 }, () => {
  it('is built in a worker, persisted, updated incrementally and used by search', async () => {
    for (let from = 0; from < 2_000; from += PER_DOCUMENT) {
      await addDocument(from, from + PER_DOCUMENT);
    }
    const activity: AppEvents['knowledge:graph'][] = [];
    const stop = appEvents.on('knowledge:graph', (event) => activity.push(event));
    const built = await updateSearchGraph(baseId, MODEL, graph);
    stop();
    expect(built).toMatchObject({ size: 2_000, added: 2_000, rebuilt: true });
    expect(activity.some((event) => event.progress && event.progress.done < event.progress.total)).toBe(true);
    expect(activity.at(-1)).toEqual({ baseId, modelId: MODEL, progress: null });
    expect(await db.searchGraphs.get([baseId, MODEL])).toMatchObject({ nodes: 2_000 });

    // A new document: only its vectors are linked in.
    await addDocument(2_000, 2_400);
    expect(await updateSearchGraph(baseId, MODEL, graph)).toMatchObject({ size: 2_400, added: 400, rebuilt: false });

    const { vectors } = await openSearchIndex(baseId, MODEL, graph);
    expect(vectors.graph).not.toBeNull();
    expect(vectors.uncovered).toBe(0);
    let found = 0;
    for (let q = 2_900; q < 2_950; q += 1) {
      const truth = new Set(exactTopK(vectors.block, vector(q), 10).map((hit) => hit.id));
      found += vectors.topK(vector(q), 10).filter((hit) => truth.has(hit.id)).length;
    }
    expect(found / 500).toBeGreaterThanOrEqual(0.95);
  });

  it('updates itself after an import or a delete, and never returns what was deleted', async () => {
    const first = await addDocument(0, 1_200);
    await updateSearchGraph(baseId, MODEL, graph);
    // Vectors stored after the graph: search covers them at once (scanned exactly), and
    // opening the index queues the update that links them in.
    await addDocument(1_200, 1_500);
    const opened = await openSearchIndex(baseId, MODEL, graph);
    expect(opened.vectors.uncovered).toBe(300);
    expect(opened.vectors.topK(vector(1_400), 1)[0]).toMatchObject({ id: idOf(1_400) });
    await updateSearchGraph(baseId, MODEL, graph);
    expect(opened.vectors.uncovered).toBe(0);

    // Deleting leaves 1,500 vectors: still at or above the threshold the delete was given (far
    // below the app's default), so the graph is kept, its deleted nodes hidden, not dropped.
    const extra = await addDocument(1_500, 1_800);
    await updateSearchGraph(baseId, MODEL, graph);
    let updated = nextGraphUpdate();
    await deleteDocument(extra, graph);
    await updated;
    expect(await db.searchGraphs.get([baseId, MODEL])).toMatchObject({ nodes: 1_800 });
    const kept = await openSearchIndex(baseId, MODEL, graph);
    expect(kept.vectors.graph).not.toBeNull();
    expect(kept.vectors.uncovered).toBe(0);
    expect(kept.vectors.block.count).toBe(1_500);
    expect(kept.vectors.topK(vector(1_650), 10).every((hit) => hit.id <= idOf(1_499))).toBe(true);

    // Deleting leaves 300 vectors: below the threshold, so the saved graph goes too.
    updated = nextGraphUpdate();
    await deleteDocument(first, graph);
    const { vectors } = await openSearchIndex(baseId, MODEL, graph);
    expect(vectors.block.count).toBe(300);
    expect(vectors.graph).toBeNull();
    expect(vectors.topK(vector(5), 10).every((hit) => hit.id > idOf(1_199))).toBe(true);
    await updated;
    await vi.waitUntil(async () => (await db.searchGraphs.count()) === 0, { timeout: 30_000 });
  });

  it('shares a queued update only between calls with the same threshold', async () => {
    await addDocument(0, 1_000);
    const running = updateSearchGraph(baseId, MODEL, graph);
    await new Promise((resolve) => setTimeout(resolve, 0)); // it has started: later calls queue behind it
    const queued = updateSearchGraph(baseId, MODEL, graph);
    expect(updateSearchGraph(baseId, MODEL, graph)).toBe(queued);
    // The setting changed meanwhile: the base is now below the threshold, and its graph goes.
    const raised = updateSearchGraph(baseId, MODEL, { annMinVectors: 2_000 });
    expect(raised).not.toBe(queued);
    expect(await running).toMatchObject({ size: 1_000, rebuilt: true });
    expect(await queued).toMatchObject({ size: 1_000, added: 0 });
    expect(await raised).toBeNull();
    expect(await db.searchGraphs.count()).toBe(0);
  });

  it('a crashed indexing worker is an error, not a hang', async () => {
    const crashing = () =>
      new Worker(URL.createObjectURL(new Blob(['throw new Error("out of memory")'], { type: 'text/javascript' })));
    await expect(updateSearchGraphInWorker(baseId, MODEL, 1, () => undefined, crashing)).rejects.toThrow(
      WorkerCrashError
    );
  });
});
