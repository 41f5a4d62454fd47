import { beforeAll, describe, expect, it } from 'vitest';
import {
  appendVectors,
  createVectorBlock,
  exactTopK,
  HnswIndex,
  removeVectors,
  type ScoredId,
  type VectorBlock
} from '#lib/core/retrieval/index.ts';
import { clusteredUnitVectors, mulberry32 } from './fixtures/retrieval-random.ts';

const DIM = 384;
const COUNT = 5000;
const QUERIES = 200;
const K = 10;

/** Share of the true top-K that the approximate hits found, over all queries. */
function recall(hits: ScoredId[][], truth: Set<number>[]): number {
  let found = 0;
  hits.forEach((list, q) => {
    found += list.slice(0, K).filter((h) => truth[q]!.has(h.id)).length;
  });
  return found / (truth.length * K);
}

describe('HNSW index', { timeout: 120_000 }, () => {
  let block: VectorBlock;
  let index: HnswIndex;
  let queries: Float32Array[];
  /** Exact top-K ids per query, computed once. */
  let truth: Set<number>[];

  beforeAll(() => {
    // Held-out queries drawn from the same topic clusters as the base, like real questions.
    const all = clusteredUnitVectors(COUNT + QUERIES, DIM, 50, 11, 0.06);
    block = createVectorBlock(DIM);
    appendVectors(
      block,
      Int32Array.from({ length: COUNT }, (_, i) => 10 + i),
      all.subarray(0, COUNT * DIM)
    );
    queries = Array.from({ length: QUERIES }, (_, q) => all.slice((COUNT + q) * DIM, (COUNT + q + 1) * DIM));
    const started = performance.now();
    index = HnswIndex.build(block, { m: 16, efConstruction: 100 });
    console.log(`HNSW build: ${COUNT} x ${DIM}-d in ${(performance.now() - started).toFixed(0)} ms`);
    truth = queries.map((query) => new Set(exactTopK(block, query, K).map((h) => h.id)));
    // A 5k-node build takes seconds, and many more on a busy 2-core CI machine: correctness is checked here, not time.
  }, 180_000);

  it('reaches recall@10 >= 0.95 against exact search on clustered vectors', () => {
    const recalls = [16, 32, 64, 128].map((ef) => {
      const started = performance.now();
      const hits = queries.map((query) => index.search(query, K, ef));
      const perQuery = (performance.now() - started) / QUERIES;
      const measured = recall(hits, truth);
      console.log(`HNSW recall@10 ef=${ef}: ${measured.toFixed(4)} (${perQuery.toFixed(3)} ms/query)`);
      return measured;
    });
    expect(index.size).toBe(COUNT);
    expect(recalls[2]).toBeGreaterThanOrEqual(0.95);
  });

  it('returns sorted hits with exact scores, honors minScore, and finds a stored vector first', () => {
    const hits = index.search(queries[0]!, K);
    expect(hits).toHaveLength(K);
    const exact = new Map(exactTopK(block, queries[0]!, COUNT).map((h) => [h.id, h.score]));
    hits.forEach((hit, i) => {
      expect(hit.score).toBeCloseTo(exact.get(hit.id)!, 6);
      expect(i === 0 || hits[i - 1]!.score >= hit.score).toBe(true);
    });
    const bar = hits[4]!.score;
    expect(index.search(queries[0]!, K, 64, bar).every((h) => h.score >= bar)).toBe(true);
    for (const row of [0, 1234, COUNT - 1]) {
      const stored = block.data.slice(row * DIM, (row + 1) * DIM);
      expect(index.search(stored, 1)[0]!.id).toBe(block.ids[row]);
    }
  });

  it('round-trips through an ArrayBuffer, even over a block reloaded in another row order', () => {
    const buffer = index.serialize();
    console.log(`HNSW serialized: ${(buffer.byteLength / 1024).toFixed(0)} KiB for ${COUNT} nodes`);
    // Rows come back from IndexedDB in whatever order: reverse them.
    const reversed = createVectorBlock(DIM);
    for (let row = block.count - 1; row >= 0; row -= 1) {
      appendVectors(reversed, [block.ids[row]!], block.data.subarray(row * DIM, (row + 1) * DIM));
    }
    const restored = HnswIndex.deserialize(buffer, reversed);
    expect(restored.size).toBe(index.size);
    for (const query of queries.slice(0, 50)) {
      expect(restored.search(query, K, 48)).toEqual(index.search(query, K, 48));
    }
    // Nothing is lost or reordered: serializing again gives the same bytes.
    expect(new Uint8Array(restored.serialize())).toEqual(new Uint8Array(buffer));
    expect(() => HnswIndex.deserialize(new ArrayBuffer(64), block)).toThrow(RangeError);
    expect(() => HnswIndex.deserialize(buffer, createVectorBlock(8))).toThrow(RangeError);
  });

  it('adds vectors incrementally as they arrive', () => {
    const fresh = createVectorBlock(DIM);
    const incremental = new HnswIndex(fresh);
    expect(incremental.search(queries[0]!, K)).toEqual([]);
    const extra = clusteredUnitVectors(600, DIM, 10, 12);
    for (let batch = 0; batch < 6; batch += 1) {
      const ids = Array.from({ length: 100 }, (_, i) => batch * 100 + i);
      appendVectors(fresh, ids, extra.subarray(batch * 100 * DIM, (batch + 1) * 100 * DIM));
      for (const id of ids) {
        expect(incremental.add(id)).toBe(true);
      }
    }
    expect(incremental.add(5)).toBe(false);
    expect(() => incremental.add(99_999)).toThrow(RangeError);
    expect(incremental.size).toBe(600);
    for (let row = 0; row < 600; row += 37) {
      expect(incremental.search(extra.subarray(row * DIM, (row + 1) * DIM), 1)[0]!.id).toBe(row);
    }
  });

  it('never returns deleted ids, before or after the block drops their vectors', () => {
    const random = mulberry32(13);
    const deleted = new Set<number>();
    while (deleted.size < COUNT / 5) {
      deleted.add(10 + Math.floor(random() * COUNT));
    }
    // Also delete every query's true nearest neighbors, the hardest case.
    for (const query of queries.slice(0, 20)) {
      for (const hit of exactTopK(block, query, 3)) {
        deleted.add(hit.id);
      }
    }
    for (const id of deleted) {
      expect(index.remove(id)).toBe(true);
    }
    expect(index.remove([...deleted][0]!)).toBe(false);
    expect(index.size).toBe(COUNT - deleted.size);
    expect(index.deletedCount).toBe(deleted.size);

    const live = (id: number) => !deleted.has(id);
    const liveTruth = queries.map((query) => new Set(exactTopK(block, query, K, -Infinity, live).map((h) => h.id)));
    const check = (target: HnswIndex): number => {
      const hits = queries.map((query) => target.search(query, 50, 100));
      expect(hits.flat().filter((h) => deleted.has(h.id))).toEqual([]);
      return recall(hits, liveTruth);
    };
    const recallMarked = check(index);

    // Round-trip with tombstones, then let the block drop the deleted vectors (rows get swapped).
    const restored = HnswIndex.deserialize(index.serialize(), block);
    removeVectors(block, deleted);
    const recallDropped = check(index);
    const recallRestored = check(restored);
    console.log(
      `HNSW recall@10 with ${deleted.size} deleted: ${recallMarked.toFixed(4)} marked, ` +
        `${recallDropped.toFixed(4)} after block removal, ${recallRestored.toFixed(4)} restored`
    );
    expect(Math.min(recallMarked, recallDropped, recallRestored)).toBeGreaterThanOrEqual(0.95);

    // A vector that vanishes from the block without remove() is hidden too.
    const sneaky = block.ids[0]!;
    removeVectors(block, [sneaky]);
    expect(index.has(sneaky)).toBe(true);
    expect(index.search(queries[0]!, COUNT, 200).some((h) => h.id === sneaky)).toBe(false);
    expect(index.has(sneaky)).toBe(false);
  });
});
