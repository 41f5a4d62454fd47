import { describe, expect, it } from 'vitest';
import {
  appendVectors,
  cosine,
  createVectorBlock,
  dot,
  exactTopK,
  normalize,
  removeVectors,
  rowOf,
  scoreIds,
  vectorBlockFrom,
  vectorOf,
  type ScoredId,
  type VectorBlock
} from '#lib/core/retrieval/index.ts';
import { mulberry32, randomUnitVectors } from './fixtures/retrieval-random.ts';

const DIM = 384;

/** The obviously-correct reference: score every row, sort everything. */
function bruteForce(block: VectorBlock, query: Float32Array, k: number, minScore = -Infinity): ScoredId[] {
  const all: ScoredId[] = [];
  for (let row = 0; row < block.count; row += 1) {
    let score = 0;
    for (let i = 0; i < block.dim; i += 1) {
      score += query[i]! * block.data[row * block.dim + i]!;
    }
    if (score >= minScore) {
      all.push({ id: block.ids[row]!, score });
    }
  }
  return all.sort((a, b) => b.score - a.score || a.id - b.id).slice(0, k);
}

function expectSameHits(actual: ScoredId[], expected: ScoredId[]): void {
  expect(actual.map((h) => h.id)).toEqual(expected.map((h) => h.id));
  actual.forEach((hit, i) => expect(hit.score).toBeCloseTo(expected[i]!.score, 5));
}

function blockOf(count: number, dim: number, seed: number, firstId = 0): VectorBlock {
  const block = createVectorBlock(dim);
  appendVectors(
    block,
    Int32Array.from({ length: count }, (_, i) => firstId + i),
    randomUnitVectors(count, dim, seed)
  );
  return block;
}

const query = (dim: number, seed: number) => randomUnitVectors(1, dim, seed);

describe('exactTopK', () => {
  const block = blockOf(3000, DIM, 1, 100);

  it('matches a brute-force sort on many random queries', () => {
    for (let q = 0; q < 100; q += 1) {
      const vector = query(DIM, 1000 + q);
      expectSameHits(exactTopK(block, vector, 10), bruteForce(block, vector, 10));
    }
  });

  it('handles dims that are not a multiple of 4, k of 1, and k beyond the row count', () => {
    const odd = blockOf(50, 13, 2);
    for (let q = 0; q < 20; q += 1) {
      const vector = query(13, 2000 + q);
      expectSameHits(exactTopK(odd, vector, 1), bruteForce(odd, vector, 1));
      const all = exactTopK(odd, vector, 500);
      expect(all).toHaveLength(50);
      expectSameHits(all, bruteForce(odd, vector, 500));
    }
  });

  it('leaves out rows below minScore, and can return nothing', () => {
    for (let q = 0; q < 20; q += 1) {
      const vector = query(DIM, 3000 + q);
      // Just under the 5th best: summation order may move scores in the last bits.
      const bar = bruteForce(block, vector, 5)[4]!.score - 1e-9;
      const hits = exactTopK(block, vector, 10, bar);
      expect(hits).toHaveLength(5);
      expect(hits.every((h) => h.score >= bar)).toBe(true);
      expectSameHits(hits, bruteForce(block, vector, 10, bar));
    }
    expect(exactTopK(block, query(DIM, 1), 10, 1.01)).toEqual([]);
  });

  it('applies the filter and keeps filling up to k', () => {
    const vector = query(DIM, 4000);
    const even = exactTopK(block, vector, 10, -Infinity, (id) => id % 2 === 0);
    expect(even).toHaveLength(10);
    expect(even.every((h) => h.id % 2 === 0)).toBe(true);
    const reference = bruteForce(block, vector, 3000).filter((h) => h.id % 2 === 0);
    expectSameHits(even, reference.slice(0, 10));
  });

  it('returns nothing for k <= 0 or an empty block, and rejects a wrong-sized query', () => {
    expect(exactTopK(block, query(DIM, 5), 0)).toEqual([]);
    expect(exactTopK(createVectorBlock(DIM), query(DIM, 5), 10)).toEqual([]);
    expect(() => exactTopK(block, query(DIM - 1, 5), 10)).toThrow(RangeError);
  });
});

