import { ANN_MIN_VECTORS, wantsGraph } from '#lib/core/retrieval/index.ts';
import { db } from '#lib/db/index.ts';
import { updateSearchGraphInWorker, type GraphReport } from '#lib/workers/search-index-runner.ts';
import { appEvents } from './app-events.ts';
import { forgetSearchIndexes, indexKey, openedSearchIndex } from './search-index-cache.ts';

/** Per base and model: the last update started or queued, and the one not started yet (if any). */
const graphUpdates = new Map<string, { tail: Promise<unknown>; queued: Promise<GraphReport | null> | null }>();

/**
 * A base's documents changed: drops its cached search indexes, and brings the search graphs of
 * `modelIds` up to date in the background when the base is large enough to have one (or had one).
 */
export function refreshSearchAfterChange(baseId: number, modelIds: string[]): void {
  forgetSearchIndexes(baseId);
  void graphPlan(baseId).then((plan) => {
    for (const modelId of modelIds) {
      if (plan.graph || plan.saved.has(modelId)) {
        void updateSearchGraph(baseId, modelId).catch(() => undefined);
      }
    }
  });
}

/** Whether the base is large enough for a graph (by passage count), and which models have one saved. */
async function graphPlan(baseId: number): Promise<{ graph: boolean; saved: Set<string> }> {
  let passages = 0;
  await db.documents
    .where('baseId')
    .equals(baseId)
    .each((document) => (passages += document.chunkCount));
  const saved = await db.searchGraphs.where('[baseId+modelId]').between([baseId, ''], [baseId, '\uffff']).primaryKeys();
  return { graph: wantsGraph(passages, ANN_MIN_VECTORS), saved: new Set(saved.map(([, modelId]) => modelId)) };
}

/**
 * Brings the persisted search graph of a base up to date in a worker (only new vectors are
 * linked in), then lets open searches use it. Updates of one base run one at a time; calls made
 * while one runs share a single follow-up, which sees every change made until it starts.
 * `annMinVectors`: from how many vectors a base keeps a graph (below it, the saved one is dropped).
 */
export function updateSearchGraph(
  baseId: number,
  modelId: string,
  annMinVectors = ANN_MIN_VECTORS
): Promise<GraphReport | null> {
  const key = indexKey(baseId, modelId);
  const slot = graphUpdates.get(key) ?? { tail: Promise.resolve(), queued: null };
  if (slot.queued) {
    return slot.queued;
  }
  const run = slot.tail
    .catch(() => undefined)
    .then(() => {
      slot.queued = null;
      return runGraphUpdate(baseId, modelId, annMinVectors);
    });
  slot.queued = run;
  slot.tail = run;
  graphUpdates.set(key, slot);
  run.finally(() => slot.tail === run && graphUpdates.delete(key)).catch(() => undefined);
  return run;
}

async function runGraphUpdate(baseId: number, modelId: string, annMinVectors: number): Promise<GraphReport | null> {
  try {
    const result = await updateSearchGraphInWorker(baseId, modelId, annMinVectors, (done, total) =>
      appEvents.emit('knowledge:graph', { baseId, modelId, progress: { done, total } })
    );
    await adoptGraph(baseId, modelId);
    appEvents.emit('knowledge:graph', { baseId, modelId, progress: null });
    return result;
  } catch (error) {
    appEvents.emit('knowledge:graph', {
      baseId,
      modelId,
      progress: null,
      error: error instanceof Error ? error.message : String(error)
    });
    throw error;
  }
}

/** Points an already open search index at the freshly saved graph. */
async function adoptGraph(baseId: number, modelId: string): Promise<void> {
  const open = openedSearchIndex(baseId, modelId);
  const saved = await db.searchGraphs.get([baseId, modelId]);
  if (open && saved) {
    (await open).vectors.attachGraph(saved.graph);
  }
}
