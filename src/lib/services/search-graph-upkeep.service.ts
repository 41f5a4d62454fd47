import { wantsGraph } from '#lib/core/retrieval/index.ts';
import { db } from '#lib/db/index.ts';
import { updateSearchGraphInWorker, type GraphReport } from '#lib/workers/search-index-runner.ts';
import { appEvents } from './app-events.ts';
import { forgetSearchIndexes, indexKey, openedSearchIndex } from './search-index-cache.ts';

/**
 * How every path that opens a search index or updates a search graph is told the graph threshold:
 * the app's `annMinVectors` setting, passed down explicitly (no default anywhere below the store).
 */
export interface GraphOptions {
  /** From how many vectors a base is searched through its saved graph (below it, none is kept). */
  annMinVectors: number;
}

interface QueuedUpdate {
  annMinVectors: number;
  run: Promise<GraphReport | null>;
}

/** Per base and model: the last update started or queued, and the one not started yet (if any). */
const graphUpdates = new Map<string, { tail: Promise<unknown>; queued: QueuedUpdate | null }>();

/**
 * A base's documents changed: drops its cached search indexes, and brings the search graphs of
 * `modelIds` up to date in the background when the base is large enough to have one (or had one).
 */
export function refreshSearchAfterChange(baseId: number, modelIds: string[], options: GraphOptions): void {
  forgetSearchIndexes(baseId);
  void graphPlan(baseId, options.annMinVectors).then((plan) => {
    for (const modelId of modelIds) {
      if (plan.graph || plan.saved.has(modelId)) {
        void updateSearchGraph(baseId, modelId, options).catch(() => undefined);
      }
    }
  });
}

/** Whether the base is large enough for a graph (by passage count), and which models have one saved. */
async function graphPlan(baseId: number, annMinVectors: number): Promise<{ graph: boolean; saved: Set<string> }> {
  let passages = 0;
  await db.documents
    .where('baseId')
    .equals(baseId)
    .each((document) => (passages += document.chunkCount));
  const saved = await db.searchGraphs.where('[baseId+modelId]').between([baseId, ''], [baseId, '\uffff']).primaryKeys();
  return { graph: wantsGraph(passages, annMinVectors), saved: new Set(saved.map(([, modelId]) => modelId)) };
}

/**
 * Brings the persisted search graph of a base up to date in a worker (only new vectors are
 * linked in), then lets open searches use it. Updates of one base run one at a time; calls made
 * while one runs share a single follow-up, which sees every change made until it starts — when
 * they ask for the same `annMinVectors` (below it, the saved graph is dropped). A call with
 * another threshold (the setting changed in between) gets a follow-up of its own, run after the
 * queued one, so the last threshold asked for is the one the saved graph ends up following.
 */
export function updateSearchGraph(
  baseId: number,
  modelId: string,
  { annMinVectors }: GraphOptions
): Promise<GraphReport | null> {
  const key = indexKey(baseId, modelId);
  const slot = graphUpdates.get(key) ?? { tail: Promise.resolve(), queued: null };
  if (slot.queued?.annMinVectors === annMinVectors) {
    return slot.queued.run;
  }
  const run: Promise<GraphReport | null> = slot.tail
    .catch(() => undefined)
    .then(() => {
      if (slot.queued?.run === run) {
        slot.queued = null;
      }
      return runGraphUpdate(baseId, modelId, annMinVectors);
    });
  slot.queued = { annMinVectors, run };
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