describe('vector block', () => {
  it('grows by doubling over many small appends and keeps every row intact', () => {
    const block = createVectorBlock(8);
    const source = randomUnitVectors(1000, 8, 3);
    const capacities = new Set<number>();
    for (let row = 0; row < 1000; row += 7) {
      const rows = Math.min(7, 1000 - row);
      appendVectors(
        block,
        Array.from({ length: rows }, (_, i) => row + i),
        source.subarray(row * 8, (row + rows) * 8)
      );
      capacities.add(block.ids.length);
    }
    expect(block.count).toBe(1000);
    expect(capacities.size).toBeLessThanOrEqual(6);
    expect(block.data.subarray(0, 8000)).toEqual(source);
    expect(() => appendVectors(block, [1], new Float32Array(7))).toThrow(RangeError);
  });

  it('removes by id with swap-remove, and search agrees with brute force afterwards', () => {
    const block = blockOf(2000, DIM, 4);
    const original = new Map(Array.from({ length: 2000 }, (_, id) => [id, vectorOf(block, id)!.slice()]));
    const random = mulberry32(5);
    const removed = new Set<number>();
    while (removed.size < 700) {
      removed.add(Math.floor(random() * 2000));
    }
    // Include the last rows, which are the ones swapped into holes.
    removed.add(1999);
    removed.add(1998);
    const generation = block.generation;
    expect(removeVectors(block, [...removed, 123_456])).toBe(removed.size);
    expect(block.count).toBe(2000 - removed.size);
    expect(block.generation).toBeGreaterThan(generation);
    expect(removeVectors(block, [123_456])).toBe(0);

    for (let id = 0; id < 2000; id += 1) {
      if (removed.has(id)) {
        expect(rowOf(block, id)).toBe(-1);
      } else {
        expect(vectorOf(block, id)).toEqual(original.get(id));
      }
    }
    for (let q = 0; q < 30; q += 1) {
      const vector = query(DIM, 6000 + q);
      const hits = exactTopK(block, vector, 20);
      expect(hits.some((h) => removed.has(h.id))).toBe(false);
      expectSameHits(hits, bruteForce(block, vector, 20));
    }

    // Appending after removal reuses the freed tail.
    appendVectors(block, [5000], original.get(0)!);
    expect(exactTopK(block, original.get(0)!, 1)[0]!.id).toBe(removed.has(0) ? 5000 : 0);
  });

  it('adopts persisted arrays', () => {
    const data = randomUnitVectors(10, 4, 7);
    const block = vectorBlockFrom(4, Int32Array.from([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]), data);
    expect(block.count).toBe(10);
    expect(exactTopK(block, data.slice(0, 4), 1)[0]!.id).toBe(9);
    expect(() => vectorBlockFrom(4, new Int32Array(2), data)).toThrow(RangeError);
  });

  it('scores just the given ids', () => {
    const block = blockOf(100, 16, 8);
    const vector = query(16, 9);
    const scores = scoreIds(block, vector, [3, 50, 777]);
    expect([...scores.keys()].sort((a, b) => a - b)).toEqual([3, 50]);
    expect(scores.get(50)).toBeCloseTo(dot(vector, vectorOf(block, 50)!), 6);
  });
});

describe('vector math', () => {
  it('normalizes in place, and cosine ignores length', () => {
    const v = normalize(Float32Array.from([3, 4]));
    expect(Array.from(v)).toEqual([expect.closeTo(0.6, 6), expect.closeTo(0.8, 6)]);
    expect(cosine(Float32Array.from([1, 2, 3]), Float32Array.from([2, 4, 6]))).toBeCloseTo(1, 6);
    expect(cosine(Float32Array.from([1, 0]), Float32Array.from([0, 5]))).toBe(0);
    expect(cosine(new Float32Array(3), Float32Array.from([1, 2, 3]))).toBe(0);
    expect(Array.from(normalize(new Float32Array(3)))).toEqual([0, 0, 0]);
    expect(() => dot(new Float32Array(2), new Float32Array(3))).toThrow(RangeError);
  });
});
