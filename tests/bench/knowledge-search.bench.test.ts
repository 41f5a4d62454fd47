import { commands } from 'vitest/browser';
import { expect, it } from 'vitest';
import { exactTopK, HnswIndex, type ScoredId, type VectorBlock } from '#lib/core/retrieval/index.ts';
import { db, type DocumentVectors } from '#lib/db/index.ts';
import { openSearchIndex } from '#lib/services/knowledge.service.ts';
import { clusteredUnitVectors } from '../unit/fixtures/retrieval-random.ts';
import { percentile, round, type BenchRow } from './stats.ts';

const DIM = 384;
const SIZES = [10_000, 100_000];
const CLUSTERS = 200;
/** Per-dim noise: members sit at cosine ≈ 0.66 to their topic center, nearest neighbours at ≈ 0.5. */
const SPREAD = 0.06;
const QUERIES = 200;
const K = 10;
/** Vectors per IndexedDB row: one row per imported document. */
const ROW_VECTORS = 1_000;
const MODEL = 'bench/synthetic-384';
const M = 16;
const EF_CONSTRUCTION = 100;
/** Used at 100k when the 10k build projects past the budget below. */
const EF_CONSTRUCTION_LOW = 64;
const BUILD_BUDGET_MS = 360_000;
const EF_SEARCH = [32, 64, 128];
const NAIVE_ANCHOR = 'naive per-row JS loop measured p95 ≈ 66–79 ms at 100k on this machine';

const log = (message: string) => console.log(`[bench knowledge-search] ${message}`);
/** Lets the page flush logs and answer Vitest between long synchronous stretches. */
const breathe = () => new Promise((resolve) => setTimeout(resolve, 0));
const mb = (bytes: number) => round(bytes / 2 ** 20, 1);

