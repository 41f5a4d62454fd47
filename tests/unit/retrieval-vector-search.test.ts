import { describe, expect, it } from 'vitest';
import {
  appendVectors,
  createVectorBlock,
  exactTopK,
  removeVectors,
  updateGraph,
  VectorSearch,
  wantsGraph,
  type VectorBlock
} from '#lib/core/retrieval/index.ts';
import { clusteredUnitVectors } from './fixtures/retrieval-random.ts';

const DIM = 32;
const all = clusteredUnitVectors(1_300, DIM, 20, 7, 0.08);
const row = (i: number) => all.slice(i * DIM, (i + 1) * DIM);

/** A block of vectors `from..to` of the fixture, with ids `1000 + i`. */
function blockOf(from: number, to: number): VectorBlock {
  const block = createVectorBlock(DIM);
  appendVectors(
    block,
    Int32Array.from({ length: to - from }, (_, i) => 1000 + from + i),
    all.subarray(from * DIM, to * DIM)
  );
  return block;
}

describe('search graph upkeep', () => {
  it('needs a graph only from the threshold on', () => {
    expect(wantsGraph(9_999)).toBe(false);
    expect(wantsGraph(10_000)).toBe(true);
    expect(wantsGraph(5, 5)).toBe(true);
  });

  it('builds from nothing, then links in only the vectors added since', () => {
    const first = updateGraph(blockOf(0, 800), undefined);
    expect(first).toMatchObject({ added: 800, rebuilt: true });
    const saved = first.index.serialize();

    const progress: [number, number][] = [];
    const second = updateGraph(blockOf(0, 1000), saved, (done, total) => progress.push([done, total]));
    expect(second).toMatchObject({ added: 200, rebuilt: false });
    expect(second.index.size).toBe(1000);
    expect(progress.at(-1)).toEqual([200, 200]);
    expect(progress.every(([done, total]) => done <= total && total === 200)).toBe(true);
  });

  it('hides vectors the block lost, and rebuilds once too many are gone', () => {
    const saved = updateGraph(blockOf(0, 1000), undefined).index.serialize();
    const shrunk = blockOf(0, 1000);
    removeVectors(shrunk, [1000, 1001, 1002]);
    const few = updateGraph(shrunk, saved);
    expect(few).toMatchObject({ added: 0, rebuilt: false });
    expect(few.index.size).toBe(997);
    expect(few.index.search(row(1), 5).map((hit) => hit.id)).not.toContain(1001);

    const half = blockOf(500, 1000);
    const rebuilt = updateGraph(half, saved);
    expect(rebuilt).toMatchObject({ added: 500, rebuilt: true });
    expect(rebuilt.index.deletedCount).toBe(0);
  });

  it('rebuilds over a corrupt or mismatched saved graph', () => {
    expect(updateGraph(blockOf(0, 100), new ArrayBuffer(12))).toMatchObject({ rebuilt: true, added: 100 });
    const otherDim = createVectorBlock(DIM * 2);
    appendVectors(otherDim, [1], new Float32Array(DIM * 2).fill(0.1));
    const saved = updateGraph(blockOf(0, 100), undefined).index.serialize();
    expect(updateGraph(otherDim, saved)).toMatchObject({ rebuilt: true, added: 1 });
  });
});

describe('VectorSearch', () => {
  const queries = Array.from({ length: 40 }, (_, q) => row(1_200 + q));

  it('is the exact scan until a graph is attached', () => {
    const search = new VectorSearch(blockOf(0, 1000));
    expect(search.graph).toBeNull();
    expect(search.uncovered).toBe(1000);
    for (const query of queries.slice(0, 5)) {
      expect(search.topK(query, 10)).toEqual(exactTopK(search.block, query, 10));
    }
    expect(search.attachGraph(new ArrayBuffer(64))).toBe(false);
    expect(search.graph).toBeNull();
  });

  it('searches through the graph, and scans exactly what the graph does not cover yet', () => {
    const saved = updateGraph(blockOf(0, 1000), undefined).index.serialize();
    const block = blockOf(0, 1200);
    const search = new VectorSearch(block);
    expect(search.attachGraph(saved)).toBe(true);
    expect(search.uncovered).toBe(200);
    // A vector imported after the graph was saved is its own nearest neighbour.
    expect(search.topK(row(1_150), 1)[0]).toMatchObject({ id: 2_150 });

    let found = 0;
    for (const query of queries) {
      const truth = new Set(exactTopK(block, query, 10).map((hit) => hit.id));
      const hits = search.topK(query, 10);
      expect(hits).toHaveLength(10);
      expect(hits.map((hit) => hit.score)).toEqual([...hits.map((hit) => hit.score)].sort((a, b) => b - a));
      found += hits.filter((hit) => truth.has(hit.id)).length;
    }
    expect(found / (queries.length * 10)).toBeGreaterThanOrEqual(0.95);
  });
});