function heapBytes(): number | undefined {
  return (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize;
}

function recallAt(hits: ScoredId[][], truth: Set<number>[]): number {
  let found = 0;
  hits.forEach((list, q) => {
    found += list.slice(0, K).filter((hit) => truth[q]!.has(hit.id)).length;
  });
  return found / (truth.length * K);
}

/** Times `search` once per query (after a few warm-up calls); returns the hits and per-query ms. */
function timeQueries(queries: Float32Array[], search: (query: Float32Array) => ScoredId[]) {
  for (const query of queries.slice(0, 10)) {
    search(query);
  }
  const ms: number[] = [];
  const hits = queries.map((query) => {
    const started = performance.now();
    const result = search(query);
    ms.push(performance.now() - started);
    return result;
  });
  return { hits, ms };
}

/** Builds one id at a time so progress shows and the page stays responsive; returns build ms. */
async function buildHnsw(block: VectorBlock, efConstruction: number): Promise<{ index: HnswIndex; ms: number }> {
  const index = new HnswIndex(block, { m: M, efConstruction });
  let ms = 0;
  const step = 5_000;
  for (let from = 0; from < block.count; from += step) {
    const started = performance.now();
    for (let row = from; row < Math.min(block.count, from + step); row += 1) {
      index.add(block.ids[row]!);
    }
    ms += performance.now() - started;
    if ((from + step) % 20_000 === 0 || from + step >= block.count) {
      log(`  HNSW: ${Math.min(block.count, from + step)} / ${block.count} added, ${round(ms / 1000, 1)} s`);
    }
    await breathe();
  }
  return { index, ms };
}

async function clearKnowledgeTables(): Promise<void> {
  await db.transaction('rw', [db.knowledgeBases, db.documents, db.chunks, db.vectors], async () => {
    await Promise.all([db.knowledgeBases.clear(), db.documents.clear(), db.chunks.clear(), db.vectors.clear()]);
  });
}

it(
  'knowledge search: exact and HNSW top-10 over 384-d vectors loaded from IndexedDB',
  { timeout: 1_500_000 },
  async () => {
    const largest = Math.max(...SIZES);
    log(`generating ${largest} + ${QUERIES} clustered ${DIM}-d vectors (${CLUSTERS} clusters)`);
    // One draw: each size's base is a prefix of it, and the held-out queries come from the same clusters.
    const all = clusteredUnitVectors(largest + QUERIES, DIM, CLUSTERS, 20_240_917, SPREAD);
    const queries = Array.from({ length: QUERIES }, (_, q) => all.slice((largest + q) * DIM, (largest + q + 1) * DIM));
    await clearKnowledgeTables();

    const rows: BenchRow[] = [];
    const row = (size: number, metric: string, value: number, unit: string, extra: Partial<BenchRow> = {}) =>
      rows.push({ bench: 'knowledge-search', case: `${size / 1000}k × ${DIM}-d`, metric, value, unit, ...extra });
    let nextDocumentId = 1;
    let projectedBuildPerVector = 0;

    try {
      for (const size of SIZES) {
        // ---- Write: one row per 1,000 vectors, like imported documents, in one transaction.
        const baseId = (await db.knowledgeBases.add({ name: `bench ${size}`, createdAt: Date.now() })) as number;
        const records: DocumentVectors[] = [];
        for (let from = 0; from < size; from += ROW_VECTORS) {
          const count = Math.min(ROW_VECTORS, size - from);
          records.push({
            documentId: nextDocumentId++,
            baseId,
            modelId: MODEL,
            dim: DIM,
            chunkIds: Array.from({ length: count }, (_, i) => from + i + 1),
            // A copy, not a view: structured clone would store the whole underlying buffer per row.
            data: all.slice(from * DIM, (from + count) * DIM)
          });
        }
        log(`${size}: writing ${records.length} rows to IndexedDB`);
        let started = performance.now();
        await db.transaction('rw', db.vectors, () => db.vectors.bulkAdd(records));
        const writeMs = performance.now() - started;
        records.length = 0;

        // ---- Cold load: the app's own path from IndexedDB to the packed block (+ an empty BM25).
        log(`${size}: cold load via openSearchIndex`);
        started = performance.now();
        const { block, bm25 } = await openSearchIndex(baseId, MODEL);
        const loadMs = performance.now() - started;
        expect(block.count).toBe(size);
        expect(block.dim).toBe(DIM);
        expect(bm25.search('coffee', 1)).toEqual([]);
        expect(Array.from(block.data.subarray((size - 1) * DIM, size * DIM))).toEqual(
          Array.from(all.subarray((size - 1) * DIM, size * DIM))
        );

        // ---- Exact top-10: the ground truth for recall, too.
        log(`${size}: exact top-${K} × ${QUERIES} queries`);
        const exact = timeQueries(queries, (query) => exactTopK(block, query, K));
        expect(exact.hits.every((hits) => hits.length === K)).toBe(true);
        const truth = exact.hits.map((hits) => new Set(hits.map((hit) => hit.id)));
        const meanTop1 = exact.hits.reduce((sum, hits) => sum + hits[0]!.score, 0) / QUERIES;

        // ---- HNSW build (a lower efConstruction at 100k if the 10k build says it would take too long).
        const efConstruction = projectedBuildPerVector * size > BUILD_BUDGET_MS ? EF_CONSTRUCTION_LOW : EF_CONSTRUCTION;
        log(`${size}: HNSW build, m=${M}, efConstruction=${efConstruction}`);
        const { index, ms: buildMs } = await buildHnsw(block, efConstruction);
        expect(index.size).toBe(size);
        if (efConstruction === EF_CONSTRUCTION) {
          projectedBuildPerVector = (buildMs / size) * 1.3;
        }
        started = performance.now();
        const serialized = index.serialize();
        const serializeMs = performance.now() - started;
        started = performance.now();
        const reloaded = HnswIndex.deserialize(serialized, block);
        const deserializeMs = performance.now() - started;
        expect(reloaded.size).toBe(size);
        expect(reloaded.search(queries[0]!, K, 64)).toEqual(index.search(queries[0]!, K, 64));

        // ---- ANN top-10 at a few beam widths.
        const ann = EF_SEARCH.map((ef) => {
          log(`${size}: HNSW top-${K} × ${QUERIES} queries, ef=${ef}`);
          const { hits, ms } = timeQueries(queries, (query) => index.search(query, K, ef));
          return { ef, ms, recall: recallAt(hits, truth) };
        });
        expect(ann.every((a) => a.recall > 0)).toBe(true);

        const heap = heapBytes();
        const buildNote = `m=${M}, efConstruction=${efConstruction}${
          efConstruction === EF_CONSTRUCTION ? '' : ` (lowered from ${EF_CONSTRUCTION}: 10k build projected > 6 min)`
        }`;
        row(size, 'write to IndexedDB', round(writeMs, 0), 'ms', {
          note: `${size / ROW_VECTORS} rows, one transaction`
        });
        row(size, 'cold load from IndexedDB', round(loadMs, 0), 'ms', {
          note: 'openSearchIndex: block + BM25 (empty)'
        });
        row(size, 'exact top-10 p50', round(percentile(exact.ms, 50)), 'ms');
        row(size, 'exact top-10 p95', round(percentile(exact.ms, 95)), 'ms', {
          target: size === 100_000 ? '≤ 40 ms' : undefined,
          note: `${QUERIES} held-out queries, mean top-1 cosine ${round(meanTop1, 3)}; ${NAIVE_ANCHOR}`
        });
        row(size, 'HNSW build', round(buildMs / 1000, 1), 's', { note: buildNote });
        for (const { ef, ms, recall } of ann) {
          row(size, `HNSW top-10 p50 (ef=${ef})`, round(percentile(ms, 50), 3), 'ms');
          row(size, `HNSW top-10 p95 (ef=${ef})`, round(percentile(ms, 95), 3), 'ms', { target: '≤ 5 ms' });
          row(size, `recall@10 (ef=${ef})`, round(recall, 4), 'ratio', { target: '≥ 0.95', note: 'vs exactTopK' });
        }
        row(size, 'HNSW serialize', round(serializeMs, 1), 'ms');
        row(size, 'HNSW deserialize', round(deserializeMs, 1), 'ms', { note: 'reload of the serialized graph' });
        row(size, 'vector block', mb(block.data.byteLength), 'MB', { note: `${block.data.byteLength} bytes` });
        row(size, 'HNSW serialized', mb(serialized.byteLength), 'MB', { note: `${serialized.byteLength} bytes` });
        if (heap !== undefined) {
          row(size, 'JS heap used', mb(heap), 'MB', {
            note: "performance.memory, whole page: counts typed arrays, incl. the bench's own copy of the generated vectors"
          });
        }
        log(
          `${size}: write ${round(writeMs, 0)} ms, load ${round(loadMs, 0)} ms, exact p95 ` +
            `${round(percentile(exact.ms, 95))} ms, build ${round(buildMs / 1000, 1)} s, ` +
            ann.map((a) => `ef=${a.ef} p95 ${round(percentile(a.ms, 95), 2)} ms r@10 ${round(a.recall, 3)}`).join(', ')
        );
        await commands.writeFile('tests/bench/results/knowledge-search.json', JSON.stringify(rows, null, 2));
      }
    } finally {
      // The bench profile persists; leaving ~190 MB of synthetic vectors in it would skew later runs.
      await clearKnowledgeTables();
    }
  }
);
